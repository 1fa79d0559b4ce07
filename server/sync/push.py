"""Push: a client's outbox, applied idempotently, in order, in one transaction.

1. The client's row is locked (`SELECT ... FOR UPDATE`): parallel pushes of
   the same client serialize.
2. Each mutation in mid order: a mid at or below `last_mid` is a duplicate
   (the stored answer again, or CLIENT_ID_CONFLICT when its content differs);
   a mid past `last_mid + 1` is a gap (409, nothing applied); otherwise it is
   authorized and merged inside a savepoint. A permanent error (validation,
   forbidden, out of scope) is stored with the whole mutation and still
   advances `last_mid`, so one bad mutation never blocks the queue.
3. A transient error (database unreachable, lock timeout) escapes as 503 and
   rolls the whole batch back; the client retries it as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.api.resource import ResourceSpec, WriteContext
from server.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from server.models import Customer, SyncClient, SyncConflict, SyncMutationResult, SyncRejection
from server.sync.entities import SYNCED
from shared.enums import TaskStatus
from shared.sync.hlc import hlc_pack, hlc_physical_ms
from shared.sync.merge import (
    APPEND_ONLY,
    FieldClock,
    FieldDecision,
    clock_group,
    decide_field,
    merge_tags,
    merge_task_status,
)
from shared.sync.protocol import (
    MAX_CLOCK_AHEAD_MS,
    MAX_PUSH_MUTATIONS,
    MIN_PROTOCOL,
    Entity,
    Mutation,
    MutationResult,
    MutationType,
    Outcome,
    PushRequest,
    PushResponse,
)

logger = logging.getLogger(__name__)

# A push waits at most this long for a row lock before answering 503.
LOCK_TIMEOUT = "5s"


class ProtocolUnsupported(AppError):
    status, code, title = 426, "PROTOCOL_UNSUPPORTED", "Upgrade required"


class TooManyMutations(AppError):
    status, code, title = 413, "TOO_MANY_MUTATIONS", "Payload too large"


class MutationGap(AppError):
    status, code, title = 409, "MUTATION_GAP", "Mutation gap"


class ClientIdConflict(AppError):
    status, code, title = 409, "CLIENT_ID_CONFLICT", "Client id conflict"


class ClientIdForeign(AppError):
    status, code, title = 403, "CLIENT_ID_FOREIGN", "Client id belongs to someone else"


class Refusal(Exception):
    """A permanent, per-mutation failure: stored, answered, and the queue moves on."""

    def __init__(self, outcome: Outcome, code: str, detail: str, fields: list[str] | None = None) -> None:
        super().__init__(detail)
        self.outcome, self.code, self.detail, self.fields = outcome, code, detail, fields or []


def check_protocol(protocol: int) -> None:
    if protocol < MIN_PROTOCOL:
        raise ProtocolUnsupported(
            f"Sync protocol {protocol} is no longer supported (minimum {MIN_PROTOCOL}); update the app. "
            "Your data and unsent changes stay on the device.",
            extra={"min_protocol": MIN_PROTOCOL},
        )


@dataclass
class _Batch:
    session: Session
    actor: Actor
    client: SyncClient
    now_ms: int

    @property
    def ctx(self) -> WriteContext:
        return WriteContext(self.session, self.actor)


@dataclass
class _Applied:
    outcome: Outcome
    row_version: int | None
    fields: list[str] = field(default_factory=list)


def push(session: Session, actor: Actor, request: PushRequest) -> PushResponse:
    check_protocol(request.protocol)
    if len(request.mutations) > MAX_PUSH_MUTATIONS:
        raise TooManyMutations(f"At most {MAX_PUSH_MUTATIONS} mutations per push, got {len(request.mutations)}")
    try:
        client_id = uuid.UUID(request.client_id)
    except ValueError:
        raise InvalidInput("client_id must be a UUID", code="INVALID_CLIENT_ID") from None
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    client = _lock_client(session, actor, client_id, request)
    batch = _Batch(session, actor, client, time.time_ns() // 1_000_000)
    results: list[MutationResult] = []
    answers: list[dict[str, Any]] = []
    for mutation in sorted(request.mutations, key=lambda m: m.mid):
        if mutation.mid <= client.last_mid:
            results.append(_duplicate(session, client, mutation))
            continue
        if mutation.mid != client.last_mid + 1:
            raise MutationGap(
                f"Mutation {mutation.mid} follows {client.last_mid}; send from {client.last_mid + 1}",
                extra={"expected_mid": client.last_mid + 1, "last_mid": client.last_mid},
            )
        result = _apply(batch, mutation)
        answers.append(
            {
                "client_id": client_id,
                "mid": mutation.mid,
                "payload_hash": mutation.payload_hash,
                "result": asdict(result),
            }
        )
        client.last_mid = mutation.mid
        results.append(result)
    if answers:
        # One statement for the batch's stored answers (they are only read by later duplicates).
        session.execute(insert(SyncMutationResult), answers)
    client.last_seen_at = datetime.now(UTC)
    client.protocol = request.protocol
    client.app_version = request.app_version[:40]
    session.flush()
    return PushResponse(
        client_id=str(client_id),
        last_mid=client.last_mid,
        results=results,
        server_time_ms=batch.now_ms,
        hlc=hlc_pack(batch.now_ms),
    )


def _lock_client(session: Session, actor: Actor, client_id: uuid.UUID, request: PushRequest) -> SyncClient:
    session.execute(
        pg_insert(SyncClient)
        .values(
            client_id=client_id,
            org_id=actor.org_id,
            user_id=actor.user_id,
            protocol=request.protocol,
            app_version=request.app_version[:40],
        )
        .on_conflict_do_nothing(index_elements=["client_id"])
    )
    client = session.scalar(
        select(SyncClient)
        .where(SyncClient.client_id == client_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert client is not None
    if client.org_id != actor.org_id or client.user_id != actor.user_id:
        raise ClientIdForeign("This client_id is bound to another user; create a new one")
    return client


def _duplicate(session: Session, client: SyncClient, mutation: Mutation) -> MutationResult:
    stored = session.get(SyncMutationResult, (client.client_id, mutation.mid))
    if stored is not None and stored.payload_hash != mutation.payload_hash:
        raise ClientIdConflict(
            f"Mutation {mutation.mid} was pushed before with other content (a device restored from a backup?); "
            "take a new client_id and push the pending mutations again",
            extra={"mid": mutation.mid, "last_mid": client.last_mid},
        )
    if stored is None:
        # Acknowledged long ago and compacted away: it was applied once, that is all we know.
        return MutationResult(mid=mutation.mid, outcome=Outcome.duplicate, entity=mutation.entity)
    original = MutationResult(**stored.result)
    original.original_outcome = str(original.outcome)
    original.outcome = Outcome.duplicate
    return original


# ---- one mutation ----------------------------------------------------------------------------


def _apply(batch: _Batch, mutation: Mutation) -> MutationResult:
    session = batch.session
    hlc, clamped = _clamp(mutation.hlc, batch.now_ms)
    base = MutationResult(
        mid=mutation.mid,
        outcome=Outcome.applied,
        entity=mutation.entity,
        entity_id=mutation.entity_id,
        clock_skew_clamped=clamped,
    )
    savepoint = session.begin_nested()
    try:
        entity, kind, entity_id = _parse(mutation)
        handler = _HANDLERS[kind]
        applied = handler(batch, entity, SYNCED[entity], mutation, entity_id, hlc)
        savepoint.commit()
    except Refusal as refusal:
        savepoint.rollback()
        return _store_refusal(batch, mutation, base, refusal)
    except ValidationError as exc:
        savepoint.rollback()
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}" for e in exc.errors())
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return _store_refusal(batch, mutation, base, Refusal(Outcome.rejected, "VALIDATION_FAILED", problems, fields))
    except AppError as exc:
        savepoint.rollback()
        return _store_refusal(batch, mutation, base, _classify(exc))
    except DBAPIError as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise  # the database went away or a lock timed out: 503, the client retries the batch
        savepoint.rollback()
        logger.exception("mutation %s of client %s failed in the database", mutation.mid, batch.client.client_id)
        return _store_refusal(batch, mutation, base, Refusal(Outcome.rejected, "DATABASE_REFUSED", str(exc.orig)[:500]))
    except Exception as exc:
        # A bug on our side must not block this client's queue forever: keep the
        # mutation for review (it can be replayed once fixed) and move on.
        savepoint.rollback()
        logger.exception("mutation %s of client %s failed", mutation.mid, batch.client.client_id)
        return _store_refusal(batch, mutation, base, Refusal(Outcome.rejected, "INTERNAL_ERROR", type(exc).__name__))
    base.outcome, base.row_version, base.fields = applied.outcome, applied.row_version, applied.fields
    return base


def _parse(mutation: Mutation) -> tuple[Entity, MutationType, uuid.UUID]:
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


def _clamp(hlc: int, now_ms: int) -> tuple[int, bool]:
    """A clock more than MAX_CLOCK_AHEAD_MS ahead of ours must not win every merge for days."""
    if hlc_physical_ms(hlc) > now_ms + MAX_CLOCK_AHEAD_MS:
        return hlc_pack(now_ms), True
    return hlc, False


def _classify(error: AppError) -> Refusal:
    if isinstance(error, NotFound) or error.code == "INVALID_REFERENCE":
        # It names something outside the caller's scope (or gone): a manager looks at it.
        return Refusal(Outcome.quarantined, error.code, error.detail)
    fields = list(error.extra.get("fields", [])) or ([error.extra["field"]] if "field" in error.extra else [])
    return Refusal(Outcome.rejected, error.code, error.detail, fields)


def _kept_whole(batch: _Batch, mutation: Mutation, entity_id: uuid.UUID) -> dict[str, Any]:
    """What every review row records: who pushed it, from which device, and the whole mutation."""
    return {
        "org_id": batch.actor.org_id,
        "user_id": batch.actor.user_id,
        "client_id": batch.client.client_id,
        "mid": mutation.mid,
        "entity": str(mutation.entity)[:32],
        "entity_id": entity_id,
        "mutation": to_jsonable_python(asdict(mutation)),
    }


def _store_refusal(batch: _Batch, mutation: Mutation, base: MutationResult, refusal: Refusal) -> MutationResult:
    try:
        entity_id = uuid.UUID(mutation.entity_id)
    except ValueError:
        entity_id = uuid.UUID(int=0)
    batch.session.add(
        SyncRejection(
            **_kept_whole(batch, mutation, entity_id),
            outcome=str(refusal.outcome),
            code=refusal.code,
            detail=refusal.detail,
        )
    )
    base.outcome, base.code, base.detail, base.fields = refusal.outcome, refusal.code, refusal.detail, refusal.fields
    return base


def _conflict(
    batch: _Batch,
    mutation: Mutation,
    entity_id: uuid.UUID,
    *,
    reason: str,
    field_name: str | None,
    kept: Any,
    lost: Any,
    kept_clock: FieldClock | None = None,
    lost_clock: FieldClock | None = None,
) -> None:
    batch.session.add(
        SyncConflict(
            **_kept_whole(batch, mutation, entity_id),
            field=field_name,
            reason=reason,
            kept_value=to_jsonable_python(kept),
            lost_value=to_jsonable_python(lost),
            kept_clock=kept_clock.to_json() if kept_clock else None,
            lost_clock=lost_clock.to_json() if lost_clock else None,
        )
    )


def _locked_visible(batch: _Batch, spec: ResourceSpec[Any], entity_id: uuid.UUID) -> Any:
    model = spec.model
    found = batch.session.execute(
        select(model, spec.policy.visible(batch.actor).label("visible"))
        .where(model.org_id == batch.actor.org_id, model.id == entity_id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).first()
    obj = found[0] if found is not None else None
    if found is None or not found[1]:
        # Never existed, another organisation's, or outside the caller's scope: the same answer.
        raise Refusal(Outcome.quarantined, "OUT_OF_SCOPE", f"{spec.name} {entity_id} is not in your scope")
    return obj


def _drop_forbidden(call: Callable[[dict[str, Any]], Any], values: dict[str, Any]) -> list[str]:
    """Run a policy check, dropping the fields it refuses for this role (applied_partial)."""
    dropped: list[str] = []
    for _ in range(len(values) + 1):
        try:
            call(dict(values))
            return dropped
        except Forbidden as exc:
            refused = [f for f in exc.extra.get("fields", []) if f in values] if exc.code == "FIELD_NOT_ALLOWED" else []
            if not refused:
                raise
            for name in refused:
                values.pop(name)
            dropped += refused
    return dropped


# ---- handlers ----------------------------------------------------------------------------------


def _insert(
    batch: _Batch, entity: Entity, spec: ResourceSpec[Any], mutation: Mutation, entity_id: uuid.UUID, hlc: int
) -> _Applied:
    session, model = batch.session, spec.model
    existing = session.scalar(select(model).where(model.id == entity_id))
    if existing is not None:
        if existing.org_id == batch.actor.org_id and _same_content(batch, spec, existing, mutation.data):
            return _Applied(Outcome.duplicate_entity, existing.row_version)
        raise Refusal(Outcome.rejected, "ID_COLLISION", f"{spec.name} {entity_id} already exists with other content")
    parent_id = mutation.data.get("customer_id")
    if entity is not Entity.customer and isinstance(parent_id, str):
        parent = session.scalar(
            select(Customer.deleted_at).where(Customer.org_id == batch.actor.org_id, Customer.id == _uuid(parent_id))
        )
        if parent is not None:
            raise Refusal(
                Outcome.quarantined, "PARENT_DELETED", f"customer {parent_id} was deleted; kept for a manager's review"
            )
    values = dict(mutation.data)
    values.pop("id", None)

    def create(candidate: dict[str, Any]) -> Any:
        return spec.create(batch.ctx, spec.create_schema.model_validate({**candidate, "id": entity_id}))

    created: list[Any] = []
    dropped = _drop_forbidden(lambda candidate: created.append(create(candidate)), values)
    obj = created[-1]
    return _Applied(Outcome.applied_partial if dropped else Outcome.applied, obj.row_version, dropped)


def _update(
    batch: _Batch, entity: Entity, spec: ResourceSpec[Any], mutation: Mutation, entity_id: uuid.UUID, hlc: int
) -> _Applied:
    session, actor = batch.session, batch.actor
    obj = _locked_visible(batch, spec, entity_id)
    if entity in APPEND_ONLY:
        raise Refusal(Outcome.rejected, "APPEND_ONLY", f"a {spec.name} cannot be changed once written")
    if obj.deleted_at is not None:
        _conflict(
            batch, mutation, entity_id, reason="edited_after_delete", field_name=None, kept=None, lost=mutation.data
        )
        return _Applied(Outcome.applied_to_tombstone, obj.row_version)
    data = dict(mutation.data)
    tag_edit = data.pop("tags", None) if entity is Entity.customer else None
    generation = data.pop("generation", None) if entity is Entity.task else None
    changes = spec.update_schema.model_validate(data).model_dump(exclude_unset=True)
    clocks: dict[str, Any] = dict(getattr(obj, "field_clocks", None) or {})
    client_key = str(batch.client.client_id)
    mine = FieldClock(obj.row_version + 1, hlc, client_key)
    lost_fields: list[str] = []

    if entity is Entity.task and "status" in changes:
        merged = merge_task_status(
            str(obj.status), obj.generation, str(changes["status"]), generation, by_manager=actor.manages_people
        )
        if merged.accepted:
            changes["status"] = TaskStatus(merged.status)
            if merged.generation != obj.generation:
                obj.generation = merged.generation
        else:
            _conflict(
                batch,
                mutation,
                entity_id,
                reason=merged.reason or "lattice",
                field_name="status",
                kept=str(obj.status),
                lost=str(changes.pop("status")),
            )
            lost_fields.append("status")

    dropped = _drop_forbidden(lambda candidate: spec.policy.before_update(batch.ctx, obj, candidate), changes)
    if tag_edit is not None:
        dropped += _drop_forbidden(lambda _: spec.policy.before_update(batch.ctx, obj, {"tags": []}), {"tags": True})

    winners: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    original_clocks = dict(clocks)
    for name in changes:
        groups.setdefault(clock_group(entity, name), []).append(name)
    if not hasattr(obj, "field_clocks"):
        # Written by the server only (plans): no concurrent field edits to arbitrate.
        groups, winners = {}, dict(changes)
    current_row = spec.to_dict(obj)
    for group, names in groups.items():
        stored = FieldClock.from_json(clocks.get(group))
        decision = decide_field(stored, hlc, client_key, mutation.base_row_version)
        current = {name: current_row.get(name) for name in names}
        incoming = {name: changes[name] for name in names}
        if decision is FieldDecision.loses:
            _conflict(
                batch,
                mutation,
                entity_id,
                reason="lost_to_later_edit",
                field_name=group,
                kept=current,
                lost=incoming,
                kept_clock=stored,
                lost_clock=mine,
            )
            lost_fields += names
            continue
        if decision is FieldDecision.wins and current != incoming:
            # Concurrent and later: it wins, and the value it overwrites is kept for review.
            _conflict(
                batch,
                mutation,
                entity_id,
                reason="overwritten_by_later_edit",
                field_name=group,
                kept=incoming,
                lost=current,
                kept_clock=mine,
                lost_clock=stored,
            )
        winners.update(incoming)
        clocks[group] = mine.to_json()

    if tag_edit is not None and "tags" not in dropped:
        add, remove = _tag_operations(tag_edit, list(obj.tags or []))
        tags, tag_clocks = merge_tags(obj.tags or [], clocks.get("tags", {}), add, remove, hlc)
        clocks["tags"] = tag_clocks
        if tags != sorted(obj.tags or []):
            winners["tags"] = tags

    if winners or clocks != original_clocks:
        spec.policy.before_update(batch.ctx, obj, dict(winners))
        for key, value in spec._column_values(batch.ctx, dict(winners)).items():
            setattr(obj, key, value)
        if clocks != original_clocks:
            obj.field_clocks = clocks
        spec._flush(session)
        if spec.after_write is not None:
            spec.after_write(batch.ctx, obj, {})
            spec._flush(session)
    if lost_fields:
        return _Applied(Outcome.applied_with_conflicts, obj.row_version, sorted(lost_fields))
    if dropped:
        return _Applied(Outcome.applied_partial, obj.row_version, sorted(dropped))
    return _Applied(Outcome.applied, obj.row_version)


def _delete(
    batch: _Batch, entity: Entity, spec: ResourceSpec[Any], mutation: Mutation, entity_id: uuid.UUID, hlc: int
) -> _Applied:
    obj = _locked_visible(batch, spec, entity_id)
    if obj.deleted_at is None:
        spec.policy.before_delete(batch.ctx, obj)
        obj.deleted_at = datetime.now(UTC)
        spec._flush(batch.session)
    return _Applied(Outcome.applied, obj.row_version)


def _restore(
    batch: _Batch, entity: Entity, spec: ResourceSpec[Any], mutation: Mutation, entity_id: uuid.UUID, hlc: int
) -> _Applied:
    if not batch.actor.manages_people:
        raise Refusal(Outcome.rejected, "ROLE_FORBIDDEN", "Only managers restore deleted records")
    obj = _locked_visible(batch, spec, entity_id)
    if obj.deleted_at is not None:
        obj.deleted_at = None
        spec._flush(batch.session)
    return _Applied(Outcome.applied, obj.row_version)


_HANDLERS = {
    MutationType.insert: _insert,
    MutationType.update: _update,
    MutationType.delete: _delete,
    MutationType.restore: _restore,
}


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


def _same_content(batch: _Batch, spec: ResourceSpec[Any], existing: Any, data: dict[str, Any]) -> bool:
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
            spec.convert_values(batch.ctx, converted)
        except (AppError, Conflict):
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
