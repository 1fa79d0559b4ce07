"""The independent evaluator: the judge of every solution, whoever produced it.

Given only the problem and, per rep, the ordered visits (and in which leg each
break is taken), it recomputes the earliest schedule with unrounded travel
times and lists every violated constraint in a sentence. The solver's own
integer arithmetic is never trusted for feasibility.

Schedule rules: a rep leaves the start at `depart_at` (no earlier than the
shift start); travel is interruptible by breaks, which start as soon as the rep
is free and the break window is open; service starts at the earliest moment
inside a time window (waiting allowed); the day ends on reaching the end
location (or at the last departure on an open route), by the end of the shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from routing.model import Problem, Rep
from routing.result import BreakTaken, Route, Stop

__all__ = ["Evaluation", "RoutePlan", "evaluate"]

EPSILON = 1e-6  # floating-point slack, far below a second or a metre


@dataclass(frozen=True)
class RoutePlan:
    """One rep's day as a solver proposes it.

    `break_legs[k]` says in which leg the rep's k-th break is taken: leg i is
    the way to stop i (0 = from the start), leg len(visits) the way to the end
    location; -1 means before leaving, len(visits) + 1 after the day's end.
    """

    rep: str
    visits: tuple[str, ...]
    depart_at: float | None = None
    break_legs: tuple[int, ...] = ()


@dataclass
class Evaluation:
    routes: list[Route] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    served: set[str] = field(default_factory=set)
    money_cost: float = 0.0


def _breaks_by_leg(rep: Rep, plan: RoutePlan, stops: int, violations: list[str]) -> dict[int, list[int]]:
    legs: dict[int, list[int]] = {}
    if len(plan.break_legs) != len(rep.breaks):
        if rep.breaks and stops:
            violations.append(f"rep {rep.id}: {len(rep.breaks)} breaks required, {len(plan.break_legs)} placed")
        legs_given = list(plan.break_legs) + [stops + 1] * (len(rep.breaks) - len(plan.break_legs))
    else:
        legs_given = list(plan.break_legs)
    for index, leg in enumerate(legs_given[: len(rep.breaks)]):
        if not -1 <= leg <= stops + 1:
            violations.append(f"rep {rep.id}: break {index} placed in leg {leg}, which does not exist")
            leg = stops + 1
        legs.setdefault(leg, []).append(index)
    for indices in legs.values():
        indices.sort(key=lambda i: rep.breaks[i].window[0])
    return legs


def _take_breaks(
    rep: Rep, indices: list[int], free_at: float, taken: list[BreakTaken], violations: list[str], where: str
) -> float:
    """Take the breaks as soon as the rep is free and each window is open; returns when they end."""
    cursor = free_at
    for index in indices:
        brk = rep.breaks[index]
        start = max(cursor, brk.window[0])
        if start > brk.window[1] + EPSILON:
            violations.append(
                f"rep {rep.id}: break {index} {where} cannot start before {start:.1f}, after its window closes at "
                f"{brk.window[1]:.1f}"
            )
        taken.append(BreakTaken(start, brk.duration))
        cursor = start + brk.duration
    return cursor


def evaluate(problem: Problem, plans: Sequence[RoutePlan]) -> Evaluation:
    result = Evaluation()
    seen_reps: set[str] = set()
    for plan in plans:
        if plan.rep not in problem.rep_index:
            result.violations.append(f"route for unknown rep {plan.rep}")
            continue
        if plan.rep in seen_reps:
            result.violations.append(f"rep {plan.rep} has two routes")
            continue
        seen_reps.add(plan.rep)
        rep = problem.reps[problem.rep_index[plan.rep]]
        result.routes.append(_evaluate_route(problem, rep, plan, result))
    for visit in problem.visits:
        if visit.locked_rep is not None and visit.id not in result.served:
            result.violations.append(f"visit {visit.id} is locked to rep {visit.locked_rep} but not served")
    return result


def _evaluate_route(problem: Problem, rep: Rep, plan: RoutePlan, result: Evaluation) -> Route:
    violations = result.violations
    travel = problem.travel
    depart = rep.shift[0] if plan.depart_at is None else plan.depart_at
    if depart < rep.shift[0] - EPSILON:
        violations.append(f"rep {rep.id} leaves at {depart:.1f}, before the shift starts at {rep.shift[0]:.1f}")
    count = len(plan.visits)
    legs = _breaks_by_leg(rep, plan, count, violations)
    taken: list[BreakTaken] = []
    if -1 in legs:
        # Breaks before leaving: they must end by the departure.
        end_of_breaks = _take_breaks(rep, legs[-1], rep.shift[0], taken, violations, "before the day")
        if end_of_breaks > depart + EPSILON:
            depart = end_of_breaks
    where = rep.start
    clock = depart
    distance = 0.0
    load = 0.0
    stops: list[Stop] = []
    for position, visit_id in enumerate(plan.visits):
        if visit_id not in problem.visit_index:
            violations.append(f"rep {rep.id}: unknown visit {visit_id}")
            continue
        visit = problem.visits[problem.visit_index[visit_id]]
        if visit_id in result.served:
            violations.append(f"visit {visit_id} is served twice")
        result.served.add(visit_id)
        allowed = {problem.reps[i].id for i in problem.allowed_reps(visit)}
        if rep.id not in allowed:
            violations.append(f"visit {visit_id} is not allowed for rep {rep.id} (allowed reps, skills or lock)")
        if visit.locked_position is not None and visit.locked_rep == rep.id and visit.locked_position != position:
            violations.append(f"visit {visit_id} is locked to position {visit.locked_position}, found at {position}")
        arrival = clock + travel.duration(where, visit.location)
        distance += travel.distance(where, visit.location)
        break_time = sum(rep.breaks[i].duration for i in legs.get(position, []))
        ready = arrival + break_time
        if position in legs:
            ready = max(ready, _take_breaks(rep, legs[position], clock, taken, violations, f"before {visit_id}"))
        arrival += break_time
        start = ready
        if visit.time_windows:
            window = next((w for w in visit.time_windows if w[1] + EPSILON >= ready), None)
            if window is None:
                violations.append(
                    f"visit {visit_id}: rep {rep.id} is ready at {ready:.1f}, after its last window closes at "
                    f"{visit.time_windows[-1][1]:.1f}"
                )
            else:
                start = max(ready, window[0])
        departure = start + visit.service
        stops.append(Stop(visit_id, arrival, start, departure, start - ready))
        load += visit.demand
        clock = departure
        where = visit.location
    if rep.end is not None:
        end_time = clock + travel.duration(where, rep.end)
        distance += travel.distance(where, rep.end)
    else:
        end_time = clock
    if count in legs:
        end_time = max(
            end_time + sum(rep.breaks[i].duration for i in legs[count]),
            _take_breaks(rep, legs[count], clock, taken, violations, "on the way home"),
        )
    if count + 1 in legs:
        _take_breaks(rep, legs[count + 1], end_time, taken, violations, "after the day")
    if count and end_time > rep.shift[1] + EPSILON:
        violations.append(f"rep {rep.id} finishes at {end_time:.1f}, after the shift ends at {rep.shift[1]:.1f}")
    if rep.capacity is not None and load > rep.capacity + EPSILON:
        violations.append(f"rep {rep.id} carries {load:g}, over the capacity {rep.capacity:g}")
    if rep.max_stops is not None and count > rep.max_stops:
        violations.append(f"rep {rep.id} makes {count} stops, over max_stops {rep.max_stops}")
    if count and rep.max_route_duration is not None and end_time - depart > rep.max_route_duration + EPSILON:
        violations.append(
            f"rep {rep.id}'s route lasts {end_time - depart:.1f} s, over max_route_duration {rep.max_route_duration:g}"
        )
    if count:
        result.money_cost += rep.cost_per_km * distance / 1000 + rep.cost_per_hour * (end_time - depart) / 3600
    if not count:
        taken = []
        end_time = depart
    return Route(rep.id, tuple(stops), tuple(taken), depart, end_time, distance if count else 0.0, load)


def penalty_of_missing(problem: Problem, served: set[str]) -> tuple[float, list[str]]:
    """Penalties of optional visits left out, and the required visits not served."""
    penalty = 0.0
    missing: list[str] = []
    for visit in problem.visits:
        if visit.id in served:
            continue
        if visit.required:
            missing.append(visit.id)
        else:
            penalty += visit.penalty
    return penalty, missing
