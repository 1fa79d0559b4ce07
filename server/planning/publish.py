"""Publishing a run: its proposal becomes plans and planned visits, in one transaction.

For every rep and day of the run's horizon:
- a stop at a customer who already has a planned (not fixed) visit that day
  keeps that visit, moved to the new time, so a phone that holds it sees an
  edit, not a delete and an insert;
- any other stop gets a new planned visit (`planned_start` = service start,
  `planned_end` = departure); a fixed appointment's stop is its own visit;
- the day's planned visits the new plan no longer holds are cancelled;
- visits in progress, completed or fixed are never touched;
- the `plans` row of the day holds the stops in order, with their visit ids.

Every write goes through the resources' write path (policies, row versions,
the sync change log), so synced phones receive it through the ordinary pull.
Before writing, the input the run read is read again: when its watermark
differs, the data changed after the run read it and publishing answers 409
`PLAN_STALE` (run again).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor, load_actor
from server.access.policy import WriteContext
from server.errors import Conflict, NotFound
from server.models import Plan, PlanningRun, User, Visit
from server.planning.repository import load_planning_input
from server.planning.resources import plan_resource
from server.planning.runs import get_run, organisation_zone, parts_of, require_planner, start_date_of
from server.visits.resources import visit_resource
from shared.enums import PlanningRunStatus, VisitStatus

RepDate = tuple[uuid.UUID, date]


def publish_run(session: Session, actor: Actor, run_id: uuid.UUID, *, now: datetime | None = None) -> PlanningRun:
    require_planner(actor)
    run = get_run(session, actor, run_id, for_update=True)
    if run.status is not PlanningRunStatus.succeeded:
        raise Conflict(
            f"The run is {run.status}; only a succeeded run can be published",
            code="RUN_NOT_PUBLISHABLE",
            extra={"status": str(run.status)},
        )
    _check_input_unchanged(session, run)
    zone = organisation_zone(session, run.org_id)
    ctx = WriteContext(session, actor)
    days = [dict(day, stops=[dict(stop) for stop in day["stops"]]) for day in run.days or []]
    proposed = {(uuid.UUID(day["rep_id"]), date.fromisoformat(day["date"])): day for day in days}
    rep_ids = [uuid.UUID(rep_id) for rep_id in run.params["rep_ids"]]
    first = start_date_of(run)
    dates = [first + timedelta(days=offset) for offset in range(int(run.params["days"]))]
    existing = _visits_in_horizon(session, run.org_id, rep_ids, dates[0], dates[-1], zone)
    plans = _plans_in_horizon(session, run.org_id, rep_ids, dates[0], dates[-1])
    for rep_id in rep_ids:
        for day_date in dates:
            key = (rep_id, day_date)
            _publish_day(ctx, key, proposed.get(key), existing.get(key, []), plans.get(key))
    run.days = days
    run.status = PlanningRunStatus.published
    run.published_at = now or datetime.now(UTC)
    run.published_by = actor.user_id
    session.flush()
    return run


def publish_run_as_creator(session: Session, run_id: uuid.UUID) -> PlanningRun:
    """Publish on behalf of the run's creator (a run asked with `publish: true`)."""
    run = session.get(PlanningRun, run_id)
    creator = None if run is None else session.get(User, run.created_by)
    if run is None or creator is None:
        raise NotFound(f"planning run {run_id} not found")
    return publish_run(session, load_actor(session, creator), run_id)


def _check_input_unchanged(session: Session, run: PlanningRun) -> None:
    start, days = start_date_of(run), int(run.params["days"])
    for part in parts_of(session, [run.id])[run.id]:
        rep_ids = [uuid.UUID(rep_id) for rep_id in part.rep_ids]
        now = load_planning_input(session, run.org_id, rep_ids, start, days).watermark
        if now != part.watermark:
            raise Conflict(
                "The data this run read has changed since (customers, visits, absences, reps or settings); "
                "start a new run",
                code="PLAN_STALE",
            )


def _visits_in_horizon(
    session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID], first: date, last: date, zone: ZoneInfo
) -> dict[RepDate, list[Visit]]:
    begins = datetime.combine(first, time(0), tzinfo=zone)
    ends = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    visits = session.scalars(
        select(Visit)
        .where(
            Visit.org_id == org_id,
            Visit.rep_id.in_(rep_ids),
            Visit.deleted_at.is_(None),
            Visit.planned_start >= begins,
            Visit.planned_start < ends,
        )
        .order_by(Visit.planned_start, Visit.id)
        .with_for_update()
    )
    by_day: dict[RepDate, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.planned_start is not None:
            by_day[(visit.rep_id, visit.planned_start.astimezone(zone).date())].append(visit)
    return by_day


def _plans_in_horizon(
    session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID], first: date, last: date
) -> dict[RepDate, Plan]:
    plans = session.scalars(
        select(Plan)
        .where(Plan.org_id == org_id, Plan.rep_id.in_(rep_ids), Plan.plan_date >= first, Plan.plan_date <= last)
        .with_for_update()
    )
    return {(plan.rep_id, plan.plan_date): plan for plan in plans}


def _publish_day(
    ctx: WriteContext, key: RepDate, day: dict[str, Any] | None, visits: list[Visit], plan: Plan | None
) -> None:
    rep_id, day_date = key
    # Planned visits the new plan may reuse, by customer, earliest first.
    reusable: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.status is VisitStatus.planned and not visit.fixed:
            reusable[str(visit.customer_id)].append(visit)
    held: set[uuid.UUID] = set()
    stops = day["stops"] if day else []
    for stop in stops:
        if stop["kind"] == "appointment" and stop.get("visit_id"):
            held.add(uuid.UUID(stop["visit_id"]))  # a fixed visit: it keeps its own time
            continue
        start, end = datetime.fromisoformat(stop["start"]), datetime.fromisoformat(stop["departure"])
        candidates = reusable.get(stop["customer_id"])
        if candidates:
            visit = candidates.pop(0)
            changes = {
                name: value
                for name, value in (("planned_start", start), ("planned_end", end))
                if getattr(visit, name) != value
            }
            if changes:
                visit_resource.change(ctx, visit, changes)
        else:
            visit = visit_resource.insert(
                ctx,
                {
                    "customer_id": uuid.UUID(stop["customer_id"]),
                    "rep_id": rep_id,
                    "planned_start": start,
                    "planned_end": end,
                    "status": VisitStatus.planned,
                },
            )
        held.add(visit.id)
        stop["visit_id"] = str(visit.id)
    for leftovers in reusable.values():
        for visit in leftovers:
            if visit.id not in held:
                visit_resource.change(ctx, visit, {"status": VisitStatus.cancelled})
    plan_values: dict[str, Any] = {
        "stops": [
            {
                "visit_id": stop["visit_id"],
                "customer_id": stop["customer_id"],
                "kind": stop["kind"],
                "arrival": stop["arrival"],
                "start": stop["start"],
                "departure": stop["departure"],
            }
            for stop in stops
        ],
        "distance_m": float(day["distance_m"]) if day else 0.0,
        "duration_s": float(day["duration_s"]) if day else 0.0,
    }
    if plan is None:
        if not stops:
            return  # nothing planned that day, and nothing was before
        plan_resource.insert(ctx, {"rep_id": rep_id, "plan_date": day_date, **plan_values})
        return
    if plan.deleted_at is not None:
        plan_resource.restore(ctx, plan)
    plan_resource.change(ctx, plan, plan_values)
