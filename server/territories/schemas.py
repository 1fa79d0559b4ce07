from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from server.api.filters import ListQuery
from server.api.schemas import StrictModel, TenantRead
from server.geo import LatLon


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


# ---- answers of the territory endpoints beyond CRUD ----------------------------------------


class TerritoryOverlap(BaseModel):
    a: uuid.UUID
    b: uuid.UUID
    a_name: str
    b_name: str
    area_m2: float = Field(description="Area both territories cover, in square metres")


class TerritoryImportResult(BaseModel):
    created: list[uuid.UUID] = Field(description="The new territories, in the order of the features")
    overlaps: list[TerritoryOverlap] = Field(description="Pairs of territories that now overlap")
    names_from: dict[str, int] = Field(
        default_factory=dict,
        description="Where the names were found and how often: a property's key, or 'id' (the feature id)",
    )


class TerritoryFeatureProperties(BaseModel):
    name: str
    color: str
    rep_ids: list[uuid.UUID]


class TerritoryFeature(BaseModel):
    type: Literal["Feature"]
    id: uuid.UUID
    geometry: dict[str, Any] = Field(description="GeoJSON MultiPolygon, [lon, lat]")
    properties: TerritoryFeatureProperties


class TerritoryFeatureCollection(BaseModel):
    """RFC 7946 FeatureCollection: what `POST /territories/import` takes back."""

    type: Literal["FeatureCollection"]
    features: list[TerritoryFeature]


class UnassignedCustomer(BaseModel):
    id: uuid.UUID
    name: str
    location: LatLon | None


class UnassignedCustomerPage(BaseModel):
    items: list[UnassignedCustomer]
    next_cursor: str | None


class CoveragePeriod(BaseModel):
    start: str = Field(description="ISO 8601, inclusive")
    end: str = Field(description="ISO 8601, exclusive")


class TerritoryCoverage(BaseModel):
    territory_id: uuid.UUID
    period: CoveragePeriod
    customers: dict[str, int] = Field(description="Customers per tier (A, B, C)")
    visits_due: dict[str, int] = Field(description="Customers per tier whose next visit falls due in the period")
    customers_visited: dict[str, int] = Field(description="Customers per tier with a completed visit in the period")


class RepWorkload(BaseModel):
    rep_id: uuid.UUID
    workload_before_h: float
    workload_after_h: float
    customers_before: int
    customers_after: int


class ProposedMove(BaseModel):
    customer_id: uuid.UUID
    name: str
    from_rep_id: uuid.UUID
    to_rep_id: uuid.UUID
    to_territory_id: uuid.UUID
    row_version: int


class BalanceProposal(BaseModel):
    manager_id: uuid.UUID
    tolerance: float
    within_tolerance: bool
    mean_workload_h: float
    reps: list[RepWorkload]
    moves: list[ProposedMove] = Field(description="Send these (customer_id, to_territory_id, row_version) to apply")
    solver_status: str


class BalanceApplied(BaseModel):
    applied: int = Field(description="Customers moved")
