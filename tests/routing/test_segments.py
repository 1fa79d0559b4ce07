"""Stretches of a route folded into one stop: the concatenation is exact, changes are found, pins stay first."""

from __future__ import annotations

import random

import pytest

from routing._segments import Segment, break_gaps, changed_positions, compress_route, segment_of
from routing._sisr import ScheduleCache
from tests.routing.test_sisr import line_data


def simulate(data, members: list[int], start: int) -> int | None:
    """Start of service at the last stop when the first is reached at `start`; None if a window is missed."""
    time = start
    for position, node in enumerate(members):
        if position:
            time += data.travel[members[position - 1]][node]
        time = max(time, data.window_open[node])
        if time > data.window_close[node]:
            return None
    return time


def test_a_segment_opens_when_its_last_window_can_still_be_met_and_waits_inside_when_it_must() -> None:
    # stops at 10 and 20 (travel 10): the second opens at 50 and closes at 60
    data = line_data([10, 20], windows={0: (0, 100), 1: (50, 60)})
    assert segment_of(data, [0, 1]) == Segment((0, 1), opens=40, closes=50, duration=10, demand=0)
    # the first stop closes at 10: leaving it on time still means waiting 30 at the second
    data = line_data([10, 20], windows={0: (0, 10), 1: (50, 60)})
    assert segment_of(data, [0, 1]) == Segment((0, 1), opens=10, closes=10, duration=40, demand=0)


def test_a_segment_behaves_exactly_like_its_stops_for_every_start_time() -> None:
    rng = random.Random(7)
    for _ in range(300):
        count = rng.randint(1, 6)
        windows = {}
        for node in range(count):
            opens = rng.randint(0, 300)
            windows[node] = (opens, opens + rng.randint(0, 120))
        data = line_data([rng.randint(0, 100) for _ in range(count)], windows=windows, shift_close=1000)
        members = list(range(count))
        starts = [simulate(data, members, t) for t in range(0, 700)]
        if all(s is None for s in starts):
            with pytest.raises(ValueError, match="cannot be served in this order"):
                segment_of(data, members)
            continue
        segment = segment_of(data, members)
        for t, last_start in enumerate(starts):
            if t <= segment.closes:
                assert last_start == max(t, segment.opens) + segment.duration, (windows, t)
            else:
                assert last_start is None, (windows, t)


def test_the_demand_of_a_segment_is_the_sum_of_its_stops() -> None:
    data = line_data([10, 20, 30], demand={0: 2, 1: 3, 2: 4})
    assert segment_of(data, [0, 2]).demand == 6


def test_changed_positions_are_the_stops_with_a_new_arc_on_either_side() -> None:
    data = line_data([10, 20, 30, 40, 50])
    # 4 inserted between 1 and 2: the arcs 1->4 and 4->2 are new
    assert changed_positions(data, 0, [0, 1, 2, 3], [0, 1, 4, 2, 3]) == [False, True, True, True, False]
    # 1 removed: 0->2 is new
    assert changed_positions(data, 0, [0, 1, 2, 3], [0, 2, 3]) == [True, True, False]
    # the first stop changed: the arc from the depot is new
    assert changed_positions(data, 0, [0, 1, 2], [1, 0, 2]) == [True, True, True]


def test_compress_route_keeps_stops_near_a_change_free_and_folds_the_rest() -> None:
    data = line_data([10 * k for k in range(1, 9)])
    route = list(range(8))
    changed = [False, False, False, True, False, False, False, False]
    compressed = compress_route(data, route, changed, radius=1)
    assert compressed == [segment_of(data, [0, 1]), 2, 3, 4, segment_of(data, [5, 6, 7])]
    assert compress_route(data, route, [False] * 8, radius=2) == [segment_of(data, route)]
    assert compress_route(data, route, changed, radius=10) == route


def test_pinned_stops_and_everything_before_them_form_the_leading_segment() -> None:
    data = line_data([10 * k for k in range(1, 7)], pinned=frozenset({1}))
    compressed = compress_route(data, list(range(6)), [True] * 6, radius=0)
    assert compressed == [segment_of(data, [0, 1]), 2, 3, 4, 5]
    # a pinned prefix stays its own segment even when the stops after it are folded too
    compressed = compress_route(data, list(range(6)), [False, False, False, False, False, True], radius=0)
    assert compressed == [segment_of(data, [0, 1]), segment_of(data, [2, 3, 4]), 5]


def test_break_gaps_free_the_stops_around_every_gap_a_break_could_fall_in() -> None:
    # services at fixed times 100, 200, 300, 400 (travel = distance, no service time)
    windows = {0: (100, 100), 1: (200, 200), 2: (300, 300), 3: (400, 400)}
    data = line_data([10, 20, 30, 40], windows=windows)
    schedules = ScheduleCache(data)
    route = [0, 1, 2, 3]
    # a 30-minute break starting in [250, 260] fits only between the stops at 200 and 300
    assert break_gaps(schedules, 0, route, [(250, 260, 30)]) == [False, True, True, False]
    # one starting in [20, 40] before the first stop: only the first stop borders that gap
    assert break_gaps(schedules, 0, route, [(20, 40, 30)]) == [True, False, False, False]
    # one that may start from 420, after the last stop
    assert break_gaps(schedules, 0, route, [(420, 500, 30)]) == [False, False, False, True]
    # a wide window reaches every gap; no breaks, nothing kept free
    assert break_gaps(schedules, 0, route, [(0, 10_000, 30)]) == [True] * 4
    assert break_gaps(schedules, 0, route, []) == [False] * 4


def test_stops_kept_free_stay_single_without_a_radius_around_them() -> None:
    data = line_data([10 * k for k in range(1, 9)])
    route = list(range(8))
    kept_free = [False, False, False, False, False, True, False, False]
    changed = [True, False, False, False, False, False, False, False]
    compressed = compress_route(data, route, changed, radius=1, kept_free=kept_free)
    assert compressed == [0, 1, segment_of(data, [2, 3, 4]), 5, segment_of(data, [6, 7])]
