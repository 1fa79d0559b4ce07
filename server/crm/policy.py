"""Records that hang off a customer (contacts, opportunities, orders, notes,
photos): visible when their customer is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from server.access.actor import Actor
from server.access.fields import reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.references import check_customer_ref
from server.access.visibility import sees_customer_child
from server.errors import Forbidden
from server.models import Note, Photo


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
        return sees_customer_child(actor, self.customer_column)

    def _check_role(self, actor: Actor, deleting: bool = False) -> None:
        if actor.is_rep and not (self.rep_deletes if deleting else self.rep_writes):
            raise Forbidden("Reps may not do this", code="ROLE_FORBIDDEN")

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        check_customer_ref(ctx.session, ctx.actor, values.get("customer_id"), required=True)

    def before_update(self, ctx: WriteContext, obj: Any, changes: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        reject_nulls(changes, self.not_null | {"customer_id"})
        if "customer_id" in changes:
            check_customer_ref(ctx.session, ctx.actor, changes["customer_id"], required=True)

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
