"""Push: a client's outbox, applied idempotently, in order, in one transaction.

1. The client's row is locked (`SELECT ... FOR UPDATE`): parallel pushes of
   the same client serialize.
2. Each mutation in mid order: a mid at or below `last_mid` is a duplicate
   (the stored answer again, or CLIENT_ID_CONFLICT when its content differs);
   a mid past `last_mid + 1` is a gap (409, nothing applied); otherwise it is
   authorized and merged inside a savepoint (`field_merge.py`, which writes
   through the resource like any HTTP write). A permanent error (validation,
   forbidden, out of scope) is stored with the whole mutation and still
   advances `last_mid`, so one bad mutation never blocks the queue.
3. A transient error (database unreachable, lock timeout) escapes as 503 and
   rolls the whole batch back; the client retries it as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.errors import AppError, InvalidInput, NotFound
from server.models import SyncClient, SyncMutationResult, SyncRejection
from server.sync.entities import SYNCED
from server.sync.field_merge import PushedMutation, Refusal, apply_mutation, parse_mutation
from shared.sync.hlc import hlc_pack, hlc_physical_ms
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
    _lock_rows_in_order(session, actor, [m for m in request.mutations if m.mid > client.last_mid])
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


def _lock_rows_in_order(session: Session, actor: Actor, mutations: list[Mutation]) -> None:
    """Lock every existing row the batch changes, up front, by entity then id. Two phones
    pushing edits of the same rows in different orders would otherwise each hold a row the
    other waits for (a deadlock, answered 503); in one global order the second simply waits."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for mutation in mutations:
        if mutation.type == MutationType.insert or mutation.entity not in {e.value for e in SYNCED}:
            continue
        try:
            wanted.setdefault(mutation.entity, set()).add(uuid.UUID(mutation.entity_id))
        except (ValueError, TypeError, AttributeError):
            continue  # refused with its reason when the mutation itself is applied
    for entity in sorted(wanted):
        model = SYNCED[Entity(entity)].model
        session.execute(
            select(model.id)
            .where(model.org_id == actor.org_id, model.id.in_(sorted(wanted[entity])))
            .order_by(model.id)
            .with_for_update()
        ).all()


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
    pushed = PushedMutation(session, batch.actor, batch.client.client_id, mutation, hlc)
    savepoint = session.begin_nested()
    try:
        entity, kind, entity_id = parse_mutation(mutation)
        applied = apply_mutation(pushed, entity, kind, SYNCED[entity], entity_id)
        savepoint.commit()
    except Refusal as refusal:
        savepoint.rollback()
        return _store_refusal(pushed, base, refusal)
    except ValidationError as exc:
        savepoint.rollback()
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}" for e in exc.errors())
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return _store_refusal(pushed, base, Refusal(Outcome.rejected, "VALIDATION_FAILED", problems, fields))
    except AppError as exc:
        savepoint.rollback()
        return _store_refusal(pushed, base, _classify(exc))
    except DBAPIError as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise  # the database went away or a lock timed out: 503, the client retries the batch
        savepoint.rollback()
        logger.exception("mutation %s of client %s failed in the database", mutation.mid, batch.client.client_id)
        return _store_refusal(pushed, base, Refusal(Outcome.rejected, "DATABASE_REFUSED", str(exc.orig)[:500]))
    except Exception as exc:
        # A bug on our side must not block this client's queue forever: keep the
        # mutation for review (it can be replayed once fixed) and move on.
        savepoint.rollback()
        logger.exception("mutation %s of client %s failed", mutation.mid, batch.client.client_id)
        return _store_refusal(pushed, base, Refusal(Outcome.rejected, "INTERNAL_ERROR", type(exc).__name__))
    base.outcome, base.row_version, base.fields = applied.outcome, applied.row_version, applied.fields
    return base


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


def _store_refusal(pushed: PushedMutation, base: MutationResult, refusal: Refusal) -> MutationResult:
    try:
        entity_id = uuid.UUID(pushed.mutation.entity_id)
    except ValueError:
        entity_id = uuid.UUID(int=0)
    pushed.session.add(
        SyncRejection(
            **pushed.kept_whole(entity_id),
            outcome=str(refusal.outcome),
            code=refusal.code,
            detail=refusal.detail,
        )
    )
    base.outcome, base.code, base.detail, base.fields = refusal.outcome, refusal.code, refusal.detail, refusal.fields
    return base
