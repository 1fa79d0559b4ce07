"""Visits: what the API and the phones send and read."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from server.api.filters import ByCustomerQuery
from server.api.schemas import StrictModel, TenantRead, Text
from server.geo import LatLon
from shared.enums import VerificationStatus, VisitStatus

# ---- visits -------------------------------------------------------------------


class VisitCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    rep_id: uuid.UUID | None = Field(default=None, description="Defaults to the caller")
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    status: VisitStatus = VisitStatus.planned
    check_in_at: AwareDatetime | None = None
    check_in_location: LatLon | None = None
    check_in_accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    check_out_at: AwareDatetime | None = None
    check_out_location: LatLon | None = None
    check_out_accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    outcome: str | None = Field(default=None, max_length=200)
    notes: Text | None = None
    fixed: bool = Field(default=False, description="Agreed with the customer: planning keeps it at its time")


class VisitUpdate(StrictModel):
    rep_id: uuid.UUID | None = None
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    status: VisitStatus | None = None
    check_in_at: AwareDatetime | None = None
    check_in_location: LatLon | None = None
    check_in_accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    check_out_at: AwareDatetime | None = None
    check_out_location: LatLon | None = None
    check_out_accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    outcome: str | None = Field(default=None, max_length=200)
    notes: Text | None = None
    fixed: bool | None = None


class VisitRead(TenantRead):
    customer_id: uuid.UUID
    rep_id: uuid.UUID
    planned_start: datetime | None
    planned_end: datetime | None
    status: VisitStatus
    check_in_at: datetime | None
    check_in_location: LatLon | None
    check_in_accuracy_m: float | None
    check_out_at: datetime | None
    check_out_location: LatLon | None
    check_out_accuracy_m: float | None
    verification_status: VerificationStatus
    verification_distance_m: float | None
    outcome: str | None
    notes: str | None
    fixed: bool


class VisitListQuery(ByCustomerQuery):
    rep_id: uuid.UUID | None = None
    status: VisitStatus | None = None
    planned_from: AwareDatetime | None = None
    planned_to: AwareDatetime | None = None


class VisitPresence(BaseModel):
    """Was the rep at the customer between check-in and check-out, by their GPS track?"""

    visit_id: uuid.UUID
    present: bool | None = Field(description="None when it cannot be told (see reason)")
    reason: str | None = Field(default=None, description="Why it cannot be told")
    longest_dwell_minutes: float | None = None
    fixes: int | None = Field(default=None, description="Track points in the visit's time")
    radius_m: float | None = None
    minutes: float | None = None
