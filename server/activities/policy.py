"""Authorization for records that hang off a customer.

Two shapes:
- `CustomerChildPolicy`: contacts, opportunities, orders, notes — visible when
  their customer is visible.
- `PersonalRecordPolicy`: visits and tasks — a rep's own; a manager's team's
  (and those at customers the manager sees); all for an admin.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from server.access.actor import Actor
from server.api.resource import Policy, WriteContext
from server.customers.policy import check_user_ref
from server.customers.repository import visible_customer_ids
from server.errors import Forbidden, InvalidInput
from server.models import Customer, Note, Photo, Plan, Task, Visit
from server.models.base import TenantMixin
from server.tracking.verification import verify_visit
from server.users.policy import forbid_fields
from shared.enums import TaskStatus, VisitStatus


def check_customer_ref(ctx: WriteContext, customer_id: uuid.UUID | None, *, required: bool) -> None:
    if customer_id is None:
        if required:
            raise InvalidInput("customer_id is required", extra={"field": "customer_id"})
        return
    found = ctx.session.scalar(visible_customer_ids(ctx.actor).where(Customer.id == customer_id))
    if found is None:
        raise InvalidInput(
            "customer_id must name a customer you can see", code="INVALID_REFERENCE", extra={"field": "customer_id"}
        )


def reject_nulls(changes: dict[str, Any], not_null: set[str]) -> None:
    for name in sorted(not_null & set(changes)):
        if changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", extra={"field": name})


class CustomerChildPolicy(Policy[Any]):
    def __init__(
        self,
        customer_column: InstrumentedAttribute[Any],
        *,
        rep_writes: bool = True,
        rep_deletes: bool = False,
        not_null: set[str] | None = None,
    ) -> None:
        self.customer_column = customer_column
        self.rep_writes = rep_writes
        self.rep_deletes = rep_deletes
        self.not_null = not_null or set()

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        if actor.is_admin:
            return true()
        return self.customer_column.in_(visible_customer_ids(actor))

    def _check_role(self, actor: Actor, deleting: bool = False) -> None:
        if actor.is_rep and not (self.rep_deletes if deleting else self.rep_writes):
            raise Forbidden("Reps may not do this", code="ROLE_FORBIDDEN")

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        check_customer_ref(ctx, values.get("customer_id"), required=True)

    def before_update(self, ctx: WriteContext, obj: Any, changes: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        reject_nulls(changes, self.not_null | {"customer_id"})
        if "customer_id" in changes:
            check_customer_ref(ctx, changes["customer_id"], required=True)

    def before_delete(self, ctx: WriteContext, obj: Any) -> None:
        self._check_role(ctx.actor, deleting=True)


class NotePolicy(CustomerChildPolicy):
    """Anyone who sees the customer may add a note; only its author or a manager edits it."""

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        super().before_create(ctx, values)
        values["author_id"] = ctx.actor.user_id
        values.setdefault("occurred_at", datetime.now(UTC))

    def _check_author(self, ctx: WriteContext, obj: Note) -> None:
        if ctx.actor.is_rep and obj.author_id != ctx.actor.user_id:
            raise Forbidden("Only the author or a manager may change this note", code="NOT_AUTHOR")

    def before_update(self, ctx: WriteContext, obj: Note, changes: dict[str, Any]) -> None:
        super().before_update(ctx, obj, changes)
        self._check_author(ctx, obj)

    def before_delete(self, ctx: WriteContext, obj: Note) -> None:
        super().before_delete(ctx, obj)
        self._check_author(ctx, obj)


class PhotoPolicy(CustomerChildPolicy):
    """Anyone who sees the customer may add a photo (append-only; its author is the caller)."""

    def __init__(self) -> None:
        super().__init__(Photo.customer_id, rep_writes=True, rep_deletes=False)

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        super().before_create(ctx, values)
        values["author_id"] = ctx.actor.user_id


class PlanPolicy(Policy[Plan]):
    """A rep reads their own plans; managers their team's; the planner (or a manager) writes them."""

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        if actor.is_admin:
            return true()
        return Plan.rep_id.in_(actor.team_ids) if actor.is_manager else Plan.rep_id == actor.user_id

    def _check_role(self, actor: Actor) -> None:
        if actor.is_rep:
            raise Forbidden("Plans are made by the planner; reps read them", code="ROLE_FORBIDDEN")

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        check_user_ref(ctx, values.get("rep_id"), "rep_id")

    def before_update(self, ctx: WriteContext, obj: Plan, changes: dict[str, Any]) -> None:
        self._check_role(ctx.actor)

    def before_delete(self, ctx: WriteContext, obj: Plan) -> None:
        self._check_role(ctx.actor)


class PersonalRecordPolicy(Policy[Any]):
    def __init__(
        self,
        model: type[TenantMixin],
        owner_field: str,
        *,
        customer_required: bool,
        rep_editable: set[str] | None,
        not_null: set[str],
    ) -> None:
        self.model = model
        self.owner_field = owner_field
        self.owner_column: InstrumentedAttribute[Any] = getattr(model, owner_field)
        self.customer_column: InstrumentedAttribute[Any] = model.customer_id  # type: ignore[attr-defined]
        self.customer_required = customer_required
        self.rep_editable = rep_editable
        self.not_null = not_null

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        if actor.is_admin:
            return true()
        if actor.is_manager:
            return or_(self.owner_column.in_(actor.team_ids), self.customer_column.in_(visible_customer_ids(actor)))
        return self.owner_column == actor.user_id

    def _check_owner(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        owner = values.get(self.owner_field)
        if ctx.actor.is_rep:
            if owner not in (None, ctx.actor.user_id):
                raise Forbidden(
                    f"Reps may only set {self.owner_field} to themselves",
                    code="FIELD_NOT_ALLOWED",
                    extra={"fields": [self.owner_field]},
                )
            return
        check_user_ref(ctx, owner, self.owner_field)

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_owner(ctx, values)
        values.setdefault(self.owner_field, ctx.actor.user_id)
        if values[self.owner_field] is None:
            values[self.owner_field] = ctx.actor.user_id
        check_customer_ref(ctx, values.get("customer_id"), required=self.customer_required)

    def before_update(self, ctx: WriteContext, obj: Any, changes: dict[str, Any]) -> None:
        if ctx.actor.is_rep and self.rep_editable is not None:
            forbid_fields(set(changes), self.rep_editable, "A rep")
        reject_nulls(changes, self.not_null | {self.owner_field})
        if self.owner_field in changes:
            self._check_owner(ctx, changes)
        if "customer_id" in changes:
            check_customer_ref(ctx, changes["customer_id"], required=self.customer_required)

    def before_delete(self, ctx: WriteContext, obj: Any) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete this; cancel it instead", code="ROLE_FORBIDDEN")


TASK_STATUS_ORDER = {TaskStatus.open: 0, TaskStatus.in_progress: 1, TaskStatus.done: 2}


class TaskPolicy(PersonalRecordPolicy):
    """A rep moves their task forward (open < in_progress < done); only a
    manager reopens or cancels."""

    def before_update(self, ctx: WriteContext, obj: Task, changes: dict[str, Any]) -> None:
        super().before_update(ctx, obj, changes)
        new = changes.get("status")
        moves_back = new is not None and (
            TaskStatus.cancelled in (new, obj.status) or TASK_STATUS_ORDER[new] < TASK_STATUS_ORDER[obj.status]
        )
        if ctx.actor.is_rep and new != obj.status and moves_back:
            raise Forbidden(f"A rep cannot move a task from {obj.status} to {new}", code="STATUS_TRANSITION_FORBIDDEN")


def check_visit_times(visit: Visit) -> None:
    """Checked on the stored row, so a PATCH of one end is checked against the other."""
    for start, end in (("planned_start", "planned_end"), ("check_in_at", "check_out_at")):
        begin, finish = getattr(visit, start), getattr(visit, end)
        if begin is not None and finish is not None and finish < begin:
            raise InvalidInput(f"{end} is before {start}", code="INVALID_TIME_RANGE", extra={"field": end})


def after_visit_write(ctx: WriteContext, visit: Visit, relations: dict[str, Any]) -> None:
    """Check-ins are verified against the customer's location; a completed visit moves
    the customer's last_visit_at forward (never back)."""
    check_visit_times(visit)
    verify_visit(ctx.session, visit)
    if visit.status is not VisitStatus.completed:
        return
    when = visit.check_out_at or visit.check_in_at or visit.planned_end or datetime.now(UTC)
    customer = ctx.session.get(Customer, visit.customer_id)
    if customer is not None and (customer.last_visit_at is None or customer.last_visit_at < when):
        customer.last_visit_at = when


__all__ = [
    "CustomerChildPolicy",
    "NotePolicy",
    "PersonalRecordPolicy",
    "PhotoPolicy",
    "PlanPolicy",
    "TaskPolicy",
    "after_visit_write",
]
