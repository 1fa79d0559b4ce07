"""Adherence on a day computed by hand (r1, 2026-11-10, in org A's time zone, UTC)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta

from server.models import Plan, Position, Visit
from shared.enums import VisitStatus
from tests.server.world import WORLD as W

DAY = date(2026, 11, 10)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def test_adherence_of_a_day_computed_by_hand(client, as_user, db) -> None:
    # Planned: four half-hour visits at 09:00, 10:00, 11:00, 14:00.
    # Done: the first on time; the third before the second (out of order); the second
    # 80 minutes late; the fourth missed.
    planned = [(at(9), at(9, 30)), (at(10), at(10, 30)), (at(11), at(11, 30)), (at(14), at(14, 30))]
    actual = [
        (VisitStatus.completed, at(9, 5), at(9, 35)),
        (VisitStatus.completed, at(11, 20), at(11, 40)),
        (VisitStatus.completed, at(10), at(10, 20)),
        (VisitStatus.missed, None, None),
    ]
    visit_ids = [uuid.uuid4() for _ in planned]
    for visit_id, (start, end), (status, check_in, check_out) in zip(visit_ids, planned, actual, strict=True):
        db.add(
            Visit(
                id=visit_id,
                org_id=W.org_a,
                customer_id=W.c1,
                rep_id=W.r1,
                planned_start=start,
                planned_end=end,
                status=status,
                check_in_at=check_in,
                check_out_at=check_out,
            )
        )
    plan_id = uuid.uuid4()
    db.add(
        Plan(
            id=plan_id,
            org_id=W.org_a,
            rep_id=W.r1,
            plan_date=DAY,
            distance_m=5000.0,
            stops=[
                {"visit_id": str(v), "customer_id": str(W.c1), "kind": "recurring", "start": s.isoformat()}
                for v, (s, _) in zip(visit_ids, planned, strict=True)
            ],
        )
    )
    # The track: two 0.01-degree steps north (1,111.95 m each); a 500 m-accuracy fix far away is left
    # out, and so is a fix of the day before.
    track = [(at(8, 30), 45.00, 4.0, 5.0), (at(9, 50), 45.01, 4.0, 8.0), (at(10, 40), 45.50, 4.5, 500.0)]
    track += [(at(12), 45.02, 4.0, 6.0), (at(8) - timedelta(days=1), 40.0, 4.0, 5.0)]
    for when, lat, lon, accuracy in track:
        db.add(
            Position(
                org_id=W.org_a,
                device_id=W.r1_phone,
                user_id=W.r1,
                device_time=when,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy,
            )
        )
    db.flush()

    answer = client.get(f"/api/v1/plans/{plan_id}/adherence", headers=as_user("m1"))
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    step = 6_371_008.8 * math.radians(0.01)
    assert figures == {
        "plan_id": str(plan_id),
        "planned": 4,
        "done": 3,
        "missed": 1,
        "out_of_order": 1,
        "late": 1,
        "planned_distance_m": 5000.0,
        "driven_distance_m": round(2 * step, 1),
        "on_site_s_planned": 4 * 1800.0,
        "on_site_s_actual": 1800.0 + 1200.0 + 1200.0,
    }
    assert client.get(f"/api/v1/plans/{plan_id}/adherence", headers=as_user("r3")).status_code == 404
