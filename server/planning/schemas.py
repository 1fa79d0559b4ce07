"""Plans: written by the planner, read-only in the field."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import AwareDatetime, Field

from server.api.schemas import StrictModel, TenantRead

# ---- plans (written by the planner, read-only in the field) -----------------------


class PlanStop(StrictModel):
    visit_id: uuid.UUID
    customer_id: uuid.UUID
    arrival: AwareDatetime
    departure: AwareDatetime


class PlanWrite(StrictModel):
    id: uuid.UUID | None = None
    rep_id: uuid.UUID
    plan_date: date
    stops: list[PlanStop] = Field(default_factory=list, max_length=500)
    distance_m: float = Field(default=0, ge=0)
    duration_s: float = Field(default=0, ge=0)


class PlanUpdate(StrictModel):
    stops: list[PlanStop] | None = Field(default=None, max_length=500)
    distance_m: float | None = Field(default=None, ge=0)
    duration_s: float | None = Field(default=None, ge=0)


class PlanRead(TenantRead):
    rep_id: uuid.UUID
    plan_date: date
    stops: list[dict[str, Any]]
    distance_m: float
    duration_s: float
