"""The roll-up of closed days stays true to the visits: an edit of a visit or an order made
after a report was computed shows in the next one, a change of time zone recuts the days,
and today is always read live."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from server.models import Order, Organization, ReportRollup, Visit
from shared.enums import VisitStatus
from tests.server.reports.conftest import paris
from tests.server.reports.test_reports import by_rep, get
from tests.server.world import WORLD as W


def r1(client, as_user, name: str = "kpis", **params: str) -> dict:
    return by_rep(get(client, as_user, "m1", name, **params).json())["r1"]


def test_edits_after_a_report_show_in_the_next_one(client, as_user, db: Session, week) -> None:
    before = r1(client, as_user)
    assert (before["missed"], before["productive"]) == (1, 2)
    rollup = db.scalar(select(ReportRollup).where(ReportRollup.org_id == W.org_a))
    assert rollup is not None and (rollup.first_day, rollup.last_day) == (date(2026, 10, 5), date(2026, 10, 7))

    # The missed visit was done after all (a late sync); c2 ordered on Monday too.
    db.execute(
        update(Visit)
        .where(Visit.rep_id == W.r1, Visit.status == VisitStatus.missed, Visit.planned_start == paris(5, 14))
        .values(status=VisitStatus.completed, check_in_at=paris(5, 14), check_out_at=paris(5, 14, 30))
    )
    db.add(Order(org_id=W.org_a, customer_id=W.c2, order_date=date(2026, 10, 5), amount=Decimal("40.00")))
    db.flush()
    after = r1(client, as_user)
    assert (after["missed"], after["planned_done"], after["visits_completed"]) == (0, 4, 5)
    assert after["productive"] == 4  # the visit just completed at c1, and the unplanned one at c2
    assert after["time_on_site_h"] == round((95 + 30) / 60, 2)


def test_a_change_of_time_zone_recuts_the_days(client, as_user, db: Session, week) -> None:
    days = {row["day"] for row in get(client, as_user, "m1", "visits", group_by="day", rep_id=str(W.r1)).json()["rows"]}
    assert days == {"2026-10-05", "2026-10-06"}
    db.execute(update(Organization).where(Organization.id == W.org_a).values(timezone="UTC"))
    db.flush()
    rows = get(client, as_user, "m1", "visits", group_by="day", rep_id=str(W.r1)).json()["rows"]
    # In UTC the 01:30 Paris visit (23:30 UTC) belongs to Monday.
    assert {row["day"]: row["figures"]["visits_completed"] for row in rows} == {"2026-10-05": 4}


def test_today_is_read_live_and_earlier_days_from_the_roll_up(client, as_user, db: Session) -> None:
    today = datetime.now(UTC).date()
    period = {"start": (today - timedelta(days=3)).isoformat(), "end": today.isoformat()}
    first = r1(client, as_user, "plan-adherence", **period)
    planned_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    db.add(
        Visit(
            org_id=W.org_a,
            customer_id=W.c1,
            rep_id=W.r1,
            planned_start=planned_at,
            planned_end=planned_at + timedelta(minutes=30),
        )
    )
    db.flush()
    second = r1(client, as_user, "plan-adherence", **period)
    assert second["planned"] == first["planned"] + 1
    rollup = db.scalar(select(ReportRollup).where(ReportRollup.org_id == W.org_a))
    assert rollup is not None and rollup.last_day == today - timedelta(days=1)  # today is never rolled up
    assert db.execute(text("SELECT count(*) FROM report_visit_days WHERE day >= :d"), {"d": today}).scalar() == 0
