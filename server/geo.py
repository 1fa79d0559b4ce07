"""Conversions between API shapes ({lat, lon}, GeoJSON) and PostGIS values."""

from __future__ import annotations

import struct
from typing import Annotated, Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="WGS84 degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="WGS84 degrees")]


class LatLon(BaseModel):
    """A WGS84 position."""

    model_config = ConfigDict(extra="forbid")
    lat: Latitude
    lon: Longitude


def point_element(point: LatLon | dict[str, float] | None) -> WKTElement | None:
    if point is None:
        return None
    if isinstance(point, dict):
        point = LatLon(**point)
    return WKTElement(f"POINT({point.lon!r} {point.lat!r})", srid=4326)


_POINT_TYPE = 1
_HAS_SRID = 0x20000000


def point_out(value: Any) -> dict[str, float] | None:
    """{lat, lon} of a stored point. Decodes (E)WKB directly: this runs for every
    row of every page, and a general geometry parser costs ~30x more."""
    if value is None:
        return None
    if isinstance(value, WKTElement):
        lon, lat = value.data.removeprefix("POINT(").removesuffix(")").split()
        return {"lat": float(lat), "lon": float(lon)}
    data = value.data
    raw = bytes.fromhex(data) if isinstance(data, str) else bytes(data)
    order = "<" if raw[0] == 1 else ">"
    (kind,) = struct.unpack_from(f"{order}I", raw, 1)
    if kind & 0xFF != _POINT_TYPE:
        shape = to_shape(value)
        return {"lat": shape.y, "lon": shape.x}
    offset = 9 if kind & _HAS_SRID else 5
    lon, lat = struct.unpack_from(f"{order}dd", raw, offset)
    return {"lat": lat, "lon": lon}


def geometry_out(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, WKBElement):
        return dict(mapping(to_shape(value)))
    return None
