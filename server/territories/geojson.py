"""Territory areas from GeoJSON (RFC 7946): checked with a stable code per kind of problem,
normalised (MultiPolygon, exterior rings counter-clockwise, SRID 4326)."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

# PostGIS's ST_IsValidReason, by the start of its sentence -> our code
_REASONS = (
    ("Self-intersection", "SELF_INTERSECTION"),
    ("Ring Self-intersection", "SELF_INTERSECTION"),
    ("Hole lies outside shell", "HOLE_OUTSIDE_SHELL"),
    ("Holes are nested", "NESTED_HOLES"),
    ("Interior is disconnected", "INTERIOR_DISCONNECTED"),
    ("Nested shells", "NESTED_SHELLS"),
    ("Too few points", "TOO_FEW_POINTS"),
)


@dataclass(frozen=True)
class AreaProblem:
    code: str
    detail: str


def _rings(geometry: dict[str, Any]) -> list[Any] | None:
    """The rings, or None when the nesting is not Polygon's or MultiPolygon's."""
    coordinates = geometry.get("coordinates")
    if geometry.get("type") == "Polygon":
        return list(coordinates) if isinstance(coordinates, list) else None
    if not isinstance(coordinates, list) or not all(isinstance(polygon, list) for polygon in coordinates):
        return None
    return [ring for polygon in coordinates for ring in polygon]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def structural_problem(geometry: Any) -> AreaProblem | None:
    """What can be said without PostGIS: shape, ranges, closure, the antimeridian."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return AreaProblem("UNSUPPORTED_GEOMETRY", "a territory is a Polygon or a MultiPolygon")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        return AreaProblem("INVALID_GEOMETRY", "coordinates are missing")
    rings = _rings(geometry)
    if rings is None:
        return AreaProblem("INVALID_GEOMETRY", "a MultiPolygon's coordinates are a list of polygons (lists of rings)")
    for index, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            return AreaProblem("TOO_FEW_POINTS", f"ring {index}: a ring needs at least 4 positions")
        for position in ring:
            if (
                not isinstance(position, list)
                or len(position) not in (2, 3)
                or not all(_is_number(v) for v in position)
            ):
                return AreaProblem("INVALID_GEOMETRY", f"ring {index}: a position is [lon, lat] of finite numbers")
            lon, lat = position[0], position[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                hint = " (latitude and longitude swapped?)" if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
                return AreaProblem(
                    "COORDINATES_OUT_OF_RANGE", f"ring {index}: [{lon}, {lat}] is not [lon, lat] on the Earth{hint}"
                )
        if ring[0][:2] != ring[-1][:2]:
            return AreaProblem("UNCLOSED_RING", f"ring {index}: the first and last positions differ")
        for a, b in itertools.pairwise(ring):
            if abs(a[0] - b[0]) > 180:
                return AreaProblem(
                    "ANTIMERIDIAN_CROSSING",
                    f"ring {index}: an edge from {a[0]} to {b[0]} crosses the antimeridian; "
                    "cut the area into a MultiPolygon at 180° (RFC 7946 section 3.1.9)",
                )
    return None


def area_problem(session: Session, geometry: Any) -> AreaProblem | None:
    problem = structural_problem(geometry)
    if problem is not None:
        return problem
    shape = func.ST_GeomFromGeoJSON(json.dumps(geometry))
    valid, reason = session.execute(select(func.ST_IsValid(shape), func.ST_IsValidReason(shape))).one()
    if valid:
        return None
    code = next((c for prefix, c in _REASONS if reason.startswith(prefix)), "INVALID_GEOMETRY")
    return AreaProblem(code, f"not a valid area: {reason}")


def normalised(geometry: dict[str, Any]) -> Any:
    """The SQL expression of the stored shape: MultiPolygon, SRID 4326, exterior rings counter-clockwise."""
    return func.ST_ForcePolygonCCW(func.ST_Multi(func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(geometry)), 4326)))
