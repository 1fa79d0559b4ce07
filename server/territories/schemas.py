from __future__ import annotations

import math
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from server.api.filters import ListQuery
from server.api.schemas import StrictModel, TenantRead

Ring = list[list[float]]


def _check_ring(ring: Ring, where: str) -> None:
    if len(ring) < 4:
        raise ValueError(f"{where}: a ring needs at least 4 positions (closed)")
    for position in ring:
        if len(position) not in (2, 3):
            raise ValueError(f"{where}: a position is [lon, lat]")
        lon, lat = position[0], position[1]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"{where}: coordinates must be finite numbers")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"{where}: [{lon}, {lat}] is outside [-180..180, -90..90] (lon, lat order)")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError(f"{where}: the ring is not closed (first and last positions differ)")


class GeoJSONArea(BaseModel):
    """A GeoJSON (RFC 7946) Polygon or MultiPolygon, [lon, lat] order."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]

    @field_validator("coordinates")
    @classmethod
    def _rings(cls, value: list[Any], info: Any) -> list[Any]:
        polygons = [value] if info.data.get("type") == "Polygon" else value
        if not polygons:
            raise ValueError("a MultiPolygon needs at least one polygon")
        for p_index, polygon in enumerate(polygons):
            if not isinstance(polygon, list) or not polygon:
                raise ValueError(f"polygon {p_index}: needs an outer ring")
            for r_index, ring in enumerate(polygon):
                _check_ring(ring, f"polygon {p_index} ring {r_index}")
        return value


class TerritoryCreate(StrictModel):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=200)
    geometry: GeoJSONArea
    color: str = Field(default="#3388ff", pattern=r"^#[0-9a-fA-F]{6}$")
    rep_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)


class TerritoryUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    geometry: GeoJSONArea | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    rep_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class TerritoryRead(TenantRead):
    name: str
    geometry: dict[str, Any]
    color: str
    rep_ids: list[uuid.UUID] = Field(default_factory=list)


class TerritoryListQuery(ListQuery):
    rep_id: uuid.UUID | None = None
