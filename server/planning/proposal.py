"""A solved horizon as the contract's JSON: days with ordered stops, what did not fit, a summary.

Pure (no database): `routing`'s answer and the problem it solved in, the
run's `days`, `unassigned` and `summary` out (PLANNING.md, `GET /runs/{id}`).
Times are instants with the organisation's offset; a stop says what kind of
visit it is (a recurring visit, a fixed appointment, a service request) and,
for an appointment, which visit it already is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from routing.planning import OCCURRENCE_SEPARATOR, DayPlan
from routing.result import Route
from server.planning.problem import CustomerRow, PlanningInput, PlanningProblem, local_day

NO_REP = "no_rep"
REP_WITHOUT_START = "rep_without_start"


@dataclass(frozen=True)
class Proposal:
    days: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    summary: dict[str, Any]


@dataclass(frozen=True)
class _Origin:
    """Where a routing visit came from."""

    kind: str  # recurring | appointment | service_request
    customer_id: uuid.UUID
    due_day: int
    visit_id: uuid.UUID | None = None  # a fixed appointment's own visit
    task_id: uuid.UUID | None = None  # a service request's task


def _origins(data: PlanningInput, problem: PlanningProblem) -> dict[str, _Origin]:
    origins: dict[str, _Origin] = {}
    for visit in data.fixed_visits:
        day = local_day(visit.planned_start, data.start_date, data.settings.zone)
        origins[str(visit.id)] = _Origin("appointment", visit.customer_id, day, visit_id=visit.id)
    for request in data.service_requests:
        origins[str(request.id)] = _Origin(
            "service_request",
            request.customer.id,
            local_day(request.due_at, data.start_date, data.settings.zone),
            task_id=request.id,
        )
    return origins


def _origin_of(routing_id: str, origins: dict[str, _Origin]) -> _Origin:
    customer, separator, due_text = routing_id.rpartition(OCCURRENCE_SEPARATOR)
    if separator:
        return _Origin("recurring", uuid.UUID(customer), int(due_text))
    return origins[routing_id]


def _drive_seconds(route: Route) -> float:
    """The route's time behind the wheel: its length less time on site, waiting and breaks."""
    on_site = sum(stop.departure - stop.start for stop in route.stops)
    waiting = sum(stop.waiting for stop in route.stops)
    # A break taken before leaving or after coming home is not inside the route's span.
    breaks = sum(
        max(0.0, min(taken.start + taken.duration, route.end_time) - max(taken.start, route.start_time))
        for taken in route.breaks
    )
    return max(0.0, route.duration - on_site - waiting - breaks)


def build_proposal(data: PlanningInput, problem: PlanningProblem, plan: DayPlan) -> Proposal:
    origins = _origins(data, problem)
    days: list[dict[str, Any]] = []
    distance = drive = service = 0.0
    planned = 0
    for key in sorted(plan.routes, key=lambda k: (k.day, k.rep_id)):
        route = plan.routes[key]
        if not route.stops:
            continue
        stops = []
        for stop in route.stops:
            origin = _origin_of(stop.visit, origins)
            stops.append(
                {
                    "customer_id": str(origin.customer_id),
                    "kind": origin.kind,
                    "arrival": problem.instant(key.day, round(stop.arrival)).isoformat(),
                    "start": problem.instant(key.day, round(stop.start)).isoformat(),
                    "departure": problem.instant(key.day, round(stop.departure)).isoformat(),
                    "visit_id": None if origin.visit_id is None else str(origin.visit_id),
                    "task_id": None if origin.task_id is None else str(origin.task_id),
                    "due_date": _date(data.start_date, origin.due_day),
                }
            )
            service += stop.departure - stop.start
        planned += len(stops)
        route_drive = _drive_seconds(route)
        distance += route.distance
        drive += route_drive
        days.append(
            {
                "rep_id": key.rep_id,
                "date": (data.start_date + timedelta(days=key.day)).isoformat(),
                "start": problem.instant(key.day, round(route.start_time)).isoformat(),
                "end": problem.instant(key.day, round(route.end_time)).isoformat(),
                "stops": stops,
                "breaks": [
                    {"start": problem.instant(key.day, round(taken.start)).isoformat(), "duration_s": taken.duration}
                    for taken in route.breaks
                ],
                "distance_m": round(route.distance, 1),
                "duration_s": round(route.duration, 1),
                "drive_s": round(route_drive, 1),
            }
        )

    unassigned = [
        {
            "customer_id": str(origin.customer_id),
            "kind": origin.kind,
            "due_date": _date(data.start_date, origin.due_day),
            "reason": str(left.reason),
            "detail": left.detail,
        }
        for left in plan.unassigned
        for origin in [_origin_of(left.visit, origins)]
    ]
    recurring_due = plan.occurrences - len(problem.appointments) - len(problem.requests)
    requests_due = sum(1 for request in problem.requests if request.due_day < data.days)
    summary = {
        "due": recurring_due + len(problem.appointments) + requests_due,
        "planned": planned,
        "unassigned": len(unassigned),
        "distance_m": round(distance, 1),
        "drive_s": round(drive, 1),
        "service_s": round(service, 1),
        "reps_without_start": [str(rep) for rep in problem.reps_without_start],
    }
    return Proposal(days, unassigned, summary)


def no_rep_entries(data: PlanningInput, rows: Sequence[CustomerRow]) -> list[dict[str, Any]]:
    """Customers no planned rep may visit, reported with the day they fall due (inside the horizon only)."""
    entries = []
    last_day = data.days - 1
    for row in rows:
        frequency = row.visit_frequency_days or data.settings.visit_frequency_days[row.tier]
        if row.last_visit_at is None:
            due_day = 0
        else:
            due_day = local_day(row.last_visit_at, data.start_date, data.settings.zone) + frequency
        if due_day > last_day:
            continue
        entries.append(
            {
                "customer_id": str(row.id),
                "kind": "recurring",
                "due_date": _date(data.start_date, max(0, due_day)),
                "reason": NO_REP,
                "detail": "no rep in this run may visit the customer (its territory has none)",
            }
        )
    return entries


def empty_proposal(data: PlanningInput, problem: PlanningProblem) -> Proposal:
    """Nobody works inside the horizon: nothing is planned; what falls due is reported."""
    unassigned = no_rep_entries(data, data.customers)
    for entry in unassigned:
        entry["reason"] = "no_working_day"
        entry["detail"] = "no planned rep works on any day of the horizon"
    summary = {
        "due": len(unassigned),
        "planned": 0,
        "unassigned": len(unassigned),
        "distance_m": 0.0,
        "drive_s": 0.0,
        "service_s": 0.0,
        "reps_without_start": [str(rep) for rep in problem.reps_without_start],
    }
    return Proposal([], unassigned, summary)


def _date(start_date: date, day: int) -> str:
    return (start_date + timedelta(days=day)).isoformat()
