"""Creating notifications (for the server's own use) and reading them (the recipient)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.policy import WriteContext
from server.errors import InvalidInput
from server.models import Notification
from server.notifications.resources import notification_resource


def notify(
    ctx: WriteContext,
    recipient_id: uuid.UUID,
    *,
    title: str,
    body: str | None = None,
    kind: str = "workflow",
    entity: str | None = None,
    entity_id: uuid.UUID | None = None,
    rule_id: uuid.UUID | None = None,
) -> Notification:
    return notification_resource.insert(
        ctx,
        {
            "recipient_id": recipient_id,
            "kind": kind,
            "title": title[:300],
            "body": body,
            "entity": entity,
            "entity_id": entity_id,
            "rule_id": rule_id,
        },
    )


def _cursor(created_at: datetime, ident: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, TypeError) as error:
        raise InvalidInput("cursor is not one this endpoint gave", code="INVALID_CURSOR", status=400) from error


def list_notifications(
    session: Session, actor: Actor, *, unread_only: bool, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Newest first. `unread` counts all of the caller's unread, whatever the page."""
    mine = (Notification.org_id == actor.org_id, Notification.recipient_id == actor.user_id)
    stmt = select(Notification).where(*mine, Notification.deleted_at.is_(None))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if cursor:
        at, ident = _decode(cursor)
        stmt = stmt.where(tuple_(Notification.created_at, Notification.id) < tuple_(at, ident))
    rows = list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)))
    unread = session.scalar(
        select(func.count()).where(*mine, Notification.deleted_at.is_(None), Notification.read_at.is_(None))
    )
    page = rows[:limit]
    return {
        "items": notification_resource.serialize(session, page),
        "unread": unread or 0,
        "next_cursor": _cursor(page[-1].created_at, page[-1].id) if len(rows) > limit and page else None,
    }


def mark_read(session: Session, actor: Actor, notification_id: uuid.UUID) -> Notification:
    """Idempotent: reading a read notification keeps its first read time."""
    ctx = WriteContext(session, actor)
    obj = notification_resource.get_visible(session, actor, notification_id, for_update=True)
    if obj.read_at is None:
        notification_resource.change(ctx, obj, {"read_at": datetime.now(UTC)})
    return obj
