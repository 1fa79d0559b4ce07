"""Adherence: a published day against what happened.

- planned: the plan's stops (a stop marked unfit by a re-plan included);
- done: their visits completed;
- missed: planned stops whose visit was not completed (missed, cancelled,
  or still planned once the day is over);
- out_of_order: done visits outside the longest run done in planned order
  (the fewest visits that, moved, would make the order the planned one);
- late: done visits checked in more than 15 minutes after their planned start;
- planned_distance_m: the plan's; driven_distance_m: along the rep's GPS track
  that day (fixes flagged inaccurate, > 100 m, left out);
- on_site_s: planned (planned end - start) against actual (check-out - check-in).
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.models import Position, Visit
from server.planning.plans import get_plan
from server.planning.runs import organisation_zone
from shared.enums import VisitStatus
from shared.geo import haversine_m

LATE_AFTER = timedelta(minutes=15)
TRACK_ACCURACY_M = 100.0


class Adherence(BaseModel):
    plan_id: uuid.UUID
    planned: int
    done: int
    missed: int
    out_of_order: int
    late: int
    planned_distance_m: float
    driven_distance_m: float
    on_site_s_planned: float
    on_site_s_actual: float


def _missed(visit: Visit, now: datetime) -> bool:
    if visit.status in (VisitStatus.missed, VisitStatus.cancelled, VisitStatus.skipped):
        return True
    # Still planned after its planned end: it did not happen (yet it may, later that day, as unplanned).
    return visit.status is VisitStatus.planned and visit.planned_end is not None and visit.planned_end < now


def plan_adherence(session: Session, actor: Actor, plan_id: uuid.UUID, *, now: datetime | None = None) -> Adherence:
    now = now or datetime.now(UTC)
    plan = get_plan(session, actor, plan_id)
    zone = organisation_zone(session, plan.org_id)
    visit_ids = [uuid.UUID(stop["visit_id"]) for stop in plan.stops if stop.get("visit_id")]
    visits = {visit.id: visit for visit in session.scalars(select(Visit).where(Visit.id.in_(visit_ids)))}
    ordered = [visits[visit_id] for visit_id in visit_ids if visit_id in visits]
    done = [visit for visit in ordered if visit.status is VisitStatus.completed]
    planned_position = {visit.id: index for index, visit in enumerate(ordered)}
    done_in_time_order = sorted(
        done, key=lambda v: v.check_in_at or v.check_out_at or datetime.max.replace(tzinfo=zone)
    )
    in_order = _longest_increasing([planned_position[visit.id] for visit in done_in_time_order])
    late = sum(
        1
        for visit in done
        if visit.check_in_at is not None
        and visit.planned_start is not None
        and visit.check_in_at - visit.planned_start > LATE_AFTER
    )
    day_begins = datetime.combine(plan.plan_date, time(0), tzinfo=zone)
    return Adherence(
        plan_id=plan.id,
        planned=len(plan.stops),
        done=len(done),
        missed=sum(1 for visit in ordered if _missed(visit, now)),
        out_of_order=len(done) - in_order,
        late=late,
        planned_distance_m=round(plan.distance_m, 1),
        driven_distance_m=round(_driven_m(session, plan.org_id, plan.rep_id, day_begins), 1),
        on_site_s_planned=sum(
            (v.planned_end - v.planned_start).total_seconds() for v in ordered if v.planned_start and v.planned_end
        ),
        on_site_s_actual=sum(
            (v.check_out_at - v.check_in_at).total_seconds() for v in done if v.check_in_at and v.check_out_at
        ),
    )


def _longest_increasing(values: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    for value in values:
        at = bisect.bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
        else:
            tails[at] = value
    return len(tails)


def _driven_m(session: Session, org_id: uuid.UUID, rep_id: uuid.UUID, day_begins: datetime) -> float:
    fixes = session.execute(
        select(Position.lat, Position.lon, Position.accuracy_m)
        .where(
            Position.org_id == org_id,
            Position.user_id == rep_id,
            Position.device_time >= day_begins,
            Position.device_time < day_begins + timedelta(days=1),
            Position.valid,
        )
        .order_by(Position.device_time)
    ).all()
    track = [(lat, lon) for lat, lon, accuracy in fixes if accuracy is None or accuracy <= TRACK_ACCURACY_M]
    return sum(haversine_m(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(track))
