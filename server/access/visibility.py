"""Who sees what, written once.

The organisation is always the outer wall (every query also filters on
`org_id`); inside it the rule is the same everywhere:

- an admin sees the whole organisation;
- a manager sees their team (themselves and the reps they manage), the team's
  territories and everything in them;
- a rep sees themselves, their territories' customers, the leads they own and
  their own visits and tasks.

Every domain asks these functions instead of restating the rule, so a change
to it (a deputy manager, a regional admin) is made here and nowhere else.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from server.access.actor import Actor
from server.models import Customer, Territory


def sees_person(actor: Actor, user_column: InstrumentedAttribute[Any] | ColumnElement[Any]) -> ColumnElement[bool]:
    """A filter on a column that names a user: the rows of the people the actor may see."""
    if actor.is_admin:
        return true()
    if actor.is_manager:
        return user_column.in_(actor.team_ids)
    return user_column == actor.user_id


def may_see_person(actor: Actor, user_id: uuid.UUID) -> bool:
    """The same rule as `sees_person`, for one id already in memory (the live stream)."""
    if actor.is_admin:
        return True
    if actor.is_manager:
        return user_id in actor.team_ids
    return user_id == actor.user_id


def may_see_territory(actor: Actor, territory_id: uuid.UUID) -> bool:
    """The same rule as `sees_territory`, for one id already in memory."""
    return actor.is_admin or territory_id in actor.territory_ids


def sees_customer(actor: Actor) -> ColumnElement[bool]:
    """Customers in the actor's territories or owned by someone they see."""
    if actor.is_admin:
        return true()
    return or_(Customer.territory_id.in_(actor.territory_ids), sees_person(actor, Customer.owner_id))


def visible_customer_ids(actor: Actor) -> Select[uuid.UUID]:
    """For child tables: their rows are visible when their customer is."""
    return select(Customer.id).where(
        Customer.org_id == actor.org_id, Customer.deleted_at.is_(None), sees_customer(actor)
    )


def sees_customer_child(actor: Actor, customer_column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Contacts, opportunities, orders, notes, photos: visible with their customer."""
    if actor.is_admin:
        return true()
    return customer_column.in_(visible_customer_ids(actor))


def sees_personal_record(
    actor: Actor, owner_column: InstrumentedAttribute[Any], customer_column: InstrumentedAttribute[Any]
) -> ColumnElement[bool]:
    """Visits and tasks: a rep's own; a manager's team's and those at customers the manager sees."""
    if actor.is_manager:
        return or_(sees_person(actor, owner_column), customer_column.in_(visible_customer_ids(actor)))
    return sees_person(actor, owner_column)


def sees_territory(actor: Actor) -> ColumnElement[bool]:
    """The territories the actor (or their team) works; all for an admin."""
    if actor.is_admin:
        return true()
    return Territory.id.in_(actor.territory_ids)


__all__ = [
    "may_see_person",
    "may_see_territory",
    "sees_customer",
    "sees_customer_child",
    "sees_person",
    "sees_personal_record",
    "sees_territory",
    "visible_customer_ids",
]
