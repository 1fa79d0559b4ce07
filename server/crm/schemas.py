"""Contacts, opportunities, orders, notes and photos: what the API and the phones send and read."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field

from server.api.filters import ByCustomerQuery
from server.api.schemas import Currency, Email, Money, StrictModel, TenantRead, Text
from shared.enums import NoteKind, OpportunityStage

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


# ---- opportunities --------------------------------------------------------------


class OpportunityCreate(StrictModel):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    title: str = Field(min_length=1, max_length=300)
    stage: OpportunityStage = OpportunityStage.lead
    amount: Money | None = Field(default=None, ge=0)
    currency: Currency = "EUR"
    probability: int | None = Field(
        default=None, ge=0, le=100, description="Defaults to the stage's probability (organisation settings)"
    )
    expected_close_date: date | None = None
    close_reason: str | None = Field(default=None, max_length=300, description="Why it was won or lost")


class OpportunityUpdate(StrictModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    stage: OpportunityStage | None = None
    amount: Money | None = Field(default=None, ge=0)
    currency: Currency | None = None
    probability: int | None = Field(
        default=None, ge=0, le=100, description="A change of stage without one takes the stage's default"
    )
    expected_close_date: date | None = None
    close_reason: str | None = Field(default=None, max_length=300, description="Why it was won or lost")


class OpportunityRead(TenantRead):
    customer_id: uuid.UUID
    title: str
    stage: OpportunityStage
    amount: Decimal | None
    currency: str
    probability: int | None
    expected_close_date: date | None
    close_reason: str | None = None


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
