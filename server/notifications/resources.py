"""The notification resource: what sync push and pull share with the HTTP endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement

from server.access.actor import SYSTEM_EMAIL, Actor
from server.access.policy import Policy, WriteContext
from server.api.resource import ResourceSpec
from server.errors import Forbidden
from server.models import Notification
from server.notifications.schemas import NotificationCreate, NotificationRead, NotificationUpdate


class NotificationPolicy(Policy[Notification]):
    """A notification is its recipient's alone: nobody else reads it, not even an admin
    (what it is about is visible to them elsewhere). Only the server creates one, and
    the recipient may only mark it read."""

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return Notification.recipient_id == actor.user_id

    def refused_fields(self, ctx: WriteContext, obj: Notification | None, values: Mapping[str, Any]) -> list[str]:
        if obj is None:
            return []
        return sorted(set(values) - {"read_at"})

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        # Workflow rules write one level down (rule_depth >= 1); the server's own notices
        # (a webhook switched off) act as the system actor.
        made_by_server = ctx.rule_depth > 0 or ctx.actor.email == SYSTEM_EMAIL
        if not made_by_server:
            raise Forbidden("Notifications are made by the server", code="ROLE_FORBIDDEN")

    def before_delete(self, ctx: WriteContext, obj: Notification) -> None:
        raise Forbidden("Notifications are not deleted; mark them read", code="ROLE_FORBIDDEN")


notification_resource: ResourceSpec[Notification] = ResourceSpec(
    model=Notification,
    name="notification",
    path="/notifications",
    read_schema=NotificationRead,
    create_schema=NotificationCreate,
    update_schema=NotificationUpdate,
    policy=NotificationPolicy(),
)
