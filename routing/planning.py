"""Multi-day planning and re-optimisation during the day.

`plan_days` turns recurring customers (a visit frequency and a last visit),
per-day rep shifts and fixed appointments into day routes. The whole horizon
is one routing problem: each (rep, day) is a vehicle whose shift sits at
`day * 86400 + shift`, and each due visit may happen on any of its allowed
days (one time window per day). The solver thus picks the day and the route
together, minimising total travel; visits that do not fit are left out, the
least valuable first (penalties grow with customer value), and reported with
a reason. The independent evaluator checks the whole horizon.

`reoptimize` re-solves a partly executed day from each rep's current position
and time, with the visits already done removed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from routing.evaluate import RoutePlan
from routing.model import Break, Problem, Rep, Visit, Window
from routing.result import Result, Route, Unassigned
from routing.solve import evaluate_plans, solve
from routing.travel import TravelMatrix

__all__ = [
    "Appointment",
    "DayPlan",
    "PlannedVisit",
    "Progress",
    "RecurringCustomer",
    "RepDay",
    "ServiceRequest",
    "plan_days",
    "reoptimize",
]

DAY = 86_400.0
# A due visit left out costs at least this much (metres of driving it is worth),
# and up to ten times more for the most valuable customer.
BASE_PENALTY = 100_000.0
OCCURRENCE_SEPARATOR = "#"


def _windows_on(
    day: int, day_windows: Mapping[int, tuple[Window, ...]] | None, every_day: tuple[Window, ...]
) -> tuple[Window, ...]:
    """Per-day windows when given (a day not named is closed), else the same every day (none: all day)."""
    if day_windows is not None:
        return tuple(day_windows.get(day, ()))
    return every_day or ((0.0, DAY - 1),)


@dataclass(frozen=True)
class RecurringCustomer:
    """A customer to be seen every `frequency_days` days.

    `last_visit_day` is relative to day 0 of the plan (-3 = three days before
    it; None = never visited, so due now). `time_windows` are within a day, in
    seconds, the same every day; `day_windows` instead gives each plan day its
    own (a customer open Monday morning and Thursday afternoon), and a day it
    does not name, or names with no window, is closed. `value` (e.g. annual
    revenue) ranks who is kept when not all fit.
    """

    id: str
    location: int
    service: float
    frequency_days: int
    last_visit_day: int | None = None
    time_windows: tuple[Window, ...] = ()
    day_windows: Mapping[int, tuple[Window, ...]] | None = None
    value: float = 0.0
    reps: frozenset[str] | None = None
    skills: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.frequency_days < 1:
            raise ValueError(f"customer {self.id}: frequency_days must be at least 1")
        if self.value < 0 or not math.isfinite(self.value):
            raise ValueError(f"customer {self.id}: value must be a non-negative number")
        if OCCURRENCE_SEPARATOR in self.id:
            raise ValueError(f"customer {self.id}: ids may not contain {OCCURRENCE_SEPARATOR!r}")

    def windows_on(self, day: int) -> tuple[Window, ...]:
        """The day's windows, within the day; empty: closed that day."""
        return _windows_on(day, self.day_windows, self.time_windows)

    def due_days(self, horizon: int) -> list[tuple[int, list[int]]]:
        """(due day, allowed days) for each visit due inside the horizon.

        A visit may be made up to a third of the frequency early, never after it
        is due (the frequency is a maximum gap); an overdue or first visit may
        be made in the first third of its frequency.
        """
        early = self.frequency_days // 3
        last = -self.frequency_days if self.last_visit_day is None else self.last_visit_day
        due = last + self.frequency_days
        occurrences: list[tuple[int, list[int]]] = []
        while due <= horizon - 1:
            if due <= 0:
                allowed = list(range(0, min(horizon - 1, early) + 1))
            else:
                allowed = list(range(max(0, due - early), due + 1))
            occurrences.append((due, allowed))
            due = max(due, 0) + self.frequency_days
        return occurrences


@dataclass(frozen=True)
class Appointment:
    """A fixed visit: this rep, this day, inside this window."""

    id: str
    location: int
    day: int
    rep: str
    window: Window
    service: float = 0.0


@dataclass(frozen=True)
class ServiceRequest:
    """A one-off visit due by `due_day` (a customer's repair, a delivery problem): any working
    day from the first up to it, or the first days when it is already overdue. It weighs as
    much as the most valuable recurring visit, so it is left out only when it cannot fit.
    `day_windows` as for `RecurringCustomer` (None: any time)."""

    id: str
    location: int
    service: float
    due_day: int
    day_windows: Mapping[int, tuple[Window, ...]] | None = None
    reps: frozenset[str] | None = None

    def windows_on(self, day: int) -> tuple[Window, ...]:
        return _windows_on(day, self.day_windows, ())


@dataclass(frozen=True)
class PlannedVisit:
    customer: str
    due_day: int
    day: int
    rep: str
    start: float  # seconds from the start of that day


class RepDay(NamedTuple):
    """One rep's working day: a vehicle of the multi-day routing problem.

    The routing problem names vehicles by string (`vehicle_id`, readable in
    results); the planner keeps a `Fleet` from those names back to this key
    instead of parsing them. A plain (rep, day) tuple compares equal to it.
    """

    rep_id: str
    day: int

    @property
    def vehicle_id(self) -> str:
        return f"{self.rep_id}@{self.day}"


class Fleet:
    """The rep-days of one plan, by the vehicle ids the routing problem knows them by."""

    def __init__(self) -> None:
        self._by_vehicle: dict[str, RepDay] = {}

    def add(self, rep_id: str, day: int) -> RepDay:
        # Names never collide: a day is a number, so the last "@" of a name splits it one way only.
        key = RepDay(rep_id, day)
        self._by_vehicle[key.vehicle_id] = key
        return key

    def __getitem__(self, vehicle_id: str) -> RepDay:
        return self._by_vehicle[vehicle_id]


@dataclass(frozen=True)
class DayPlan:
    visits: tuple[PlannedVisit, ...]
    routes: Mapping[RepDay, Route]  # times relative to that day
    unassigned: tuple[Unassigned, ...]
    result: Result  # the whole horizon as solved and evaluated (absolute times)
    occurrences: int = 0
    due_customers: tuple[str, ...] = field(default=())

    @property
    def distance(self) -> float:
        return self.result.distance

    def is_feasible(self) -> bool:
        """Every constraint held (fixed appointments included); due visits left out are in `unassigned`."""
        return not self.result.violations and not self.result.required_missing


def _shift_rep(rep: Rep, key: RepDay) -> Rep:
    offset = key.day * DAY
    return replace(
        rep,
        id=key.vehicle_id,
        shift=(rep.shift[0] + offset, rep.shift[1] + offset),
        breaks=tuple(Break((b.window[0] + offset, b.window[1] + offset), b.duration) for b in rep.breaks),
    )


def plan_days(
    customers: Sequence[RecurringCustomer],
    shifts: Mapping[int, Sequence[Rep]],
    travel: TravelMatrix,
    *,
    appointments: Sequence[Appointment] = (),
    requests: Sequence[ServiceRequest] = (),
    time_limit: float = 60.0,
    threads: int = 1,
    seed: int = 0,
) -> DayPlan:
    """Choose the day of each due visit and route every day.

    `shifts[d]` lists the reps working on day d (0 = the first day of the
    plan), each with that day's shift in seconds from midnight.
    """
    if not shifts:
        raise ValueError("plan_days needs at least one day with a rep working")
    horizon = max(shifts) + 1
    if min(shifts) < 0:
        raise ValueError("days are numbered from 0")
    fleet = Fleet()
    vehicles: list[Rep] = []
    working: dict[int, set[str]] = {}
    for day in sorted(shifts):
        for rep in shifts[day]:
            vehicles.append(_shift_rep(rep, fleet.add(rep.id, day)))
            working.setdefault(day, set()).add(rep.id)
    top_value = max((c.value for c in customers), default=0.0) or 1.0
    visits: list[Visit] = []
    due_customers: list[str] = []
    for customer in customers:
        occurrences = customer.due_days(horizon)
        if occurrences:
            due_customers.append(customer.id)
        for due_day, allowed_days in occurrences:
            # Days someone works and the customer is open.
            days = [d for d in allowed_days if d in working and customer.windows_on(d)]
            allowed_vehicles = frozenset(
                RepDay(rep_id, d).vehicle_id
                for d in days
                for rep_id in working[d]
                if customer.reps is None or rep_id in customer.reps
            )
            # Overdue visits weigh more: the longer the gap, the worse.
            overdue = 1.0 + max(0, -due_day) / customer.frequency_days
            visits.append(
                Visit(
                    id=f"{customer.id}{OCCURRENCE_SEPARATOR}{due_day}",
                    location=customer.location,
                    service=customer.service,
                    time_windows=tuple((d * DAY + a, d * DAY + b) for d in days for a, b in customer.windows_on(d)),
                    required=False,
                    penalty=BASE_PENALTY * (1 + 9 * customer.value / top_value) * overdue,
                    skills=customer.skills,
                    reps=allowed_vehicles,
                    value=customer.value,
                )
                if days
                else Visit(
                    id=f"{customer.id}{OCCURRENCE_SEPARATOR}{due_day}",
                    location=customer.location,
                    service=customer.service,
                    required=False,
                    penalty=BASE_PENALTY,
                    reps=frozenset(),
                    value=customer.value,
                )
            )
    for appointment in appointments:
        if appointment.day not in working or appointment.rep not in working[appointment.day]:
            raise ValueError(
                f"appointment {appointment.id}: rep {appointment.rep} does not work on day {appointment.day}"
            )
        offset = appointment.day * DAY
        visits.append(
            Visit(
                id=appointment.id,
                location=appointment.location,
                service=appointment.service,
                time_windows=((appointment.window[0] + offset, appointment.window[1] + offset),),
                locked_rep=RepDay(appointment.rep, appointment.day).vehicle_id,
                reps=frozenset({RepDay(appointment.rep, appointment.day).vehicle_id}),
            )
        )
    for request in requests:
        last_day = min(horizon - 1, max(request.due_day, 0))
        days = [d for d in range(last_day + 1) if d in working and request.windows_on(d)]
        visits.append(
            Visit(
                id=request.id,
                location=request.location,
                service=request.service,
                time_windows=tuple((d * DAY + a, d * DAY + b) for d in days for a, b in request.windows_on(d)),
                required=False,
                penalty=BASE_PENALTY * 10,
                reps=frozenset(
                    RepDay(rep_id, d).vehicle_id
                    for d in days
                    for rep_id in working[d]
                    if request.reps is None or rep_id in request.reps
                ),
            )
        )
    problem = Problem(tuple(vehicles), tuple(visits), travel, name=f"{horizon}-day plan")
    if len(visits) * len(vehicles) <= JOINT_PLAN_PAIRS:
        result = solve(problem, time_limit=time_limit, threads=threads, seed=seed)
    else:
        result = _solve_day_by_day(problem, fleet, time_limit=time_limit, threads=threads, seed=seed)
    return _split_by_day(result, fleet, len(visits), tuple(due_customers))


# Up to this many (visit, rep-day) pairs the whole horizon is one problem, so the
# solver chooses days and routes together. Beyond it (a week for 20 reps and
# 1,500 customers: ~700 visits x 100 rep-days) the joint search overran its
# time limit by minutes and took gigabytes, so days are chosen first.
JOINT_PLAN_PAIRS = 20_000


def _solve_day_by_day(problem: Problem, fleet: Fleet, *, time_limit: float, threads: int, seed: int) -> Result:
    """Two phases: give each visit one of its allowed days, then route each day.

    Days are chosen greedily, most constrained visits first (fewest allowed
    days), then most valuable: each goes to the allowed day where its allowed
    reps have the least work booked, with a preference for days that already
    take visits nearby (so a day's visits cluster and routes stay short).
    The evaluator then checks the stitched horizon as one problem.
    """
    travel = problem.travel
    days_of_visit: dict[str, list[int]] = {}
    for visit in problem.visits:
        days_of_visit[visit.id] = sorted({fleet[v].day for v in (visit.reps or ())})
    capacity: dict[int, float] = {}
    for rep in problem.reps:
        day = fleet[rep.id].day
        capacity[day] = capacity.get(day, 0.0) + (rep.shift[1] - rep.shift[0])
    booked: dict[int, float] = dict.fromkeys(capacity, 0.0)
    placed: dict[int, list[int]] = {day: [] for day in capacity}
    chosen: dict[str, int] = {}
    order = sorted(problem.visits, key=lambda v: (len(days_of_visit[v.id]) or 99, -v.value, v.id))
    for visit in order:
        options = days_of_visit[visit.id]
        if not options:
            continue

        def score(day: int, visit: Visit = visit) -> float:
            load = booked[day] / capacity[day]
            nearby = [travel.duration(visit.location, other) for other in placed[day][-200:]]
            closeness = min(nearby, default=1800.0) / 1800.0  # half an hour away counts as "far"
            return load + 0.5 * closeness

        day = min(options, key=lambda d: (score(d), d))
        chosen[visit.id] = day
        booked[day] += visit.service + 600  # service plus a typical leg
        placed[day].append(visit.location)
    per_day_limit = max(1.0, time_limit / max(1, len(capacity)))
    stitched_plans = []
    for day in sorted(capacity):
        reps = tuple(r for r in problem.reps if fleet[r.id].day == day)
        today = (day * DAY, (day + 1) * DAY)
        visits = tuple(
            replace(
                v,
                reps=frozenset(r for r in (v.reps or ()) if fleet[r].day == day),
                time_windows=tuple(w for w in v.time_windows if today[0] <= w[0] < today[1]),
            )
            for v in problem.visits
            if chosen.get(v.id) == day
        )
        if not visits:
            continue
        day_result = solve(
            Problem(reps, visits, travel, name=f"day {day}"), time_limit=per_day_limit, threads=threads, seed=seed
        )
        stitched_plans += [
            RoutePlan(
                route.rep,
                tuple(s.visit for s in route.stops),
                depart_at=route.start_time,
                break_legs=_break_legs(route),
            )
            for route in day_result.routes
        ]
    return evaluate_plans(problem, stitched_plans, None, time.perf_counter())


def _break_legs(route: Route) -> tuple[int, ...]:
    """In which leg each break of an evaluated route was taken (see RoutePlan.break_legs)."""
    legs = []
    for taken in route.breaks:
        if taken.start + taken.duration <= route.start_time + 1e-6:
            legs.append(-1)
            continue
        leg = len(route.stops) + 1  # after the day, unless it falls in a leg
        for position, stop in enumerate(route.stops):
            previous_departure = route.stops[position - 1].departure if position else route.start_time
            if previous_departure - 1e-6 <= taken.start and taken.start + taken.duration <= stop.start + 1e-6:
                leg = position
                break
        else:
            if route.stops and route.stops[-1].departure - 1e-6 <= taken.start < route.end_time:
                leg = len(route.stops)
        legs.append(leg)
    return tuple(legs)


def _split_by_day(result: Result, fleet: Fleet, occurrences: int, due: tuple[str, ...]) -> DayPlan:
    planned: list[PlannedVisit] = []
    routes: dict[RepDay, Route] = {}
    for route in result.routes:
        rep_id, day = fleet[route.rep].rep_id, fleet[route.rep].day
        offset = day * DAY
        local = replace(
            route,
            rep=rep_id,
            start_time=route.start_time - offset,
            end_time=route.end_time - offset,
            stops=tuple(
                replace(s, arrival=s.arrival - offset, start=s.start - offset, departure=s.departure - offset)
                for s in route.stops
            ),
            breaks=tuple(replace(b, start=b.start - offset) for b in route.breaks),
        )
        routes[RepDay(rep_id, day)] = local
        for stop in local.stops:
            customer, separator, due_text = stop.visit.rpartition(OCCURRENCE_SEPARATOR)
            if separator:
                planned.append(PlannedVisit(customer, int(due_text), day, rep_id, stop.start))
    return DayPlan(
        visits=tuple(planned),
        routes=routes,
        unassigned=result.unassigned,
        result=result,
        occurrences=occurrences,
        due_customers=due,
    )


@dataclass(frozen=True)
class Progress:
    """Where a rep stands now: visits done (in order), current location and time."""

    rep: str
    done: tuple[str, ...]
    position: int
    now: float


def reoptimize(
    problem: Problem, progress: Sequence[Progress], *, time_limit: float = 5.0, threads: int = 1, seed: int = 0
) -> Result:
    """Re-plan the rest of a day: done visits are fixed (removed), each rep with
    progress starts from where they are, when they are, with what is left of
    their capacity, stops and breaks."""
    by_rep = {p.rep: p for p in progress}
    unknown = sorted(set(by_rep) - problem.rep_index.keys())
    if unknown:
        raise ValueError(f"progress for unknown reps {unknown}")
    done = {visit for p in progress for visit in p.done}
    missing = sorted(done - problem.visit_index.keys())
    if missing:
        raise ValueError(f"visits reported done do not exist: {missing}")
    demand_done: dict[str, float] = {}
    for p in progress:
        demand_done[p.rep] = sum(problem.visits[problem.visit_index[v]].demand for v in p.done)
    reps: list[Rep] = []
    for rep in problem.reps:
        state = by_rep.get(rep.id)
        if state is None:
            reps.append(rep)
            continue
        now = max(state.now, rep.shift[0])
        if now > rep.shift[1]:
            raise ValueError(f"rep {rep.id}: now ({state.now}) is after the shift ends ({rep.shift[1]})")
        breaks = tuple(
            Break((max(b.window[0], now), b.window[1]), b.duration) for b in rep.breaks if b.window[1] >= now
        )  # a break whose window has passed was taken (or skipped) already
        reps.append(
            replace(
                rep,
                start=state.position,
                shift=(now, rep.shift[1]),
                breaks=breaks,
                capacity=None if rep.capacity is None else max(0.0, rep.capacity - demand_done[rep.id]),
                max_stops=None if rep.max_stops is None else max(0, rep.max_stops - len(state.done)),
                max_route_duration=None
                if rep.max_route_duration is None
                else max(1.0, rep.max_route_duration - (now - rep.shift[0])),
            )
        )
    visits: list[Visit] = []
    for visit in problem.visits:
        if visit.id in done:
            continue
        if visit.locked_rep in by_rep and visit.locked_position is not None:
            shifted = visit.locked_position - len(by_rep[visit.locked_rep].done)
            visit = replace(visit, locked_position=shifted if shifted >= 0 else None)
        visits.append(visit)
    remaining = Problem(tuple(reps), tuple(visits), problem.travel, name=f"{problem.name} (re-optimised)")
    return solve(remaining, time_limit=time_limit, threads=threads, seed=seed)
