"""Distances on the Earth (stdlib only). Never Cartesian degrees."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["EARTH_RADIUS_M", "GeoPoint", "haversine_m"]

# Mean Earth radius (IUGG), the same sphere PostGIS uses for geography with
# use_spheroid=false, so server-side and client-side distances agree.
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude must be a finite number in [-90, 90], got {self.lat}")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude must be a finite number in [-180, 180], got {self.lon}")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points on the mean sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
