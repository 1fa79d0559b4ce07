"""What managers review: values that lost a merge, rejected and quarantined mutations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_person
from server.api.pagination import decode_cursor, encode_cursor
from server.errors import Forbidden, NotFound
from server.models import SyncConflict, SyncRejection

# A value that lost a merge, or a mutation that was refused: reviewed the same way.
ReviewRow = TypeVar("ReviewRow", SyncConflict, SyncRejection)


def _visible(model: type[ReviewRow], actor: Actor) -> ColumnElement[bool]:
    # A manager reviews their team's pushes; a rep sees their own.
    return sees_person(actor, model.user_id)


def list_review(
    session: Session, actor: Actor, model: type[ReviewRow], *, resolved: bool | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    stmt = select(model).where(model.org_id == actor.org_id, _visible(model, actor))
    if resolved is not None:
        stmt = stmt.where(model.resolved_at.is_not(None) if resolved else model.resolved_at.is_(None))
    if cursor:
        stmt = stmt.where(model.id > decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    columns = [c.key for c in model.__table__.columns]
    return {
        "items": [{name: getattr(row, name) for name in columns} for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }


def resolve(session: Session, actor: Actor, model: type[ReviewRow], item_id: uuid.UUID, resolution: str) -> ReviewRow:
    if not actor.manages_people:
        raise Forbidden("Only managers and admins resolve sync reviews", code="ROLE_FORBIDDEN")
    row = session.scalar(
        select(model).where(model.org_id == actor.org_id, model.id == item_id, _visible(model, actor)).with_for_update()
    )
    if row is None:
        raise NotFound(f"review item {item_id} not found")
    row.resolved_at = datetime.now(UTC)
    row.resolved_by = actor.user_id
    row.resolution = resolution
    session.flush()
    return row
