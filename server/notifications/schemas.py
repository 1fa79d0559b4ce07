from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from server.api.schemas import StrictModel, TenantRead


class NotificationCreate(StrictModel):
    """Made by the server (workflow rules, webhook notices); no client creates one."""

    id: uuid.UUID | None = None
    recipient_id: uuid.UUID
    kind: str = Field(default="workflow", max_length=40)
    title: str = Field(min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=20_000)
    entity: str | None = Field(default=None, max_length=32)
    entity_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None


class NotificationUpdate(StrictModel):
    """The one change a recipient makes (from the phone, offline too): reading it."""

    read_at: AwareDatetime | None = None


class NotificationRead(TenantRead):
    recipient_id: uuid.UUID
    kind: str
    title: str
    body: str | None
    entity: str | None
    entity_id: uuid.UUID | None
    read_at: datetime | None
    rule_id: uuid.UUID | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int = Field(description="The caller's unread notifications in all")
    next_cursor: str | None = None
