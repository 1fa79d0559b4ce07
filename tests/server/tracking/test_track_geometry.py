"""Track geometry by hand: simplification keeps corners, distances are great-circle, stops are found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.tracking.geometry import Fix, distance_m, simplify, stops

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def line(points: list[tuple[float, float]]) -> list[Fix]:
    return [Fix(T0 + timedelta(minutes=k), lat, lon) for k, (lat, lon) in enumerate(points)]


def test_an_l_shaped_walk_keeps_its_corner_only():
    """East 10 steps, then north 10: Douglas-Peucker with 1 m keeps the two ends and the corner."""
    east = [(45.0, 4.0 + 0.0001 * k) for k in range(11)]
    north = [(45.0 + 0.0001 * k, 4.001) for k in range(1, 11)]
    kept = simplify(line(east + north), tolerance_m=1.0)
    assert [(f.lat, f.lon) for f in kept] == [(45.0, 4.0), (45.0, 4.001), (45.001, 4.001)]


def test_a_detour_larger_than_the_tolerance_is_kept():
    wiggle = [(45.0, 4.0), (45.0002, 4.0005), (45.0, 4.001)]  # ~22 m off the straight line
    assert len(simplify(line(wiggle), tolerance_m=30)) == 2
    assert len(simplify(line(wiggle), tolerance_m=10)) == 3


def test_distance_of_one_degree_of_latitude():
    assert abs(distance_m(line([(45.0, 4.0), (46.0, 4.0)])) - 111_195) < 5


def test_a_short_pause_is_not_a_stop():
    fixes = line([(45.0, 4.0)] * 4 + [(45.01, 4.0)])
    assert stops(fixes, radius_m=20, min_minutes=5) == []
    assert len(stops(fixes, radius_m=20, min_minutes=3)) == 1
