"""Tiny instances whose answers can be checked by hand."""

from __future__ import annotations

from typing import Any

import pytest

from routing import Break, ExplicitTravel, Problem, Rep, UnassignedReason, Visit, solve


def line(points: int, metres_apart: float = 1000.0, speed: float = 10.0) -> ExplicitTravel:
    """Locations 0..points-1 on a straight road, `metres_apart` apart, driven at `speed` m/s."""
    distances = [[abs(i - j) * metres_apart for j in range(points)] for i in range(points)]
    return ExplicitTravel([[d / speed for d in row] for row in distances], distances)


def rep(rep_id: str = "r1", **kwargs) -> Rep:
    defaults = {"start": 0, "end": 0, "shift": (0.0, 36_000.0)}
    return Rep(id=rep_id, **{**defaults, **kwargs})


def stop_ids(result, rep_id: str = "r1") -> list[str]:
    route = next((r for r in result.routes if r.rep == rep_id), None)
    return [s.visit for s in route.stops] if route else []


def test_four_stops_on_a_line():
    """Depot at 0, stops at 1..4 km on one road: any optimal tour drives out to 4 km and back, 8 km.
    With no time windows the rep starts at the start of the shift."""
    problem = Problem((rep(),), tuple(Visit(f"v{i}", i) for i in range(1, 5)), line(5))
    result = solve(problem, time_limit=1)
    assert result.is_feasible()
    assert result.distance == pytest.approx(8000)
    assert sorted(stop_ids(result)) == ["v1", "v2", "v3", "v4"]
    assert result.routes[0].start_time == 0
    assert result.routes[0].end_time == pytest.approx(800)


def test_a_time_window_forces_the_order():
    """v2 (2 km out) must be served by 250 s; v1 (1 km out) only after 1,000 s: v2 comes first."""
    visits = (Visit("v1", 1, time_windows=((1000, 2000),)), Visit("v2", 2, time_windows=((0, 250),)))
    result = solve(Problem((rep(),), visits, line(3)), time_limit=1)
    assert result.is_feasible()
    assert stop_ids(result) == ["v2", "v1"]
    first = result.routes[0].stops[0]
    assert first.start <= 250
    assert result.routes[0].stops[1].start >= 1000


def test_a_skill_forces_the_rep():
    """Only r2 is a gas engineer, though r1 starts next to the customer."""
    reps = (rep("r1", start=1, end=1), rep("r2", start=4, end=4, skills=frozenset({"gas"})))
    visits = (Visit("boiler", 1, skills=frozenset({"gas"})),)
    result = solve(Problem(reps, visits, line(5)), time_limit=1)
    assert stop_ids(result, "r2") == ["boiler"]
    assert stop_ids(result, "r1") == []


def test_the_break_is_taken_inside_its_window_and_not_during_service():
    """Two one-hour services back to back would cover 09:00-11:00; the 30-min break must start 09:30-10:30."""
    reps = (rep(shift=(9 * 3600.0, 17 * 3600.0), breaks=(Break((9.5 * 3600, 10.5 * 3600), 1800),)),)
    visits = (Visit("a", 1, service=3600), Visit("b", 1, service=3600))
    result = solve(Problem(reps, visits, line(2)), time_limit=1)
    assert result.is_feasible(), result.summary()
    route = result.routes[0]
    (taken,) = route.breaks
    assert 9.5 * 3600 <= taken.start <= 10.5 * 3600
    for stop in route.stops:
        assert taken.start + taken.duration <= stop.start or taken.start >= stop.departure


@pytest.mark.parametrize(
    ("visit", "reason"),
    [
        (Visit("late", 4, time_windows=((0, 100),)), UnassignedReason.time_window),  # 400 s away
        (Visit("gas", 1, skills=frozenset({"gas"})), UnassignedReason.skills),
        (Visit("heavy", 1, demand=50), UnassignedReason.capacity),
        (Visit("long", 1, service=40_000), UnassignedReason.shift_too_short),
        (Visit("nobody", 1, reps=frozenset()), UnassignedReason.no_allowed_rep),
    ],
)
def test_an_impossible_visit_is_reported_with_its_reason(visit, reason):
    problem = Problem((rep(capacity=10),), (Visit("easy", 2), visit), line(5))
    result = solve(problem, time_limit=1)
    assert stop_ids(result) == ["easy"]
    assert [(u.visit, u.reason) for u in result.unassigned] == [(visit.id, reason)]
    assert not result.is_feasible()  # a required visit is missing


def test_an_optional_visit_not_worth_its_penalty_is_left_out():
    """Going 4 km out and back costs 8,000 m; a penalty of 100 is not worth it."""
    visits = (Visit("near", 1), Visit("far", 4, required=False, penalty=100))
    result = solve(Problem((rep(),), visits, line(5)), time_limit=1)
    assert result.is_feasible()
    assert stop_ids(result) == ["near"]
    assert result.unassigned[0].reason is UnassignedReason.not_worth_penalty
    assert result.cost() == pytest.approx(2000 + 100)


def test_a_locked_stop_stays_with_its_rep_and_position():
    """r1 lives next to 'x', but 'x' is locked to r2 as its first stop."""
    reps = (rep("r1", start=1, end=1), rep("r2", start=4, end=4))
    visits = (Visit("x", 1, locked_rep="r2", locked_position=0), Visit("y", 3, reps=frozenset({"r2"})))
    result = solve(Problem(reps, visits, line(5)), time_limit=1)
    assert result.is_feasible(), result.summary()
    assert stop_ids(result, "r2")[0] == "x"


def test_an_open_route_ends_at_the_last_visit():
    """No end location: out to 3 km and done; no way back is driven."""
    problem = Problem((rep(end=None),), (Visit("a", 1), Visit("b", 3)), line(4))
    result = solve(problem, time_limit=1)
    assert stop_ids(result) == ["a", "b"]
    assert result.distance == pytest.approx(3000)
    assert result.routes[0].end_time == pytest.approx(result.routes[0].stops[-1].departure)


def test_capacity_splits_the_work_between_reps():
    """Two reps of capacity 10, three visits of 6: one rep cannot take two."""
    reps = (rep("r1", capacity=10), rep("r2", capacity=10))
    visits = tuple(Visit(f"v{i}", i, demand=6) for i in (1, 2, 3))
    result = solve(Problem(reps, visits, line(4)), time_limit=1)
    assert len(result.required_missing) == 1
    assert all(route.load <= 10 for route in result.routes)


def test_max_stops_and_max_route_duration_are_respected():
    reps = (rep("r1", max_stops=2), rep("r2", max_route_duration=500))
    visits = tuple(Visit(f"v{i}", 1) for i in range(3))
    result = solve(Problem(reps, visits, line(3)), time_limit=1)
    assert result.is_feasible(), result.summary()
    assert len(stop_ids(result, "r1")) <= 2
    r2 = next(r for r in result.routes if r.rep == "r2")
    assert r2.duration <= 500


def test_costs_per_hour_and_km_drive_the_objective():
    """With money costs, cost() is euros: 2 km at 1 EUR/km plus 200 s at 36 EUR/h = 4 EUR."""
    problem = Problem((rep(cost_per_km=1.0, cost_per_hour=36.0),), (Visit("a", 1),), line(2))
    result = solve(problem, time_limit=1)
    assert result.cost() == pytest.approx(2 + 36 * 200 / 3600)


def test_parallel_restarts_return_the_best():
    problem = Problem((rep(), rep("r2")), tuple(Visit(f"v{i}", i) for i in range(1, 6)), line(6))
    result = solve(problem, time_limit=1, threads=2)
    assert result.is_feasible()
    assert result.stats.workers == 2
    assert result.distance == pytest.approx(10_000)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Visit("v", 0, time_windows=((10, 5),)), "ends"),
        (lambda: Visit("v", 0, time_windows=((0, 10), (5, 20))), "overlap"),
        (lambda: Visit("v", 0, service=-1), "negative"),
        (lambda: Visit("v", 0, locked_position=1), "locked_rep"),
        (lambda: Rep("r", 0, 0, (100, 50)), "before it starts"),
        (lambda: Rep("r", 0, 0, (0, 100), breaks=(Break((200, 300), 10),)), "outside the shift"),
        (lambda: Problem((rep(),), (Visit("v", 9),), line(2)), "not in the travel matrix"),
        (lambda: Problem((rep(), rep()), (), line(2)), "share the id"),
        (lambda: Problem((rep(),), (Visit("v", 1, reps=frozenset({"ghost"})),), line(2)), "do not exist"),
        (lambda: ExplicitTravel([[0, 1], [1]]), "square"),
        (lambda: ExplicitTravel([[0, float("nan")], [1, 0]]), "finite"),
    ],
)
def test_invalid_models_are_refused_with_a_sentence(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_visit_with_two_windows_uses_the_one_it_can_reach():
    """The morning window closes before anyone can arrive (300 s away); the afternoon one is used."""
    visits = (Visit("v", 3, service=60, time_windows=((0, 100), (5000, 6000))),)
    result = solve(Problem((rep(),), visits, line(4)), time_limit=1)
    assert result.is_feasible(), result.summary()
    assert 5000 <= result.routes[0].stops[0].start <= 6000


def grid_day(visit_count: int) -> Problem:
    """A rep on a 2-D grid of stops with windows, a lunch break and a route duration limit."""
    import math
    import random

    rng = random.Random(7)
    points = [(0.0, 0.0)] + [(rng.uniform(-5000, 5000), rng.uniform(-5000, 5000)) for _ in range(visit_count)]
    distances = [[math.dist(a, b) for b in points] for a in points]
    travel = ExplicitTravel([[d / 10 for d in row] for row in distances], distances)
    reps = tuple(
        rep(
            f"r{k}",
            shift=(8 * 3600.0, 17 * 3600.0),
            breaks=(Break((12 * 3600.0, 13 * 3600.0), 1800),),
            max_route_duration=6 * 3600.0,
        )
        for k in range(3)
    )
    visits = tuple(
        Visit(
            f"v{i}",
            i,
            service=600,
            time_windows=((9 * 3600.0, 11 * 3600.0),) if i % 3 == 0 else (),
        )
        for i in range(1, visit_count + 1)
    )
    return Problem(reps, visits, travel)


def test_ruin_and_recreate_respects_breaks_and_route_durations():
    """The Python recreate models one break but not duration limits; OR-Tools checks every proposal."""
    from routing.solve import RUIN_AND_RECREATE

    problem = grid_day(30)
    result = solve(problem, time_limit=2, configs=[RUIN_AND_RECREATE])
    assert result.is_feasible(), result.summary()
    assert result.stats.strategy.endswith("RUIN_AND_RECREATE")
    (search_note,) = [n for n in result.stats.notes if n.startswith("ruin and recreate")]
    iterations = int(search_note.split(": ")[1].split()[0])
    assert iterations > 10, search_note
    for route in result.routes:
        if route.stops:
            assert route.duration <= 6 * 3600.0
            (lunch,) = route.breaks
            assert 12 * 3600.0 <= lunch.start <= 13 * 3600.0


def test_ruin_and_recreate_improves_on_its_first_solution():
    """Against OR-Tools' first solution and descent alone, the iterated search must find shorter routes."""
    from routing.solve import RUIN_AND_RECREATE, SearchConfig

    problem = grid_day(40)
    descent_only = solve(problem, time_limit=2, configs=[SearchConfig("PARALLEL_CHEAPEST_INSERTION", "GREEDY_DESCENT")])
    iterated = solve(problem, time_limit=2, configs=[RUIN_AND_RECREATE])
    assert iterated.is_feasible() and descent_only.is_feasible()
    assert iterated.distance < descent_only.distance


def test_ruin_and_recreate_keeps_territories_windows_locks_and_optional_visits():
    """Recreate picks window copies and allowed reps itself; the result must still honour them all."""
    import math
    import random

    from routing.solve import RUIN_AND_RECREATE

    rng = random.Random(11)
    points = [(0.0, 0.0)] + [(rng.uniform(-4000, 4000), rng.uniform(-4000, 4000)) for _ in range(36)]
    distances = [[math.dist(a, b) for b in points] for a in points]
    travel = ExplicitTravel([[d / 10 for d in row] for row in distances], distances)
    reps = tuple(rep(f"r{k}", shift=(8 * 3600.0, 17 * 3600.0), capacity=12) for k in range(3))
    visits = []
    for i in range(1, 37):
        kwargs: dict[str, object] = {"service": 600, "demand": 1}
        if i % 4 == 0:
            kwargs["reps"] = frozenset({"r0"})  # territory
        if i % 5 == 0:
            kwargs["time_windows"] = ((9 * 3600.0, 10 * 3600.0), (14 * 3600.0, 15 * 3600.0))
        if i % 7 == 0:
            kwargs |= {"required": False, "penalty": 5_000.0}
        visits.append(Visit(f"v{i}", i, **kwargs))
    visits[0] = Visit("v1", 1, service=600, demand=1, locked_rep="r1", locked_position=0)
    problem = Problem(reps, tuple(visits), travel)
    result = solve(problem, time_limit=2, configs=[RUIN_AND_RECREATE])
    assert result.is_feasible(), result.summary()
    assert stop_ids(result, "r1")[0] == "v1"
    for route in result.routes:
        for stop in route.stops:
            visit = problem.visits[problem.visit_index[stop.visit]]
            if visit.reps is not None:
                assert route.rep in visit.reps
            if visit.time_windows:
                assert any(a <= stop.start <= b for a, b in visit.time_windows)
        assert len(route.stops) <= 12


def test_default_searches_pair_two_ruin_and_recreate_seeds_only_where_focused_descents_apply():
    from dataclasses import replace

    from routing.solve import DEFAULT_CONFIGS, FOCUSED_CONFIGS, LARGE_CONFIGS, default_configs

    with_breaks = grid_day(10)
    assert default_configs(with_breaks) == FOCUSED_CONFIGS
    assert FOCUSED_CONFIGS[0].ruin_recreate and FOCUSED_CONFIGS[1].ruin_recreate
    # money costs: the time part of the cost depends on the schedule, so no focused descents
    with_costs = Problem(
        tuple(replace(r, cost_per_hour=30.0) for r in with_breaks.reps), with_breaks.visits, with_breaks.travel
    )
    assert default_configs(with_costs) == DEFAULT_CONFIGS
    assert not DEFAULT_CONFIGS[1].ruin_recreate  # guided local search on the second core
    # more than 20,000 visit-rep pairs: arc-based construction, guided local search
    fleet = tuple(replace(with_breaks.reps[0], id=f"r{k}") for k in range(2001))
    large = Problem(fleet, with_breaks.visits, with_breaks.travel)
    assert default_configs(large) == LARGE_CONFIGS


def test_small_problems_take_the_recreates_routes_where_it_checks_every_rule():
    """Up to RECREATE_ONLY_UP_TO visits, when the recreate sees every rule (one
    break per rep, no duration limit, no money costs), no descent follows it."""
    from dataclasses import replace

    from routing.solve import FOCUSED_CONFIGS, RECREATE_ONLY_UP_TO, SMALL_CONFIGS, default_configs

    def without_duration_limit(problem: Problem, **changes: Any) -> Problem:
        reps = tuple(replace(r, max_route_duration=None, **changes) for r in problem.reps)
        return Problem(reps, problem.visits, problem.travel)

    small = without_duration_limit(grid_day(20))
    assert default_configs(small) == SMALL_CONFIGS
    assert not SMALL_CONFIGS[0].descents and not SMALL_CONFIGS[1].descents
    assert default_configs(grid_day(20)) == FOCUSED_CONFIGS  # a duration limit: the recreate cannot see it
    two_breaks = without_duration_limit(
        grid_day(20), breaks=(Break((10 * 3600.0, 11 * 3600.0), 600), Break((12 * 3600.0, 13 * 3600.0), 1800))
    )
    assert default_configs(two_breaks) == FOCUSED_CONFIGS
    assert default_configs(without_duration_limit(grid_day(RECREATE_ONLY_UP_TO + 1))) == FOCUSED_CONFIGS
    # a visit locked to a position: the recreate never moves it but may insert before it
    first = replace(small.visits[0], locked_rep="r0", locked_position=0)
    locked = Problem(small.reps, (first, *small.visits[1:]), small.travel)
    assert default_configs(locked) == FOCUSED_CONFIGS

    result = solve(small, time_limit=1, threads=2)
    assert result.is_feasible(), result.summary()
    assert any("recreates only" in note for note in result.stats.notes), result.stats.notes
    for route in result.routes:
        if route.stops:
            (lunch,) = route.breaks
            assert 12 * 3600.0 <= lunch.start <= 13 * 3600.0


def test_routes_are_opened_only_where_routes_are_long():
    """Where the windows decide how many short routes are needed, opening one only costs iterations."""
    from routing._search import OPEN_ROUTE_FROM, OPEN_ROUTE_FULL, open_route_rate_for
    from routing.solve import RUIN_AND_RECREATE

    rate = RUIN_AND_RECREATE.open_route_rate
    assert rate > 0

    def routes_of(length: int) -> list[list[int]]:
        return [list(range(length)), list(range(length)), []]

    assert open_route_rate_for(RUIN_AND_RECREATE, routes_of(OPEN_ROUTE_FROM)) == 0
    assert open_route_rate_for(RUIN_AND_RECREATE, routes_of(OPEN_ROUTE_FULL)) == pytest.approx(rate)
    assert open_route_rate_for(RUIN_AND_RECREATE, routes_of(3 * OPEN_ROUTE_FULL)) == pytest.approx(rate)
    middle = (OPEN_ROUTE_FROM + OPEN_ROUTE_FULL) // 2
    assert 0 < open_route_rate_for(RUIN_AND_RECREATE, routes_of(middle)) < rate
