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


# ---- planning runs (PLANNING.md) ------------------------------------------------


class PlanningRunCreate(StrictModel):
    rep_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=2000,
        description="Default: every active rep the caller manages (admins: the organisation's)",
    )
    start_date: date | None = Field(default=None, description="Default: tomorrow in the organisation's time zone")
    days: int = Field(default=5, ge=1, le=28)
    time_limit_s: int = Field(default=30, ge=1, le=600, description="The solver's budget per team")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    publish: bool = Field(default=False, description="Publish as soon as the run succeeds")


class RunProgress(StrictModel):
    phase: str
    percent: float


class RunError(StrictModel):
    code: str
    detail: str


class RunStop(StrictModel):
    customer_id: uuid.UUID
    kind: str
    arrival: AwareDatetime
    start: AwareDatetime
    departure: AwareDatetime
    visit_id: uuid.UUID | None
    task_id: uuid.UUID | None = None
    due_date: date | None = None


class RunDay(StrictModel):
    rep_id: uuid.UUID
    date: date
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    stops: list[RunStop]
    breaks: list[dict[str, Any]] = Field(default_factory=list)
    distance_m: float
    duration_s: float
    drive_s: float | None = None


class RunUnassigned(StrictModel):
    customer_id: uuid.UUID
    kind: str = "recurring"
    due_date: date | None
    reason: str
    detail: str = ""


class RunSummary(StrictModel):
    due: int
    planned: int
    unassigned: int
    distance_m: float
    drive_s: float
    service_s: float
    reps_without_start: list[uuid.UUID] = Field(default_factory=list)


class RunPartRead(StrictModel):
    part: int
    rep_ids: list[uuid.UUID]
    status: str
    progress: RunProgress
    error: RunError | None


class PlanningRunRead(StrictModel):
    id: uuid.UUID
    status: str
    progress: RunProgress
    params: dict[str, Any]
    created_by: uuid.UUID
    created_at: AwareDatetime
    finished_at: AwareDatetime | None
    published_at: AwareDatetime | None = None
    error: RunError | None
    summary: RunSummary | None
    days: list[RunDay]
    unassigned: list[RunUnassigned]
    parts: list[RunPartRead]


class PlanningRunList(StrictModel):
    items: list[PlanningRunRead]
