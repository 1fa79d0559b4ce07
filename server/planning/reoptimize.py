"""Re-planning the rest of a published day from where the rep is, when they are.

Visits completed, in progress, missed or cancelled stay where they were in
the plan; the planned ones (fixed appointments at their own time) are routed
again from the position, starting at `now`, inside the rep's hours, the
customers' windows and what is left of the lunch window, back home at the end.
The plan and its visits' planned times are saved through the write path, so
sync carries them to the phone. A visit that no longer fits stays planned,
at the end of the stops, marked `unfit` for the rep and the manager to decide.

Default position: the rep's last GPS fix when it is newer than their last
check-out that day, else the customer they checked out from last, else
where their day starts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.model import Break, Problem, Rep
from routing.model import Visit as RoutingVisit
from routing.solve import solve
from server.access.actor import Actor
from server.access.policy import WriteContext
from server.api.schemas import StrictModel
from server.errors import Conflict, Forbidden
from server.geo import point_out
from server.models import Customer, LastPosition, Plan, Visit
from server.planning.job import travel_between
from server.planning.plans import get_plan
from server.planning.problem import WeeklySpans, build_problem, seconds_of_day, spans_on
from server.planning.repository import load_planning_input
from server.planning.resources import plan_resource
from server.visits.resources import visit_resource
from shared.enums import WEEKDAYS, Role, VisitStatus

# The solver's budget: a 25-stop day converges well within it, leaving room for the request.
REOPTIMIZE_TIME_LIMIT_S = 0.6
UNFIT_PENALTY = 1_000_000.0


class Position(StrictModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ReoptimizeRequest(StrictModel):
    position: Position | None = Field(default=None, description="Default: the rep's last fix or last customer")
    now: AwareDatetime | None = Field(default=None, description="Default: the server's clock")


def reoptimize_plan(
    session: Session, actor: Actor, plan_id: uuid.UUID, body: ReoptimizeRequest, *, osrm_url: str | None = None
) -> Plan:
    plan = get_plan(session, actor, plan_id, for_update=True)
    if actor.is_rep and plan.rep_id != actor.user_id:  # visibility already hides other reps' days
        raise Forbidden("Reps re-plan their own day only", code="FORBIDDEN_ROLE")
    data = load_planning_input(session, actor.org_id, [plan.rep_id], plan.plan_date, 1)
    zone = data.settings.zone
    now = (body.now or datetime.now(UTC)).astimezone(zone)
    if now.date() > plan.plan_date:
        raise Conflict(f"The day {plan.plan_date} is over", code="DAY_OVER")
    problem = build_problem(data)
    shifts = problem.shifts.get(0, [])
    if not shifts:
        raise Conflict(
            f"The rep has no working hours on {plan.plan_date} (hours, absence or holiday)", code="NOT_A_WORKING_DAY"
        )
    rep_day = shifts[0]
    now_s = seconds_of_day(now) if now.date() == plan.plan_date else rep_day.shift[0]
    if now_s >= rep_day.shift[1]:
        raise Conflict(f"The rep's working day ended at {_clock(rep_day.shift[1])}", code="DAY_OVER")

    visit_ids = [uuid.UUID(stop["visit_id"]) for stop in plan.stops if stop.get("visit_id")]
    visits = {
        visit.id: visit for visit in session.scalars(select(Visit).where(Visit.id.in_(visit_ids)).with_for_update())
    }
    kept, open_visits = [], []
    for stop in plan.stops:
        visit = visits.get(uuid.UUID(stop["visit_id"])) if stop.get("visit_id") else None
        if visit is not None and visit.status is VisitStatus.planned and visit.deleted_at is None:
            open_visits.append(visit)
        else:
            kept.append(stop)  # done, in progress, missed or cancelled: it stays where it was
    locations = {
        customer_id: point_out(location)
        for customer_id, location in session.execute(
            select(Customer.id, Customer.location).where(Customer.id.in_([v.customer_id for v in open_visits]))
        )
    }
    rep_row = data.reps[0]
    position = _position(session, plan, body, visits, rep_row.home or rep_row.territory_centre)
    windows = {row.id: row.visit_windows for row in data.customers}

    points = [position, problem.points[rep_day.start]]
    routing_visits = []
    for visit in open_visits:
        where = locations.get(visit.customer_id)
        if visit.planned_start is None or visit.planned_end is None or where is None:
            continue  # nothing to route: it stays, unfit
        points.append((where["lat"], where["lon"]))
        if visit.fixed:
            begins = seconds_of_day(visit.planned_start.astimezone(zone))
            time_windows: tuple[tuple[float, float], ...] = ((begins, begins),)
        else:
            time_windows = _weekday_windows(windows.get(visit.customer_id, {}), plan.plan_date)
        routing_visits.append(
            RoutingVisit(
                id=str(visit.id),
                location=len(points) - 1,
                service=(visit.planned_end - visit.planned_start).total_seconds(),
                time_windows=time_windows,
                required=False,
                penalty=UNFIT_PENALTY * (10 if visit.fixed else 1),
            )
        )
    breaks = tuple(
        Break((max(b.window[0], now_s), b.window[1]), b.duration) for b in rep_day.breaks if b.window[1] >= now_s
    )
    rep = Rep(str(plan.rep_id), 0, 1, (now_s, rep_day.shift[1]), breaks=breaks)
    route = None
    if routing_visits:
        travel = travel_between([(lon, lat) for lat, lon in points], osrm_url)
        rest_of_day = Problem((rep,), tuple(routing_visits), travel, name="rest of the day")
        solved = solve(rest_of_day, time_limit=REOPTIMIZE_TIME_LIMIT_S)
        route = solved.routes[0] if solved.routes else None

    planner = WriteContext(session, _planner(actor))
    midnight = datetime.combine(plan.plan_date, time(0), tzinfo=zone)
    new_stops: list[dict[str, Any]] = []
    by_id = {str(visit.id): visit for visit in open_visits}
    for routed in route.stops if route else ():
        visit = by_id.pop(routed.visit)
        start = midnight + timedelta(seconds=round(routed.start))
        end = midnight + timedelta(seconds=round(routed.departure))
        if not visit.fixed and (visit.planned_start != start or visit.planned_end != end):
            visit_resource.change(planner, visit, {"planned_start": start, "planned_end": end})
        new_stops.append(
            {
                "visit_id": str(visit.id),
                "customer_id": str(visit.customer_id),
                "kind": "appointment" if visit.fixed else _kind_of(plan, visit.id),
                "arrival": (midnight + timedelta(seconds=round(routed.arrival))).isoformat(),
                "start": start.isoformat(),
                "departure": end.isoformat(),
            }
        )
    unfit = [dict(_stop_of(plan, visit.id), unfit=True) for visit in by_id.values()]
    plan_resource.change(
        planner,
        plan,
        {
            "stops": [*kept, *new_stops, *unfit],
            "distance_m": round(route.distance, 1) if route else 0.0,
            "duration_s": round(route.end_time - route.start_time, 1) if route else 0.0,
        },
    )
    return plan


def _planner(actor: Actor) -> Actor:
    """The planner writes the re-planned day on the caller's behalf, after `reoptimize_plan`
    checked the caller may re-plan it (a rep may not write plans or planned times directly)."""
    return Actor(user_id=actor.user_id, org_id=actor.org_id, role=Role.admin, email=actor.email)


def _stop_of(plan: Plan, visit_id: uuid.UUID) -> dict[str, Any]:
    return next(stop for stop in plan.stops if stop.get("visit_id") == str(visit_id))


def _kind_of(plan: Plan, visit_id: uuid.UUID) -> str:
    return str(_stop_of(plan, visit_id).get("kind", "recurring"))


def _weekday_windows(weekly: WeeklySpans, day: date) -> tuple[tuple[float, float], ...]:
    """The customer's windows that weekday; none given at all: any time; closed that day: never."""
    if not any(weekly.values()):
        return ()
    return tuple(spans_on(weekly, WEEKDAYS[day.weekday()])) or ((0.0, 0.0),)


def _position(
    session: Session,
    plan: Plan,
    body: ReoptimizeRequest,
    visits: dict[uuid.UUID, Visit],
    day_start: tuple[float, float] | None,
) -> tuple[float, float]:
    if body.position is not None:
        return body.position.lat, body.position.lon
    checked_out = [v for v in visits.values() if v.check_out_at is not None]
    last_out = max(checked_out, key=lambda v: v.check_out_at or datetime.min.replace(tzinfo=UTC), default=None)
    fix = session.get(LastPosition, plan.rep_id)
    if fix is not None and (last_out is None or (last_out.check_out_at and fix.device_time > last_out.check_out_at)):
        return fix.lat, fix.lon
    if last_out is not None:
        customer = session.get(Customer, last_out.customer_id)
        where = None if customer is None else point_out(customer.location)
        if where is not None:
            return where["lat"], where["lon"]
    if day_start is None:
        raise Conflict("No position: send one (the rep has no fix, no visit done and no home)", code="NO_POSITION")
    return day_start


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"
