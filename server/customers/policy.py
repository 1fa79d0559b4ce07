"""Customers: who sees them and which fields each role may change.

Reps may create leads (they own them) and correct contact details; territory,
owner, tier, status, revenue and visit frequency are for managers and admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement

from server.access.actor import Actor
from server.access.fields import fields_outside, reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.references import check_territory_ref, check_user_ref
from server.access.visibility import sees_customer
from server.customers.leads import assign_new_lead
from server.customers.repository import territory_containing
from server.errors import Forbidden
from server.models import Customer
from shared.enums import CustomerStatus
from shared.sync.merge import REP_EDITABLE_FIELDS

# One list for the API and the sync merge (the app greys out the rest).
REP_EDITABLE = REP_EDITABLE_FIELDS["customer"]
NOT_NULL = {"name", "status", "geocode_accuracy", "tier", "tags", "visit_windows"}


class CustomerPolicy(Policy[Customer]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_customer(actor)

    def refused_fields(self, ctx: WriteContext, obj: Customer | None, values: Mapping[str, Any]) -> list[str]:
        if not ctx.actor.is_rep:
            return []
        if obj is None:
            # A rep's new customer is always their own lead; saying so is allowed, anything else is not.
            refused = fields_outside(set(values) - {"id", "status"}, REP_EDITABLE)
            if values.get("status", CustomerStatus.lead) is not CustomerStatus.lead:
                refused.append("status")
            return sorted(refused)
        return fields_outside(values, REP_EDITABLE)

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        if ctx.actor.is_rep:
            values["status"] = CustomerStatus.lead
            values["owner_id"] = ctx.actor.user_id
        self._check_refs(ctx, values)
        location = values.get("location")
        if location is not None and "territory_id" not in values:
            # Where it is decides whose it is (a new lead's rep, below).
            values["territory_id"] = territory_containing(
                ctx.session, ctx.actor.org_id, location["lat"], location["lon"]
            )
        if ctx.actor.is_rep:
            values.pop("owner_id")  # the rep's own unless the territory says otherwise
        assign_new_lead(ctx.session, ctx.actor, values)

    def before_update(self, ctx: WriteContext, obj: Customer, changes: dict[str, Any]) -> None:
        reject_nulls(changes, NOT_NULL)
        self._check_refs(ctx, changes)

    def before_delete(self, ctx: WriteContext, obj: Customer) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete customers", code="ROLE_FORBIDDEN")

    def _check_refs(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        check_territory_ref(ctx.session, ctx.actor, values.get("territory_id"))
        if not ctx.actor.is_rep:
            check_user_ref(ctx.session, ctx.actor, values.get("owner_id"), "owner_id")
