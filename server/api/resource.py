"""A resource: one tenant table exposed as list/get/create/patch/delete.

Each domain describes its resource (schemas, which columns filter, which fields
are points) and its `Policy` (what an actor may see and change). This module
holds the one implementation of the mechanics every resource shares: tenant
isolation, soft delete, keyset pagination, optimistic concurrency with
If-Match, and conversion of geographic fields.

Writes have one path, whoever makes them (the HTTP CRUD endpoints, a phone's
sync push, an import, the planner): `insert`, `change`, `delete` and
`restore` each run check -> convert -> set -> flush -> hooks, so a rule or a
derived write added to a resource applies to every writer at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Generic

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.access.actor import Actor
from server.access.fields import refuse_fields
from server.access.policy import ModelT, Policy, WriteContext
from server.api.filters import ListQuery
from server.api.pagination import decode_cursor, encode_cursor
from server.errors import AppError, Conflict, NotFound
from server.geo import geometry_out, point_element, point_out

# Who hears of every write (the workflow engine registers itself: server/workflows/__init__.py).
# A registry rather than an import: the engine's actions write through resources, so the
# engine sits above this module, not below it.
WriteObserver = Callable[[WriteContext, str, Any, Mapping[str, Any] | None], None]
_write_observers: list[WriteObserver] = []


def observe_writes(observer: WriteObserver) -> None:
    if observer not in _write_observers:
        _write_observers.append(observer)


def write_observers() -> tuple[WriteObserver, ...]:
    return tuple(_write_observers)


def announce_write(ctx: WriteContext, entity: str, obj: Any, before: Mapping[str, Any] | None) -> None:
    """Tell the observers a row was written (`before`: the old values of the changed fields;
    None for an insert). Writers outside the resources (imports, jobs) call it too."""
    for observer in _write_observers:
        observer(ctx, entity, obj, before)


class PreconditionFailed(AppError):
    status, code, title = 412, "ROW_VERSION_MISMATCH", "Precondition failed"


@dataclass
class ResourceSpec(Generic[ModelT]):
    model: type[ModelT]
    name: str
    path: str
    read_schema: type[BaseModel]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    policy: Policy[ModelT]
    list_query: type[ListQuery] = ListQuery
    # query parameter -> column, for plain equality filters
    equality_filters: Mapping[str, InstrumentedAttribute[Any]] = field(default_factory=dict)
    # other filters: (statement, query) -> statement
    extra_filters: Callable[[Select[Any], Any], Select[Any]] | None = None
    point_fields: Sequence[str] = ()
    geometry_fields: Sequence[str] = ()
    # turn API values into column values (e.g. normalise a phone number)
    convert_values: Callable[[WriteContext, dict[str, Any]], None] | None = None
    # payload fields that are not columns (e.g. a territory's rep_ids); they
    # reach `after_write` instead of the row
    relation_fields: Sequence[str] = ()
    # after the policy accepted an update, before it is written: what the change itself
    # sets in motion (a new password ends every session)
    on_change: Callable[[WriteContext, ModelT, Mapping[str, Any]], None] | None = None
    # after a write is flushed: derived columns, link tables
    after_write: Callable[[WriteContext, ModelT, dict[str, Any]], None] | None = None
    # after a new row is flushed, before after_write (e.g. an opportunity's first stage in its history)
    after_create: Callable[[WriteContext, ModelT], None] | None = None
    # after a soft delete is flushed (e.g. a territory's customers find their new territory)
    after_delete: Callable[[WriteContext, ModelT], None] | None = None
    # extra read-only fields computed for a page of rows (e.g. a territory's reps)
    enrich: Callable[[Session, list[ModelT], list[dict[str, Any]]], None] | None = None

    # ---- reading -----------------------------------------------------------

    @cached_property
    def _read_fields(self) -> list[str]:
        """Fields of the read schema that the model has (others come from `enrich`)."""
        return [name for name in self.read_schema.model_fields if hasattr(self.model, name)]

    def to_dict(self, obj: ModelT) -> dict[str, Any]:
        out: dict[str, Any] = {}
        loaded = obj.__dict__  # loaded column values; the descriptor path is slower per row
        for name in self._read_fields:
            value = loaded[name] if name in loaded else getattr(obj, name)
            if name in self.point_fields:
                value = point_out(value)
            elif name in self.geometry_fields:
                value = geometry_out(value)
            out[name] = value
        return out

    def serialize(self, session: Session, objs: list[ModelT]) -> list[dict[str, Any]]:
        rows = [self.to_dict(obj) for obj in objs]
        if self.enrich is not None and objs:
            self.enrich(session, objs, rows)
        return rows

    def base_query(self, actor: Actor) -> Select[ModelT]:
        model = self.model
        return select(model).where(
            model.org_id == actor.org_id,
            model.deleted_at.is_(None),
            self.policy.visible(actor),
        )

    def get_visible(self, session: Session, actor: Actor, obj_id: uuid.UUID, *, for_update: bool = False) -> ModelT:
        stmt = self.base_query(actor).where(self.model.id == obj_id)
        if for_update:
            stmt = stmt.with_for_update()
        obj = session.scalar(stmt)
        if obj is None:
            # Same answer for "another organisation's", "not yours" and "never existed".
            raise NotFound(f"{self.name} {obj_id} not found")
        return obj

    def list_page(self, session: Session, actor: Actor, query: ListQuery) -> dict[str, Any]:
        stmt = self.base_query(actor)
        for param, column in self.equality_filters.items():
            value = getattr(query, param, None)
            if value is not None:
                stmt = stmt.where(column == value)
        if query.updated_since is not None:
            stmt = stmt.where(self.model.updated_at >= query.updated_since)
        if self.extra_filters is not None:
            stmt = self.extra_filters(stmt, query)
        if query.cursor:
            stmt = stmt.where(self.model.id > decode_cursor(query.cursor))
        if actor.is_admin:
            page = stmt.order_by(self.model.id).limit(query.limit + 1)
        else:
            # A rep or manager sees a small slice of the organisation. Walking the
            # primary key in order would filter out thousands of rows per page;
            # instead collect the visible ids (index scans, no row fetches), then
            # page within them.
            visible = stmt.with_only_columns(self.model.id).cte("visible_ids").prefix_with("MATERIALIZED")
            page_ids = select(visible.c.id).order_by(visible.c.id).limit(query.limit + 1)
            page = select(self.model).where(self.model.id.in_(page_ids)).order_by(self.model.id)
        objs = list(session.scalars(page))
        has_more = len(objs) > query.limit
        objs = objs[: query.limit]
        return {
            "items": self.serialize(session, objs),
            "next_cursor": encode_cursor(objs[-1].id) if has_more and objs else None,
        }

    # ---- writing: the one path ----------------------------------------------

    def column_values(self, ctx: WriteContext, values: dict[str, Any]) -> dict[str, Any]:
        """API values -> column values (the resource's conversion, then points to geography)."""
        if self.convert_values is not None:
            self.convert_values(ctx, values)
        for name in self.point_fields:
            if name in values:
                values[name] = point_element(values[name])
        return values

    def insert(self, ctx: WriteContext, values: dict[str, Any]) -> ModelT:
        """Create a row from validated `values`: check -> convert -> add -> flush -> after_write."""
        if values.get("id") is None:
            values["id"] = uuid.uuid4()
        refuse_fields(ctx.actor, self.policy.refused_fields(ctx, None, values))
        self.policy.before_create(ctx, values)
        if ctx.session.get(self.model, values["id"]) is not None:
            raise Conflict(f"A {self.name} with id {values['id']} already exists", code="ID_CONFLICT")
        relations = {k: values.pop(k) for k in self.relation_fields if k in values}
        obj = self.model(org_id=ctx.actor.org_id, **self.column_values(ctx, values))  # type: ignore[call-arg]  # mapped subclasses take columns as keywords
        ctx.session.add(obj)
        self.flush(ctx.session)
        if self.after_create is not None:
            self.after_create(ctx, obj)
        self._after_write(ctx, obj, relations)
        self._fire_rules(ctx, obj, None)
        return obj

    def change(
        self, ctx: WriteContext, obj: ModelT, changes: dict[str, Any], *, field_clocks: dict[str, Any] | None = None
    ) -> ModelT:
        """Write `changes` to a locked, visible row: check -> convert -> set -> flush -> after_write.

        `field_clocks` (sync push only) is stored with the values in the same flush.
        """
        refuse_fields(ctx.actor, self.policy.refused_fields(ctx, obj, changes))
        self.policy.before_update(ctx, obj, changes)
        if self.on_change is not None:
            self.on_change(ctx, obj, changes)
        relations = {k: changes.pop(k) for k in self.relation_fields if k in changes}
        values = self.column_values(ctx, changes)
        before = {key: getattr(obj, key, None) for key in values}
        for key, value in values.items():
            setattr(obj, key, value)
        if field_clocks is not None:
            obj.field_clocks = field_clocks  # type: ignore[attr-defined]
        self.flush(ctx.session)
        self._after_write(ctx, obj, relations)
        self._fire_rules(ctx, obj, before)
        return obj

    def delete(self, ctx: WriteContext, obj: ModelT) -> None:
        """Soft-delete a locked, visible row: check -> tombstone -> flush -> after_delete."""
        if obj.deleted_at is not None:
            return
        self.policy.before_delete(ctx, obj)
        obj.deleted_at = datetime.now(UTC)
        self.flush(ctx.session)
        if self.after_delete is not None:
            self.after_delete(ctx, obj)
            self.flush(ctx.session)

    def restore(self, ctx: WriteContext, obj: ModelT) -> None:
        """Undo a soft delete (managers only; the caller checks the role). Derived
        data follows as after any write (a territory takes its customers back)."""
        if obj.deleted_at is None:
            return
        obj.deleted_at = None
        self.flush(ctx.session)
        self._after_write(ctx, obj, {})

    def _after_write(self, ctx: WriteContext, obj: ModelT, relations: dict[str, Any]) -> None:
        if self.after_write is not None:
            self.after_write(ctx, obj, relations)
            self.flush(ctx.session)

    def _fire_rules(self, ctx: WriteContext, obj: ModelT, before: dict[str, Any] | None) -> None:
        announce_write(ctx, self.name, obj, before)

    def flush(self, session: Session) -> None:
        """Flush, turning a constraint violation into 409 CONSTRAINT_VIOLATION."""
        try:
            session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            raise Conflict(
                f"The change conflicts with existing data ({constraint or 'constraint'})",
                code="CONSTRAINT_VIOLATION",
                extra={"constraint": constraint},
            ) from exc

    # ---- HTTP CRUD: parse the request, then the one path ---------------------

    def create(self, ctx: WriteContext, payload: BaseModel) -> ModelT:
        values = payload.model_dump(exclude_unset=True)
        values = {k: v for k, v in values.items() if v is not None or k == "id"}
        return self.insert(ctx, values)

    def update(self, ctx: WriteContext, obj_id: uuid.UUID, payload: BaseModel, expected_version: int | None) -> ModelT:
        obj = self.get_visible(ctx.session, ctx.actor, obj_id, for_update=True)
        if expected_version is not None and obj.row_version != expected_version:
            raise PreconditionFailed(
                f"{self.name} {obj_id} is at row_version {obj.row_version}, not {expected_version}",
                extra={"row_version": obj.row_version},
            )
        return self.change(ctx, obj, payload.model_dump(exclude_unset=True))

    def soft_delete(self, ctx: WriteContext, obj_id: uuid.UUID) -> None:
        self.delete(ctx, self.get_visible(ctx.session, ctx.actor, obj_id, for_update=True))


__all__ = [
    "Policy",
    "PreconditionFailed",
    "ResourceSpec",
    "WriteContext",
    "announce_write",
    "observe_writes",
    "write_observers",
]
