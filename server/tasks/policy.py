"""Tasks: a rep's own (they move them forward), a manager's team's."""

from __future__ import annotations

from typing import Any

from server.access.policy import WriteContext
from server.access.records import PersonalRecordPolicy
from server.errors import Forbidden
from server.models import Task
from shared.enums import TaskStatus
from shared.sync.merge import TASK_STATUS_RANK


class TaskPolicy(PersonalRecordPolicy):
    """A rep moves their task forward (open < in_progress < done); only a
    manager reopens or cancels."""

    def before_update(self, ctx: WriteContext, obj: Task, changes: dict[str, Any]) -> None:
        super().before_update(ctx, obj, changes)
        new = changes.get("status")
        if not ctx.actor.is_rep or new is None or new == obj.status:
            return
        moves_back = TaskStatus.cancelled in (new, obj.status) or TASK_STATUS_RANK[new] < TASK_STATUS_RANK[obj.status]
        if moves_back:
            raise Forbidden(f"A rep cannot move a task from {obj.status} to {new}", code="STATUS_TRANSITION_FORBIDDEN")
