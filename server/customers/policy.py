"""Customers: who sees them and which fields each role may change.

Reps may create leads (they own them) and correct contact details; territory,
owner, tier, status, revenue and visit frequency are for managers and admins.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, select

from server.access.actor import Actor
from server.api.resource import Policy, WriteContext
from server.api.schemas import normalise_phone
from server.customers.repository import territory_containing, visible_customers
from server.errors import Forbidden, InvalidInput
from server.models import Customer, Organization, Territory, User
from server.users.policy import forbid_fields
from shared.enums import CustomerStatus
from shared.sync.merge import REP_EDITABLE_FIELDS

# One list for the API and the sync merge (the app greys out the rest).
REP_EDITABLE = REP_EDITABLE_FIELDS["customer"]
NOT_NULL = {"name", "status", "geocode_accuracy", "tier", "tags", "visit_windows"}


def check_territory_ref(ctx: WriteContext, territory_id: uuid.UUID | None) -> None:
    if territory_id is None:
        return
    stmt = select(Territory.id).where(
        Territory.org_id == ctx.actor.org_id, Territory.id == territory_id, Territory.deleted_at.is_(None)
    )
    if not ctx.actor.is_admin:
        stmt = stmt.where(Territory.id.in_(ctx.actor.territory_ids))
    if ctx.session.scalar(stmt) is None:
        raise InvalidInput(
            "territory_id must name a territory you manage", code="INVALID_REFERENCE", extra={"field": "territory_id"}
        )


def check_user_ref(ctx: WriteContext, user_id: uuid.UUID | None, field: str) -> None:
    """A user of this organisation, and of the caller's team unless the caller is an admin."""
    if user_id is None:
        return
    stmt = select(User.id).where(User.org_id == ctx.actor.org_id, User.id == user_id, User.deleted_at.is_(None))
    if not ctx.actor.is_admin:
        stmt = stmt.where(User.id.in_(ctx.actor.team_ids))
    if ctx.session.scalar(stmt) is None:
        raise InvalidInput(f"{field} must name a user in your team", code="INVALID_REFERENCE", extra={"field": field})


class CustomerPolicy(Policy[Customer]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return visible_customers(actor)

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        if ctx.actor.is_rep:
            if values.get("status", CustomerStatus.lead) is not CustomerStatus.lead:
                raise Forbidden(
                    "Reps create leads; a manager changes the status",
                    code="FIELD_NOT_ALLOWED",
                    extra={"fields": ["status"]},
                )
            forbid_fields(set(values) - {"id", "status"}, REP_EDITABLE, "A rep")
            values["status"] = CustomerStatus.lead
            values["owner_id"] = ctx.actor.user_id
        self._check_refs(ctx, values)

    def before_update(self, ctx: WriteContext, obj: Customer, changes: dict[str, Any]) -> None:
        if ctx.actor.is_rep:
            forbid_fields(set(changes), REP_EDITABLE, "A rep")
        for name in NOT_NULL & set(changes):
            if changes[name] is None:
                raise InvalidInput(f"{name} cannot be null", extra={"field": name})
        self._check_refs(ctx, changes)

    def before_delete(self, ctx: WriteContext, obj: Customer) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete customers", code="ROLE_FORBIDDEN")

    def _check_refs(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        check_territory_ref(ctx, values.get("territory_id"))
        if not ctx.actor.is_rep:
            check_user_ref(ctx, values.get("owner_id"), "owner_id")


def normalise_contact_details(ctx: WriteContext, values: dict[str, Any]) -> None:
    """Phone to E.164 (the organisation's country for local numbers), email lowercased."""
    if "phone" in values:
        org = ctx.session.get(Organization, ctx.actor.org_id)
        values["phone"] = normalise_phone(values["phone"], org.default_country if org else "US")
    if values.get("email"):
        values["email"] = values["email"].strip().lower()


def convert_customer_values(ctx: WriteContext, values: dict[str, Any]) -> None:
    normalise_contact_details(ctx, values)
    location = values.get("location")
    if location is not None and "territory_id" not in values:
        # The territory follows from where the customer is.
        values["territory_id"] = territory_containing(ctx.session, ctx.actor.org_id, location["lat"], location["lon"])
