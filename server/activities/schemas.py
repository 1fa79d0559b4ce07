from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from server.api.filters import ListQuery
from server.api.schemas import Currency, Email, StrictModel, TenantRead
from server.geo import LatLon
from shared.enums import (
    NoteKind,
    OpportunityStage,
    TaskKind,
    TaskPriority,
    TaskStatus,
    VerificationStatus,
    VisitStatus,
)

Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
Text = Annotated[str, Field(max_length=20_000)]


class ByCustomerQuery(ListQuery):
    customer_id: uuid.UUID | None = None


# ---- contacts -----------------------------------------------------------------


class ContactCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: Email | None = None


class ContactUpdate(StrictModel):
    customer_id: uuid.UUID | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: Email | None = None


class ContactRead(TenantRead):
    customer_id: uuid.UUID
    name: str
    role: str | None
    phone: str | None
    email: str | None


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


class VisitListQuery(ByCustomerQuery):
    rep_id: uuid.UUID | None = None
    status: VisitStatus | None = None
    planned_from: AwareDatetime | None = None
    planned_to: AwareDatetime | None = None


# ---- tasks --------------------------------------------------------------------


class TaskCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = Field(default=None, description="Defaults to the caller")
    kind: TaskKind = TaskKind.other
    title: str = Field(min_length=1, max_length=300)
    description: Text | None = None
    due_at: AwareDatetime | None = None
    priority: TaskPriority = TaskPriority.normal
    status: TaskStatus = TaskStatus.open


class TaskUpdate(StrictModel):
    customer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    kind: TaskKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: Text | None = None
    due_at: AwareDatetime | None = None
    priority: TaskPriority | None = None
    status: TaskStatus | None = None


class TaskRead(TenantRead):
    customer_id: uuid.UUID | None
    assignee_id: uuid.UUID
    kind: TaskKind
    title: str
    description: str | None
    due_at: datetime | None
    priority: TaskPriority
    status: TaskStatus
    # Bumped when a manager reopens the task; a sync edit names the generation it saw.
    generation: int


class TaskListQuery(ByCustomerQuery):
    assignee_id: uuid.UUID | None = None
    status: TaskStatus | None = None
    kind: TaskKind | None = None


# ---- opportunities --------------------------------------------------------------


class OpportunityCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    title: str = Field(min_length=1, max_length=300)
    stage: OpportunityStage = OpportunityStage.lead
    amount: Money | None = Field(default=None, ge=0)
    currency: Currency = "EUR"
    probability: int | None = Field(default=None, ge=0, le=100)
    expected_close_date: date | None = None


class OpportunityUpdate(StrictModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    stage: OpportunityStage | None = None
    amount: Money | None = Field(default=None, ge=0)
    currency: Currency | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    expected_close_date: date | None = None


class OpportunityRead(TenantRead):
    customer_id: uuid.UUID
    title: str
    stage: OpportunityStage
    amount: Decimal | None
    currency: str
    probability: int | None
    expected_close_date: date | None


class OpportunityListQuery(ByCustomerQuery):
    stage: OpportunityStage | None = None


# ---- orders -------------------------------------------------------------------


class OrderCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    order_date: date
    amount: Money
    margin: Money | None = None
    currency: Currency = "EUR"


class OrderUpdate(StrictModel):
    order_date: date | None = None
    amount: Money | None = None
    margin: Money | None = None
    currency: Currency | None = None


class OrderRead(TenantRead):
    customer_id: uuid.UUID
    order_date: date
    amount: Decimal
    margin: Decimal | None
    currency: str


# ---- notes --------------------------------------------------------------------


class NoteCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    kind: NoteKind = NoteKind.note
    body: Text = Field(min_length=1)
    occurred_at: AwareDatetime | None = Field(default=None, description="Defaults to now")


class NoteUpdate(StrictModel):
    kind: NoteKind | None = None
    body: Text | None = Field(default=None, min_length=1)
    occurred_at: AwareDatetime | None = None


class NoteRead(TenantRead):
    customer_id: uuid.UUID
    author_id: uuid.UUID
    kind: NoteKind
    body: str
    occurred_at: datetime


class NoteListQuery(ByCustomerQuery):
    kind: NoteKind | None = None
    author_id: uuid.UUID | None = None


# ---- photos (metadata; the bytes are a content-addressed file) ----------------------

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lowercase hex")]


class PhotoCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    visit_id: uuid.UUID | None = None
    sha256: Sha256
    content_type: str = Field(pattern=r"^image/[a-z0-9.+-]+$", max_length=100)
    size_bytes: int = Field(ge=1, le=50 * 1024 * 1024)
    caption: str | None = Field(default=None, max_length=500)
    taken_at: AwareDatetime


class PhotoUpdate(StrictModel):
    """Photos are append-only: nothing can be changed."""


class PhotoRead(TenantRead):
    customer_id: uuid.UUID
    visit_id: uuid.UUID | None
    author_id: uuid.UUID
    sha256: str
    content_type: str
    size_bytes: int
    caption: str | None
    taken_at: datetime


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
