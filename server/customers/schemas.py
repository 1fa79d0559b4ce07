from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from server.api.filters import SpatialListQuery
from server.api.schemas import CountryCode, Email, StrictModel, TenantRead, WeeklyHours
from server.geo import Latitude, LatLon, Longitude
from shared.enums import CustomerStatus, GeocodeAccuracy, Tier

Tag = Annotated[str, Field(min_length=1, max_length=64)]
Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


class CustomerFields(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    status: CustomerStatus | None = None
    street: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=20)
    region: str | None = Field(default=None, max_length=120)
    country: CountryCode | None = None
    location: LatLon | None = None
    geocode_accuracy: GeocodeAccuracy | None = None
    territory_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    tier: Tier | None = None
    annual_revenue: Money | None = None
    visit_frequency_days: int | None = Field(default=None, ge=1, le=365)
    service_minutes: int | None = Field(
        default=None, ge=1, le=720, description="Time on site in minutes; overrides the tier's default"
    )
    visit_windows: WeeklyHours | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=40)
    email: Email | None = None
    website: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=20_000)


class CustomerCreate(CustomerFields):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=300)


class CustomerUpdate(CustomerFields):
    pass


class CustomerRead(TenantRead):
    name: str
    status: CustomerStatus
    street: str | None
    city: str | None
    postal_code: str | None
    region: str | None
    country: str | None
    location: LatLon | None
    geocode_accuracy: GeocodeAccuracy
    territory_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    tier: Tier
    annual_revenue: Decimal | None
    visit_frequency_days: int | None
    service_minutes: int | None
    visit_windows: dict[str, list[list[str]]]
    tags: list[str]
    phone: str | None
    email: str | None
    website: str | None
    notes: str | None
    last_visit_at: datetime | None
    external_ref: str | None
    assigned_by: str | None = Field(
        default=None, description="How a lead found its rep: territory | round_robin | manual | unassigned"
    )
    rfm_segment: str | None = Field(default=None, description="From purchase history (GET /analytics/segments)")
    churn_risk: bool = Field(default=False, description="Longer since the last order than their own rhythm allows")


class CustomerListQuery(SpatialListQuery):
    status: CustomerStatus | None = None
    tier: Tier | None = None
    territory_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    assigned_by: Literal["territory", "round_robin", "manual", "unassigned"] | None = None
    rfm_segment: str | None = Field(default=None, max_length=32)
    churn_risk: bool | None = None


class NearestQuery(StrictModel):
    lat: Latitude
    lon: Longitude
    limit: int = Field(default=20, ge=1, le=200)


class NearCustomer(BaseModel):
    distance_m: float
    customer: CustomerRead


class NearestResponse(BaseModel):
    items: list[NearCustomer]
