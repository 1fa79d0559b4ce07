"""Conversions between API shapes ({lat, lon}, GeoJSON) and PostGIS values."""

from __future__ import annotations

import struct
from typing import Annotated, Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field, model_validator
from shapely.geometry import mapping

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="WGS84 degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="WGS84 degrees")]


class LatLon(BaseModel):
    """A WGS84 position: `{"lat": 45.76, "lon": 4.83}`, or a GeoJSON Point
    `{"type": "Point", "coordinates": [4.83, 45.76]}` (longitude first, RFC 7946)."""

    model_config = ConfigDict(extra="forbid")
    lat: Latitude
    lon: Longitude

    @model_validator(mode="before")
    @classmethod
    def _from_geojson_point(cls, value: Any) -> Any:
        if not isinstance(value, dict) or "type" not in value:
            return value
        if value.get("type") != "Point" or set(value) - {"type", "coordinates", "bbox"}:
            raise ValueError('a position is {"lat", "lon"} or a GeoJSON Point')
        coordinates = value.get("coordinates")
        if not isinstance(coordinates, list | tuple) or len(coordinates) not in (2, 3):
            raise ValueError("a GeoJSON Point's coordinates are [lon, lat] (or [lon, lat, altitude])")
        return {"lon": coordinates[0], "lat": coordinates[1]}


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
