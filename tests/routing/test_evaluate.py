"""The evaluator catches every violation injected by hand, whoever made the plan."""

from __future__ import annotations

import pytest

from routing import Break, Problem, Rep, RoutePlan, Visit, evaluate
from tests.routing.test_solve import line


def problem() -> Problem:
    reps = (
        Rep("r1", 0, 0, (0.0, 1000.0), capacity=10, max_stops=2, breaks=(Break((100, 200), 50),)),
        Rep("r2", 0, 0, (0.0, 1000.0), skills=frozenset({"gas"}), max_route_duration=300),
    )
    visits = (
        Visit("a", 1, service=10, time_windows=((0, 150),), demand=6),
        Visit("b", 2, service=10, demand=6),
        Visit("gas", 3, skills=frozenset({"gas"})),
        Visit("mine", 1, reps=frozenset({"r2"})),
        Visit("late", 5, time_windows=((0, 20),)),
    )
    return Problem(reps, visits, line(10, speed=10))  # 1 km apart at 10 m/s: 100 s per km


@pytest.mark.parametrize(
    ("plans", "expected"),
    [
        ([RoutePlan("r1", ("late",), break_legs=(1,))], "after its last window closes"),
        ([RoutePlan("r1", ("b", "a"), break_legs=(2,))], "after its last window closes"),
        ([RoutePlan("r1", ("a", "b"), break_legs=(2,))], "over the capacity"),
        ([RoutePlan("r1", ("gas",), break_legs=(1,))], "not allowed for rep r1"),
        ([RoutePlan("r1", ("mine",), break_legs=(1,))], "not allowed for rep r1"),
        ([RoutePlan("r2", ("b", "b"))], "served twice"),
        ([RoutePlan("r1", ("a",), break_legs=(1,)), RoutePlan("r2", ("a",))], "served twice"),
        ([RoutePlan("r1", ("b",), break_legs=(1,), depart_at=-5)], "before the shift starts"),
        ([RoutePlan("r2", ("b", "gas"))], "over max_route_duration"),
        ([RoutePlan("r1", ("a", "b", "mine"), break_legs=(3,))], "over max_stops"),
        ([RoutePlan("r1", ("b",), break_legs=(0,), depart_at=900)], "after the shift ends"),
        ([RoutePlan("r1", ("b",), break_legs=(2,), depart_at=300)], "break 0"),
        ([RoutePlan("r1", ("b",))], "breaks required"),
        ([RoutePlan("ghost", ())], "unknown rep"),
    ],
)
def test_injected_violation_is_named(plans, expected):
    evaluation = evaluate(problem(), plans)
    assert any(expected in v for v in evaluation.violations), evaluation.violations


def test_a_valid_plan_has_no_violations_and_exact_times():
    """r1: 1 km to 'a' (100 s), service 10, break at 110 taken on the way home (100 s + 50 s)."""
    evaluation = evaluate(problem(), [RoutePlan("r1", ("a",), break_legs=(1,))])
    assert evaluation.violations == []
    route = evaluation.routes[0]
    assert route.stops[0].start == pytest.approx(100)
    assert route.breaks[0].start == pytest.approx(110)
    assert route.end_time == pytest.approx(260)
    assert route.distance == pytest.approx(2000)


def test_waiting_is_counted_when_arriving_before_the_window():
    p = Problem((Rep("r", 0, 0, (0.0, 1000.0)),), (Visit("w", 1, time_windows=((300, 400),)),), line(2))
    stop = evaluate(p, [RoutePlan("r", ("w",))]).routes[0].stops[0]
    assert (stop.arrival, stop.start, stop.waiting) == (pytest.approx(100), 300, pytest.approx(200))
