from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from server.api.filters import ListQuery
from server.api.schemas import StrictModel, TenantRead


class GeoJSONArea(BaseModel):
    """A GeoJSON (RFC 7946) Polygon or MultiPolygon, [lon, lat] order. Its rings are checked
    by `server.territories.geojson` (each problem with its own code: UNCLOSED_RING,
    SELF_INTERSECTION, HOLE_OUTSIDE_SHELL, COORDINATES_OUT_OF_RANGE, ANTIMERIDIAN_CROSSING, ...)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


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
