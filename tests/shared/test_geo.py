from __future__ import annotations

import math

import pytest

from shared.geo import EARTH_RADIUS_M, GeoPoint, haversine_m


def test_quarter_meridian_is_a_quarter_of_the_circumference():
    """Equator to pole along a meridian is exactly pi/2 * R on the sphere."""
    assert haversine_m(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_M, rel=1e-12)


def test_one_degree_of_longitude_on_the_equator():
    assert haversine_m(0, 0, 0, 1) == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360, rel=1e-12)


def test_symmetric_and_zero_on_itself():
    a, b = (45.764, 4.8357), (48.8566, 2.3522)  # Lyon, Paris: about 392 km
    assert haversine_m(*a, *b) == pytest.approx(haversine_m(*b, *a))
    assert haversine_m(*a, *a) == 0
    assert 390_000 < haversine_m(*a, *b) < 394_000


def test_antipodes_do_not_overflow():
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (-91, 0), (0, 181), (float("nan"), 0), (0, float("inf"))])
def test_geopoint_rejects_impossible_positions(lat, lon):
    with pytest.raises(ValueError, match=r"latitude|longitude"):
        GeoPoint(lat, lon)
