"""Checks that an id a caller writes names something they may point at.

A reference outside the caller's reach answers 422 INVALID_REFERENCE (a sync
push quarantines it for a manager), never 404: the row being written exists,
only the value is wrong.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_person, sees_territory, visible_customer_ids
from server.errors import InvalidInput
from server.models import Customer, Territory, User


def check_user_ref(session: Session, actor: Actor, user_id: uuid.UUID | None, field: str) -> None:
    """A user of this organisation, and of the caller's team unless the caller is an admin."""
    if user_id is None:
        return
    stmt = select(User.id).where(
        User.org_id == actor.org_id, User.id == user_id, User.deleted_at.is_(None), sees_person(actor, User.id)
    )
    if session.scalar(stmt) is None:
        raise InvalidInput(f"{field} must name a user in your team", code="INVALID_REFERENCE", extra={"field": field})


def check_customer_ref(session: Session, actor: Actor, customer_id: uuid.UUID | None, *, required: bool) -> None:
    """A customer the caller can see (required or not)."""
    if customer_id is None:
        if required:
            raise InvalidInput("customer_id is required", extra={"field": "customer_id"})
        return
    if session.scalar(visible_customer_ids(actor).where(Customer.id == customer_id)) is None:
        raise InvalidInput(
            "customer_id must name a customer you can see", code="INVALID_REFERENCE", extra={"field": "customer_id"}
        )


def check_territory_ref(session: Session, actor: Actor, territory_id: uuid.UUID | None) -> None:
    """A live territory of this organisation that the caller manages (any, for an admin)."""
    if territory_id is None:
        return
    stmt = select(Territory.id).where(
        Territory.org_id == actor.org_id,
        Territory.id == territory_id,
        Territory.deleted_at.is_(None),
        sees_territory(actor),
    )
    if session.scalar(stmt) is None:
        raise InvalidInput(
            "territory_id must name a territory you manage", code="INVALID_REFERENCE", extra={"field": "territory_id"}
        )


__all__ = ["check_customer_ref", "check_territory_ref", "check_user_ref"]
