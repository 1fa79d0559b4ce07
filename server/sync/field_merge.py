"""One pushed mutation -> the changes it makes -> the resource's write path, once.

The batch around it (ordering, idempotency, stored answers) is `push.py`. Here
a mutation is authorized and merged by the rules of SYNC.md:

- fields a role may not write are dropped (`applied_partial`), asked of the
  policy without raising;
- a task's status follows its one-way order (open < in_progress < done within
  a generation), and that order is the whole decision: no field clock can undo
  an accepted step;
- every other field is last-writer-wins by (HLC, client id) per clock group
  (the address fields are one group); the value that loses is logged;
- tags merge as an add/remove set.

What survives goes to `ResourceSpec.insert`, `change`, `delete` or `restore`,
the same steps an HTTP write takes, so every check and hook runs for phones too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.policy import WriteContext
from server.api.resource import ResourceSpec
from server.errors import AppError
from server.models import Customer, SyncConflict
from shared.enums import TaskStatus
from shared.sync.merge import (
    APPEND_ONLY,
    FieldClock,
    FieldDecision,
    clock_group,
    decide_field,
    merge_tags,
    merge_task_status,
)
from shared.sync.protocol import Entity, Mutation, MutationType, Outcome


class Refusal(Exception):
    """A permanent, per-mutation failure: stored, answered, and the queue moves on."""

    def __init__(self, outcome: Outcome, code: str, detail: str, fields: list[str] | None = None) -> None:
        super().__init__(detail)
        self.outcome, self.code, self.detail, self.fields = outcome, code, detail, fields or []


@dataclass
class Applied:
    """What a mutation did: its outcome, the row version it produced, the fields it names."""

    outcome: Outcome
    row_version: int | None
    fields: list[str] = field(default_factory=list)


@dataclass
class PushedMutation:
    """One mutation being applied, with who sent it and the clock it is merged at."""

    session: Session
    actor: Actor
    client_id: uuid.UUID
    mutation: Mutation
    hlc: int  # after clamping

    @property
    def ctx(self) -> WriteContext:
        return WriteContext(self.session, self.actor)

    def kept_whole(self, entity_id: uuid.UUID) -> dict[str, Any]:
        """What every review row records: who pushed it, from which device, and the whole mutation."""
        return {
            "org_id": self.actor.org_id,
            "user_id": self.actor.user_id,
            "client_id": self.client_id,
            "mid": self.mutation.mid,
            "entity": str(self.mutation.entity)[:32],
            "entity_id": entity_id,
            "mutation": to_jsonable_python(asdict(self.mutation)),
        }

    def log_conflict(
        self,
        entity_id: uuid.UUID,
        *,
        reason: str,
        field_name: str | None,
        kept: Any,
        lost: Any,
        kept_clock: FieldClock | None = None,
        lost_clock: FieldClock | None = None,
    ) -> None:
        """Keep a value that lost (or was overwritten) for a manager's review: nothing acknowledged is lost."""
        self.session.add(
            SyncConflict(
                **self.kept_whole(entity_id),
                field=field_name,
                reason=reason,
                kept_value=to_jsonable_python(kept),
                lost_value=to_jsonable_python(lost),
                kept_clock=kept_clock.to_json() if kept_clock else None,
                lost_clock=lost_clock.to_json() if lost_clock else None,
            )
        )


def parse_mutation(mutation: Mutation) -> tuple[Entity, MutationType, uuid.UUID]:
    try:
        entity = Entity(mutation.entity)
    except ValueError:
        raise Refusal(Outcome.rejected, "UNKNOWN_ENTITY", f"{mutation.entity!r} is not a synced entity") from None
    try:
        kind = MutationType(mutation.type)
    except ValueError:
        raise Refusal(Outcome.rejected, "UNKNOWN_MUTATION_TYPE", f"{mutation.type!r} is not a mutation type") from None
    try:
        entity_id = uuid.UUID(mutation.entity_id)
    except ValueError:
        raise Refusal(Outcome.rejected, "INVALID_ID", f"{mutation.entity_id!r} is not a UUID") from None
    if mutation.payload_hash != mutation.computed_hash():
        raise Refusal(Outcome.rejected, "PAYLOAD_HASH_MISMATCH", "payload_hash does not match the mutation's content")
    if not isinstance(mutation.data, dict):
        raise Refusal(Outcome.rejected, "VALIDATION_FAILED", "data must be an object")
    return entity, kind, entity_id


def apply_mutation(
    pushed: PushedMutation, entity: Entity, kind: MutationType, spec: ResourceSpec[Any], entity_id: uuid.UUID
) -> Applied:
    """Merge one mutation and write what survives through the resource (inside the caller's savepoint)."""
    return _HANDLERS[kind](pushed, entity, spec, entity_id)


# ---- insert ------------------------------------------------------------------------------------


def _insert(pushed: PushedMutation, entity: Entity, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Applied:
    session, model, data = pushed.session, spec.model, pushed.mutation.data
    existing = session.scalar(select(model).where(model.id == entity_id))
    if existing is not None:
        if existing.org_id == pushed.actor.org_id and _same_content(pushed, spec, existing, data):
            return Applied(Outcome.duplicate_entity, existing.row_version)
        raise Refusal(Outcome.rejected, "ID_COLLISION", f"{spec.name} {entity_id} already exists with other content")
    parent_id = data.get("customer_id")
    if entity is not Entity.customer and isinstance(parent_id, str):
        parent_deleted = session.scalar(
            select(Customer.deleted_at).where(Customer.org_id == pushed.actor.org_id, Customer.id == _uuid(parent_id))
        )
        if parent_deleted is not None:
            raise Refusal(
                Outcome.quarantined, "PARENT_DELETED", f"customer {parent_id} was deleted; kept for a manager's review"
            )
    payload = spec.create_schema.model_validate({**data, "id": entity_id})
    values = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "id"}
    dropped = spec.policy.refused_fields(pushed.ctx, None, values)
    for name in dropped:
        values.pop(name)
    obj = spec.insert(pushed.ctx, values)
    return Applied(Outcome.applied_partial if dropped else Outcome.applied, obj.row_version, dropped)


# ---- update ------------------------------------------------------------------------------------


def _update(pushed: PushedMutation, entity: Entity, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Applied:
    obj = _locked_visible(pushed, spec, entity_id)
    mutation = pushed.mutation
    if entity in APPEND_ONLY:
        raise Refusal(Outcome.rejected, "APPEND_ONLY", f"a {spec.name} cannot be changed once written")
    if obj.deleted_at is not None:
        pushed.log_conflict(entity_id, reason="edited_after_delete", field_name=None, kept=None, lost=mutation.data)
        return Applied(Outcome.applied_to_tombstone, obj.row_version)
    data = dict(mutation.data)
    tag_edit = data.pop("tags", None) if entity is Entity.customer else None
    generation = data.pop("generation", None) if entity is Entity.task else None
    changes = spec.update_schema.model_validate(data).model_dump(exclude_unset=True)

    asked = {**changes, **({"tags": []} if tag_edit is not None else {})}
    dropped = spec.policy.refused_fields(pushed.ctx, obj, asked)
    for name in dropped:
        changes.pop(name, None)
    if "tags" in dropped:
        tag_edit = None

    merge = _FieldMerge(pushed, entity, spec, obj, entity_id)
    if entity is Entity.task and "status" in changes:
        merge.task_status(changes.pop("status"), generation)
    if hasattr(obj, "field_clocks"):
        merge.last_writer_wins(changes)
    else:
        # Written by the server only (plans): no concurrent field edits to arbitrate.
        merge.winners.update(changes)
    if tag_edit is not None:
        merge.tags(tag_edit)

    if merge.winners or merge.clocks != merge.original_clocks:
        clocks = merge.clocks if merge.clocks != merge.original_clocks else None
        spec.change(pushed.ctx, obj, merge.winners, field_clocks=clocks)
    if merge.lost_fields:
        return Applied(Outcome.applied_with_conflicts, obj.row_version, sorted(merge.lost_fields))
    if dropped:
        return Applied(Outcome.applied_partial, obj.row_version, sorted(dropped))
    return Applied(Outcome.applied, obj.row_version)


class _FieldMerge:
    """The per-field decisions of one update: which incoming values win, which lose, and the clocks after."""

    def __init__(
        self, pushed: PushedMutation, entity: Entity, spec: ResourceSpec[Any], obj: Any, entity_id: uuid.UUID
    ) -> None:
        self.pushed, self.entity, self.spec, self.obj, self.entity_id = pushed, entity, spec, obj, entity_id
        self.original_clocks: dict[str, Any] = dict(getattr(obj, "field_clocks", None) or {})
        self.clocks = dict(self.original_clocks)
        self.mine = FieldClock(obj.row_version + 1, pushed.hlc, str(pushed.client_id))
        self.winners: dict[str, Any] = {}
        self.lost_fields: list[str] = []

    def task_status(self, incoming: Any, generation: int | None) -> None:
        """The one-way order decides a task's status; the field clock only records the latest step."""
        obj = self.obj
        merged = merge_task_status(
            str(obj.status), obj.generation, str(incoming), generation, by_manager=self.pushed.actor.manages_people
        )
        if not merged.accepted:
            self.pushed.log_conflict(
                self.entity_id,
                reason=merged.reason or "lattice",
                field_name="status",
                kept=str(obj.status),
                lost=str(incoming),
            )
            self.lost_fields.append("status")
            return
        if merged.status != str(obj.status):
            self.winners["status"] = TaskStatus(merged.status)
            # Whatever the clocks say: an accepted step is never undone by an earlier-stamped edit.
            self.clocks["status"] = self.mine.to_json()
        if merged.generation != obj.generation:
            self.winners["generation"] = merged.generation

    def last_writer_wins(self, changes: dict[str, Any]) -> None:
        """Per clock group: a causal or later edit wins (the overwritten value is logged), an earlier one loses."""
        pushed, mine = self.pushed, self.mine
        groups: dict[str, list[str]] = {}
        for name in changes:
            groups.setdefault(clock_group(self.entity, name), []).append(name)
        if not groups:
            return
        current_row = self.spec.to_dict(self.obj)
        for group, names in groups.items():
            stored = FieldClock.from_json(self.clocks.get(group))
            decision = decide_field(stored, pushed.hlc, str(pushed.client_id), pushed.mutation.base_row_version)
            current = {name: current_row.get(name) for name in names}
            incoming = {name: changes[name] for name in names}
            if decision is FieldDecision.loses:
                pushed.log_conflict(
                    self.entity_id,
                    reason="lost_to_later_edit",
                    field_name=group,
                    kept=current,
                    lost=incoming,
                    kept_clock=stored,
                    lost_clock=mine,
                )
                self.lost_fields += names
                continue
            if decision is FieldDecision.wins and current != incoming:
                # Concurrent and later: it wins, and the value it overwrites is kept for review.
                pushed.log_conflict(
                    self.entity_id,
                    reason="overwritten_by_later_edit",
                    field_name=group,
                    kept=incoming,
                    lost=current,
                    kept_clock=mine,
                    lost_clock=stored,
                )
            self.winners.update(incoming)
            self.clocks[group] = mine.to_json()

    def tags(self, tag_edit: Any) -> None:
        current = list(self.obj.tags or [])
        add, remove = _tag_operations(tag_edit, current)
        tags, tag_clocks = merge_tags(current, self.clocks.get("tags", {}), add, remove, self.pushed.hlc)
        self.clocks["tags"] = tag_clocks
        if tags != sorted(current):
            self.winners["tags"] = tags


# ---- delete and restore ------------------------------------------------------------------------


def _delete(pushed: PushedMutation, entity: Entity, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Applied:
    obj = _locked_visible(pushed, spec, entity_id)
    spec.delete(pushed.ctx, obj)
    return Applied(Outcome.applied, obj.row_version)


def _restore(pushed: PushedMutation, entity: Entity, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Applied:
    if not pushed.actor.manages_people:
        raise Refusal(Outcome.rejected, "ROLE_FORBIDDEN", "Only managers restore deleted records")
    obj = _locked_visible(pushed, spec, entity_id)
    spec.restore(pushed.ctx, obj)
    return Applied(Outcome.applied, obj.row_version)


_HANDLERS: dict[MutationType, Callable[[PushedMutation, Entity, ResourceSpec[Any], uuid.UUID], Applied]] = {
    MutationType.insert: _insert,
    MutationType.update: _update,
    MutationType.delete: _delete,
    MutationType.restore: _restore,
}


# ---- helpers -----------------------------------------------------------------------------------


def _locked_visible(pushed: PushedMutation, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Any:
    """The row, locked, whether deleted or not; out of scope (or absent, or another organisation's) is quarantined."""
    model = spec.model
    found = pushed.session.execute(
        select(model, spec.policy.visible(pushed.actor).label("visible"))
        .where(model.org_id == pushed.actor.org_id, model.id == entity_id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).first()
    if found is None or not found[1]:
        # Never existed, another organisation's, or outside the caller's scope: the same answer.
        raise Refusal(Outcome.quarantined, "OUT_OF_SCOPE", f"{spec.name} {entity_id} is not in your scope")
    return found[0]


def _tag_operations(edit: Any, current: list[str]) -> tuple[list[str], list[str]]:
    """`{"add": [...], "remove": [...]}`, or a whole list (read as the difference from now)."""
    if isinstance(edit, dict) and set(edit) <= {"add", "remove"}:
        add, remove = edit.get("add", []), edit.get("remove", [])
    elif isinstance(edit, list):
        add, remove = [t for t in edit if t not in current], [t for t in current if t not in edit]
    else:
        raise Refusal(Outcome.rejected, "VALIDATION_FAILED", 'tags: send {"add": [...], "remove": [...]}', ["tags"])
    tags = [*add, *remove]
    if not all(isinstance(t, str) and 0 < len(t) <= 64 for t in tags) or len(tags) > 100:
        raise Refusal(Outcome.rejected, "VALIDATION_FAILED", "tags: each tag is 1-64 characters", ["tags"])
    return list(add), list(remove)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _same_content(pushed: PushedMutation, spec: ResourceSpec[Any], existing: Any, data: dict[str, Any]) -> bool:
    """Is a re-sent insert the row we have? Compared after the same normalisation a write gets."""
    try:
        incoming = spec.create_schema.model_validate({**data, "id": existing.id}).model_dump(exclude_unset=True)
    except ValidationError:
        return False
    incoming.pop("id", None)
    converted = dict(incoming)
    points = {name: converted.pop(name) for name in spec.point_fields if name in converted}
    if spec.convert_values is not None:
        try:
            spec.convert_values(pushed.ctx, converted)
        except AppError:
            return False
    stored = spec.to_dict(existing)
    for name, value in points.items():
        here = stored.get(name)
        if value is None or here is None:
            if value != here:
                return False
        elif abs(here["lat"] - value["lat"]) > 1e-7 or abs(here["lon"] - value["lon"]) > 1e-7:
            return False
    return all(
        to_jsonable_python(stored.get(name)) == to_jsonable_python(converted[name])
        for name in incoming
        if name not in points and name in stored
    )
