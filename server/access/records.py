"""The policy shape of personal records (visits, tasks): a rep's own, a manager's
team's (and those at customers the manager sees), all for an admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from server.access.actor import Actor
from server.access.fields import fields_outside, reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.references import check_customer_ref, check_user_ref
from server.access.visibility import sees_personal_record
from server.errors import Forbidden
from server.models.base import TenantMixin


class PersonalRecordPolicy(Policy[Any]):
    def __init__(
        self,
        model: type[TenantMixin],
        owner_field: str,
        *,
        customer_required: bool,
        rep_editable: frozenset[str] | None,
        not_null: set[str],
    ) -> None:
        self.owner_field = owner_field
        self.owner_column: InstrumentedAttribute[Any] = getattr(model, owner_field)
        self.customer_column: InstrumentedAttribute[Any] = model.customer_id  # type: ignore[attr-defined]
        self.customer_required = customer_required
        # None: a rep may write every field of their own record.
        self.rep_editable = rep_editable
        self.not_null = not_null

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_personal_record(actor, self.owner_column, self.customer_column)

    def refused_fields(self, ctx: WriteContext, obj: Any, values: Mapping[str, Any]) -> list[str]:
        if not ctx.actor.is_rep:
            return []
        refused: set[str] = set()
        if obj is not None and self.rep_editable is not None:
            refused |= set(fields_outside(values, self.rep_editable))
        if values.get(self.owner_field) not in (None, ctx.actor.user_id):
            # A rep's records are their own: they may not hand one to someone else.
            refused.add(self.owner_field)
        return sorted(refused)

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        if values.get(self.owner_field) is None:
            values[self.owner_field] = ctx.actor.user_id
        elif not ctx.actor.is_rep:
            check_user_ref(ctx.session, ctx.actor, values[self.owner_field], self.owner_field)
        check_customer_ref(ctx.session, ctx.actor, values.get("customer_id"), required=self.customer_required)

    def before_update(self, ctx: WriteContext, obj: Any, changes: dict[str, Any]) -> None:
        reject_nulls(changes, self.not_null | {self.owner_field})
        if self.owner_field in changes and not ctx.actor.is_rep:
            check_user_ref(ctx.session, ctx.actor, changes[self.owner_field], self.owner_field)
        if "customer_id" in changes:
            check_customer_ref(ctx.session, ctx.actor, changes["customer_id"], required=self.customer_required)

    def before_delete(self, ctx: WriteContext, obj: Any) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete this; cancel it instead", code="ROLE_FORBIDDEN")


__all__ = ["PersonalRecordPolicy"]
