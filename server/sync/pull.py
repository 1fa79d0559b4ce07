"""Pull: one scope's changes after a cursor, below the xid8 horizon.

Only change rows written by transactions below `pg_snapshot_xmin` are read:
every transaction under that horizon has finished, so a row that commits
late (a small xid committing after a larger one) delays the pull instead of
being skipped. The page serves each entity's *current* row once; clients keep
the highest row_version, so repeated or reordered delivery is harmless.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, func, literal, literal_column, select, text
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.api.resource import ResourceSpec
from server.models import SyncClient
from server.sync.cursor import LogPosition, decode_sync_cursor, encode_sync_cursor
from server.sync.entities import SYNCED
from server.sync.scopes import check_scope
from shared.sync.hlc import hlc_pack
from shared.sync.protocol import (
    ENTITY_ORDER,
    PULL_PAGE_BYTES,
    ChangeKind,
    Entity,
    PulledRecord,
    PullPage,
    canonical_json,
    entities_for_schema,
)

_CHANGES = text(
    """
    SELECT xid::text::bigint AS xid, pos, entity, entity_id, kind, row_version
      FROM sync_changes
     WHERE org_id = :org_id AND scope = :scope
       AND (xid, pos) > (CAST(:xid AS xid8), :pos)
       AND entity = ANY(:entities)
       AND xid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY xid, pos
     LIMIT :limit
    """
)

_adapters: dict[Entity, TypeAdapter[Any]] = {}


def _json_row(entity: Entity, spec: ResourceSpec[Any], row: dict[str, Any]) -> dict[str, Any]:
    adapter = _adapters.get(entity)
    if adapter is None:
        adapter = _adapters[entity] = TypeAdapter(spec.read_schema)
    data: dict[str, Any] = adapter.dump_python(adapter.validate_python(row), mode="json")
    return data


def _serialized_rows(
    session: Session, current: dict[tuple[Entity, uuid.UUID], tuple[Any, bool]]
) -> dict[tuple[Entity, uuid.UUID], dict[str, Any]]:
    """The page's live rows, serialized once per entity: a resource's `enrich` (one query for
    a page of rows) runs once, not once per row."""
    live: dict[Entity, list[Any]] = {}
    for (entity, _), (obj, inside) in current.items():
        if inside and obj.deleted_at is None:
            live.setdefault(entity, []).append(obj)
    rows: dict[tuple[Entity, uuid.UUID], dict[str, Any]] = {}
    for entity, objs in live.items():
        for obj, row in zip(objs, SYNCED[entity].serialize(session, objs), strict=True):
            rows[(entity, obj.id)] = row
    return rows


@dataclass
class _Change:
    position: LogPosition
    entity: Entity
    entity_id: uuid.UUID
    kind: ChangeKind
    row_version: int


def _current_rows(
    session: Session, actor: Actor, scope: str, entity: Entity, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Any, bool]]:
    """id -> (row, still in this scope). The scope test is the triggers' own function."""
    model = SYNCED[entity].model
    table = model.__table__
    in_scope = literal(scope) == func.any(
        func.ff_row_scopes(str(entity), table.c.org_id, func.to_jsonb(literal_column(table.name)))
    )
    if entity is Entity.notification:
        # In the recipient's personal scope, and theirs alone: a manager who pulls a rep's
        # scope (their visits, their tasks) does not get the rep's messages.
        in_scope = and_(in_scope, table.c.recipient_id == actor.user_id)
    rows = session.execute(select(model, in_scope).where(model.org_id == actor.org_id, model.id.in_(ids)))
    return {obj.id: (obj, bool(inside)) for obj, inside in rows}


def pull_page(
    session: Session,
    actor: Actor,
    *,
    secret: str,
    scope: str,
    cursor: str | None,
    limit: int,
    client_id: uuid.UUID | None,
    schema_version: int = 1,
) -> PullPage:
    check_scope(session, actor, scope)
    after = decode_sync_cursor(secret, scope, cursor)
    raw = session.execute(
        _CHANGES,
        {
            "org_id": actor.org_id,
            "scope": scope,
            "xid": str(after.xid),
            "pos": after.pos,
            "limit": limit + 1,
            # A client built for an older schema is not sent the entities it does not know.
            "entities": [str(entity) for entity in entities_for_schema(schema_version)],
        },
    ).all()
    has_more = len(raw) > limit
    changes = [
        _Change(LogPosition(r.xid, r.pos), Entity(r.entity), r.entity_id, ChangeKind(r.kind), r.row_version)
        for r in raw[:limit]
    ]
    # The last change per entity decides what the client is told.
    latest: dict[tuple[Entity, uuid.UUID], _Change] = {}
    for change in changes:
        latest.pop((change.entity, change.entity_id), None)
        latest[(change.entity, change.entity_id)] = change
    wanted: dict[Entity, list[uuid.UUID]] = {}
    for (entity, entity_id), change in latest.items():
        if change.kind in (ChangeKind.upsert, ChangeKind.grant, ChangeKind.delete):
            wanted.setdefault(entity, []).append(entity_id)
    current: dict[tuple[Entity, uuid.UUID], tuple[Any, bool]] = {}
    for entity, ids in wanted.items():
        for entity_id, found in _current_rows(session, actor, scope, entity, ids).items():
            current[(entity, entity_id)] = found

    serialized = _serialized_rows(session, current)
    records: list[tuple[int, PulledRecord]] = []
    size = 0
    position = after
    for change in changes:
        key = (change.entity, change.entity_id)
        if latest.get(key) is change:
            record = _record_for(change, current.get(key), serialized.get(key))
            if record is not None:
                record_bytes = len(canonical_json(record.data)) + 100 if record.data else 100
                if records and size + record_bytes > PULL_PAGE_BYTES:
                    has_more = True
                    break
                size += record_bytes
                records.append((ENTITY_ORDER[change.entity], record))
        position = change.position
    # Parents before children within the page.
    records.sort(key=lambda item: item[0])
    last_mid = None
    if client_id is not None:
        last_mid = session.scalar(
            select(SyncClient.last_mid).where(SyncClient.client_id == client_id, SyncClient.user_id == actor.user_id)
        )
    now_ms = time.time_ns() // 1_000_000
    return PullPage(
        scope=scope,
        records=[record for _, record in records],
        cursor=encode_sync_cursor(secret, scope, position),
        has_more=has_more,
        server_time_ms=now_ms,
        hlc=hlc_pack(now_ms),
        last_mid=last_mid,
    )


def _record_for(change: _Change, found: tuple[Any, bool] | None, row: dict[str, Any] | None) -> PulledRecord | None:
    if change.kind is ChangeKind.revoke:
        return PulledRecord(change.entity, str(change.entity_id), ChangeKind.revoke, change.row_version)
    if found is None:
        return None  # cannot happen for soft-deleted rows; defensive for purged ones
    obj, in_scope = found
    if not in_scope:
        # It has left this scope since: the revoke that says so comes later in the log.
        return None
    if obj.deleted_at is not None:
        return PulledRecord(change.entity, str(obj.id), ChangeKind.delete, obj.row_version)
    spec = SYNCED[change.entity]
    # A live row is an upsert even when the change was its delete (restored since).
    kind = ChangeKind.grant if change.kind is ChangeKind.grant else ChangeKind.upsert
    assert row is not None  # serialized with the page's live rows
    return PulledRecord(change.entity, str(obj.id), kind, obj.row_version, _json_row(change.entity, spec, row))
