"""Tasks: what the API and the phones send and read."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from server.api.filters import ByCustomerQuery
from server.api.schemas import StrictModel, TenantRead, Text
from shared.enums import TaskKind, TaskPriority, TaskStatus

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
