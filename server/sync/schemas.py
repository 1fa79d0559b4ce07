"""What the sync review and status endpoints take and answer (push and pull use the
wire types of `shared.sync.protocol`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Resolution(BaseModel):
    resolution: str = Field(min_length=1, max_length=2000, description="What the reviewer decided, in words")


class ReviewItem(BaseModel):
    """Who pushed what, from which device, and the whole mutation as it was sent."""

    id: uuid.UUID
    org_id: uuid.UUID
    user_id: uuid.UUID | None
    client_id: uuid.UUID | None
    mid: int | None
    entity: str
    entity_id: uuid.UUID
    mutation: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    resolution: str | None


class ConflictRead(ReviewItem):
    field: str | None = Field(description="The field or clock group (address) that lost; none for a whole edit")
    reason: str = Field(description="lost_to_later_edit, overwritten_by_later_edit, edited_after_delete, ...")
    kept_value: Any
    lost_value: Any
    kept_clock: dict[str, Any] | None
    lost_clock: dict[str, Any] | None


class RejectionRead(ReviewItem):
    outcome: str = Field(description="rejected (a permanent error) or quarantined (out of scope)")
    code: str
    detail: str


class ConflictPage(BaseModel):
    items: list[ConflictRead]
    next_cursor: str | None


class RejectionPage(BaseModel):
    items: list[RejectionRead]
    next_cursor: str | None


class ReviewResolved(BaseModel):
    id: uuid.UUID
    resolved_at: datetime
    resolution: str


class SyncStatus(BaseModel):
    horizon_lag_xids: int = Field(description="Transactions between the pull horizon and now")
    oldest_writer_seconds: float = Field(description="Age of the oldest running write transaction")
    change_rows: int
    clients: int
