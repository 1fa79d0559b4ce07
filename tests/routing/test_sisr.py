"""Ruin and recreate on hand-built data: strings, windows, capacity, allowed reps, pins."""

from __future__ import annotations

import random

from routing._sisr import UNBOUNDED, InsertionData, recreate, ruin


def line_data(
    positions: list[int],
    *,
    windows: dict[int, tuple[int, int]] | None = None,
    demand: dict[int, int] | None = None,
    vehicles: int = 1,
    capacity: int = UNBOUNDED,
    max_stops: int = UNBOUNDED,
    allowed: dict[int, set[int]] | None = None,
    pinned: frozenset[int] = frozenset(),
    shift_close: int = 10_000,
) -> InsertionData:
    """Visits on a line at `positions`; the depot (last node) at 0; travel = cost = distance."""
    nodes = [*positions, 0]
    count = len(positions)
    depot = count
    matrix = [[abs(a - b) for b in nodes] for a in nodes]
    windows = windows or {}
    return InsertionData(
        travel=matrix,
        cost=matrix,
        window_open=[windows.get(n, (0, shift_close))[0] for n in range(count)] + [0],
        window_close=[windows.get(n, (0, shift_close))[1] for n in range(count)] + [shift_close],
        demand=[(demand or {}).get(n, 0) for n in range(count)] + [0],
        start_node=[depot] * vehicles,
        end_node=[depot] * vehicles,
        shift_open=[0] * vehicles,
        shift_close=[shift_close] * vehicles,
        capacity=[capacity] * vehicles,
        max_stops=[max_stops] * vehicles,
        copies=[[n] for n in range(count)],
        allowed=[frozenset((allowed or {}).get(n, range(vehicles))) for n in range(count)],
        neighbours=[sorted((o for o in range(count) if o != n), key=matrix[n].__getitem__) for n in range(count)],
        pinned=pinned,
    )


def is_subsequence(short: list[int], long: list[int]) -> bool:
    remaining = iter(long)
    return all(node in remaining for node in short)


def test_ruin_removes_strings_of_consecutive_stops_and_keeps_the_order_of_the_rest() -> None:
    data = line_data(list(range(10, 130, 10)), vehicles=3)
    routes = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    for seed in range(50):
        ruined, removed = ruin(data, routes, random.Random(seed), average_removed=4, max_string=3)
        assert removed, "a ruin removes at least the seed's string"
        assert sorted(removed + [n for r in ruined for n in r]) == list(range(12))
        for before, after in zip(routes, ruined, strict=True):
            assert is_subsequence(after, before)
            gone = [n for n in before if n not in after]
            if gone:
                start = before.index(gone[0])
                assert before[start : start + len(gone)] == gone, "one string per route"
                assert len(gone) <= 3


def test_ruin_never_moves_a_pinned_stop() -> None:
    data = line_data([10, 20, 30, 40], pinned=frozenset({1, 2}))
    for seed in range(50):
        ruined, removed = ruin(data, [[0, 1, 2, 3]], random.Random(seed), average_removed=3, max_string=4)
        assert 1 not in removed and 2 not in removed
        assert ruined[0].index(1) < ruined[0].index(2)


def test_ruin_with_everything_pinned_removes_nothing() -> None:
    data = line_data([10, 20], pinned=frozenset({0, 1}))
    assert ruin(data, [[0, 1]], random.Random(1)) == ([[0, 1]], [])


def test_a_whole_route_ruin_empties_one_route_of_any_length() -> None:
    data = line_data(list(range(10, 130, 10)), vehicles=3, pinned=frozenset({11}))
    routes = [[0, 1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11]]
    emptied = set()
    for seed in range(50):
        ruined, removed = ruin(data, routes, random.Random(seed), average_removed=3, max_string=3, whole_route=True)
        empty = {v for v, route in enumerate(ruined) if not route}
        assert empty, "a route goes whole"
        emptied |= empty
        assert sorted(removed + [n for r in ruined for n in r]) == list(range(12))
    # the seven-stop route is longer than any string, and the route with a pinned stop never goes
    assert emptied == {0, 1}


def test_recreate_puts_a_stop_back_at_the_cheapest_position() -> None:
    data = line_data([10, 20, 30, 40])
    routes, left = recreate(data, [[0, 1, 3]], [2], random.Random(0), blink_rate=0.0)
    assert (routes, left) == ([[0, 1, 2, 3]], [])


def test_recreate_follows_the_time_windows() -> None:
    # Visit 0 at 10 opens at 60, visit 1 at 50 closes at 70: serving 0 on the way
    # out (waiting until 60) reaches 1 too late, so 0 goes after 1.
    data = line_data([10, 50], windows={0: (60, 200), 1: (0, 70)})
    routes, left = recreate(data, [[1]], [0], random.Random(0), blink_rate=0.0)
    assert (routes, left) == ([[1, 0]], [])


def test_recreate_leaves_out_what_no_position_can_take() -> None:
    # Visit 0 closes at 5 but is 10 away from the depot; visit 1 needs more capacity than there is.
    data = line_data([10, 20], windows={0: (0, 5)}, demand={1: 7}, capacity=5)
    routes, left = recreate(data, [[]], [0, 1], random.Random(0), blink_rate=0.0)
    assert routes == [[]]
    assert sorted(left) == [0, 1]


def test_recreate_respects_allowed_vehicles_capacity_and_stop_limits() -> None:
    data = line_data([10, 11, 12], vehicles=2, demand={0: 3, 1: 3, 2: 1}, capacity=4, max_stops=2, allowed={2: {1}})
    for seed in range(20):
        routes, left = recreate(data, [[], []], [0, 1, 2], random.Random(seed), blink_rate=0.0)
        assert left == []
        assert 2 in routes[1]
        for route in routes:
            assert len(route) <= 2
            assert sum(data.demand[n] for n in route) <= 4


def test_recreate_chooses_the_best_window_copy() -> None:
    # One visit with two windows, as two node copies 0 and 1 at the same place;
    # only the second window is reachable after visit 2.
    data = line_data([10, 10, 40], windows={0: (0, 20), 1: (100, 200)})
    data = InsertionData(**{**data.__dict__, "copies": [[0, 1], [0, 1], [2]]})
    routes, left = recreate(data, [[2]], [0], random.Random(0), blink_rate=0.0)
    assert left == []
    assert routes in ([[0, 2]], [[2, 1]])
    # with the first window closed and visit 2 due by 60, only the second copy after 2 is possible
    data = InsertionData(**{**data.__dict__, "window_close": [5, 200, 60, 10_000]})
    routes, left = recreate(data, [[2]], [0], random.Random(0), blink_rate=0.0)
    assert (routes, left) == ([[2, 1]], [])


def test_recreate_can_open_a_route_that_nearby_visits_then_join() -> None:
    """A route of its own is never the cheapest place for one visit: without
    `open_route` far visits join the used route, with it they share a new one."""
    data = line_data([10, 20, 100, 105], vehicles=2)
    for seed in range(20):
        routes, left = recreate(data, [[0, 1], []], [2, 3], random.Random(seed), blink_rate=0.0)
        assert left == [] and routes[1] == []
        routes, left = recreate(data, [[0, 1], []], [2, 3], random.Random(seed), blink_rate=0.0, open_route=True)
        assert left == []
        assert routes[0] == [0, 1] and sorted(routes[1]) == [2, 3]


def test_recreate_opens_no_route_where_no_unused_vehicle_may_take_the_visit() -> None:
    # vehicle 1 is unused but not allowed to serve visit 2: it goes to the used route
    data = line_data([10, 20, 100], vehicles=2, allowed={2: {0}})
    for seed in range(20):
        routes, left = recreate(data, [[0, 1], []], [2], random.Random(seed), blink_rate=0.0, open_route=True)
        assert left == [] and routes[1] == [] and sorted(routes[0]) == [0, 1, 2]


def test_a_lone_route_gives_several_strings_when_more_are_wanted() -> None:
    """SISR takes one string per route; one rep's day would then only ever lose one stretch."""
    data = line_data([10 * k for k in range(1, 21)])
    route = list(range(20))
    random.Random(7).shuffle(route)  # the route zigzags, so near stops are far apart in it
    scattered = 0
    for seed in range(50):
        ruined, removed = ruin(data, [route], random.Random(seed), average_removed=10, max_string=3)
        assert sorted(removed + ruined[0]) == list(range(20)), "every stop is either kept or removed, once"
        assert is_subsequence(ruined[0], route)
        positions = sorted(route.index(node) for node in removed)
        if positions[-1] - positions[0] + 1 > len(positions):
            scattered += 1
    assert scattered >= 10, scattered


def test_a_split_string_leaves_a_block_of_stops_in_its_middle() -> None:
    data = line_data([10 * k for k in range(1, 25)], vehicles=3)
    routes = [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    split = 0
    for seed in range(50):
        # at most 3 strings for 3 routes: one string per route
        ruined, removed = ruin(data, routes, random.Random(seed), average_removed=4, max_string=4, split_rate=1.0)
        assert sorted(removed + [n for r in ruined for n in r]) == list(range(24))
        for before, after in zip(routes, ruined, strict=True):
            assert is_subsequence(after, before)
            gone = [before.index(n) for n in before if n not in after]
            if not gone:
                continue
            kept_inside = [p for p in range(gone[0], gone[-1] + 1) if before[p] in after]
            # what stays inside the cut is one block of consecutive stops
            if kept_inside:
                assert kept_inside == list(range(kept_inside[0], kept_inside[0] + len(kept_inside)))
                split += 1
    assert split >= 10, split
