"""The sync wire format (protocol v1): what a client pushes and what it pulls.

Plain stdlib dataclasses: FastAPI validates them on the server, and the app
builds and reads them on Android without any third-party package. Field
names are the JSON keys; see ../shared/design/SYNC.md for the protocol.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ENTITY_SINCE_SCHEMA",
    "MAX_CLOCK_AHEAD_MS",
    "MAX_PUSH_BYTES",
    "MAX_PUSH_MUTATIONS",
    "MIN_PROTOCOL",
    "ORGANISATION_SCOPE",
    "PROTOCOL_VERSION",
    "PULL_PAGE_BYTES",
    "PULL_PAGE_DEFAULT",
    "PULL_PAGE_MAX",
    "SCHEMA_VERSION",
    "ChangeKind",
    "Entity",
    "Mutation",
    "MutationResult",
    "MutationType",
    "Outcome",
    "PullPage",
    "PulledRecord",
    "PushRequest",
    "PushResponse",
    "ScopeList",
    "canonical_json",
    "entities_for_schema",
    "payload_hash",
    "personal_scope",
    "territory_scope",
]

PROTOCOL_VERSION = 1
# Below this the server answers 426 and the client keeps its data and outbox.
MIN_PROTOCOL = 1
# The entity schema the client was built for (expand/contract on the server).
# 2: absences (a rep's days off, the organisation's holidays). 3: orders (read-only on phones).
# 4: notifications (a user's in-app messages; the phone marks them read).
SCHEMA_VERSION = 4
MAX_PUSH_MUTATIONS = 200
MAX_PUSH_BYTES = 1_000_000
PULL_PAGE_DEFAULT = 500
PULL_PAGE_MAX = 2_000
PULL_PAGE_BYTES = 1_000_000
# A client HLC further ahead of the server's clock than this is clamped.
MAX_CLOCK_AHEAD_MS = 120_000


class Entity(StrEnum):
    """Synced entity types, parents before children (pull pages keep this order)."""

    customer = "customer"
    contact = "contact"
    opportunity = "opportunity"
    note = "note"
    photo = "photo"
    visit = "visit"
    task = "task"
    plan = "plan"
    absence = "absence"
    order = "order"
    notification = "notification"


ENTITY_ORDER: dict[Entity, int] = {entity: rank for rank, entity in enumerate(Entity)}
# The schema version that brought each entity: a client built for an older schema is
# never sent it (it would not know where to keep it). Its store, once upgraded, pulls
# again from the start, so nothing skipped before is missed.
ENTITY_SINCE_SCHEMA: dict[Entity, int] = {entity: 1 for entity in Entity} | {
    Entity.absence: 2,
    Entity.order: 3,
    Entity.notification: 4,
}
# Everyone in an organisation pulls it: the organisation's holidays.
ORGANISATION_SCOPE = "organisation"


def entities_for_schema(schema_version: int) -> list[Entity]:
    return [entity for entity, since in ENTITY_SINCE_SCHEMA.items() if since <= schema_version]


class MutationType(StrEnum):
    insert = "insert"
    update = "update"
    delete = "delete"
    # Undo a delete: managers only, never implied by an edit.
    restore = "restore"


class Outcome(StrEnum):
    applied = "applied"
    # Applied, but some fields lost to a later concurrent edit (logged on the server).
    applied_with_conflicts = "applied_with_conflicts"
    # Fields the caller may not change were dropped; the rest applied.
    applied_partial = "applied_partial"
    # The entity is deleted: the edit is kept for review, not applied.
    applied_to_tombstone = "applied_to_tombstone"
    # The same (client_id, mid) was pushed before: this is its stored result.
    duplicate = "duplicate"
    # An insert of an id that exists with the same content (append-only records).
    duplicate_entity = "duplicate_entity"
    # A permanent error (validation, forbidden, id collision): stored, queue moves on.
    rejected = "rejected"
    # Out of the caller's scope (or its parent is gone): stored for a manager.
    quarantined = "quarantined"


ACCEPTED_OUTCOMES = frozenset(
    {
        Outcome.applied,
        Outcome.applied_with_conflicts,
        Outcome.applied_partial,
        Outcome.duplicate_entity,
    }
)


class ChangeKind(StrEnum):
    upsert = "upsert"
    delete = "delete"
    # The entity left this scope (moved territory, reassigned): drop it locally.
    revoke = "revoke"
    # The entity entered this scope: the current row follows.
    grant = "grant"


def territory_scope(territory_id: str) -> str:
    return f"territory:{territory_id}"


def personal_scope(user_id: str) -> str:
    return f"user:{user_id}"


def canonical_json(value: Any) -> str:
    """The one JSON spelling both sides hash: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_hash(
    mutation_type: str, entity: str, entity_id: str, base_row_version: int | None, data: dict[str, Any]
) -> str:
    """What makes two pushes of one mid "the same": the intent, not the HLC."""
    body = canonical_json([mutation_type, entity, entity_id, base_row_version, data])
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Mutation:
    """One intent. `type` is a MutationType and `entity` an Entity, sent as
    plain strings: a value this server does not know (a newer app) rejects
    that one mutation instead of the whole batch."""

    mid: int
    hlc: int
    type: str
    entity: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict)
    # The row_version the client had seen when it made the edit (None: new entity).
    base_row_version: int | None = None
    payload_hash: str = ""

    def computed_hash(self) -> str:
        return payload_hash(str(self.type), str(self.entity), self.entity_id, self.base_row_version, self.data)


@dataclass
class PushRequest:
    protocol: int
    schema_version: int
    app_version: str
    client_id: str
    mutations: list[Mutation]


@dataclass
class MutationResult:
    mid: int
    outcome: Outcome
    entity: str = ""
    entity_id: str = ""
    row_version: int | None = None
    code: str | None = None
    detail: str | None = None
    # Fields that were dropped (applied_partial) or lost (applied_with_conflicts).
    fields: list[str] = field(default_factory=list)
    clock_skew_clamped: bool = False
    # On a duplicate: the outcome the mutation had when it was first pushed.
    original_outcome: str | None = None


@dataclass
class PushResponse:
    client_id: str
    last_mid: int
    results: list[MutationResult]
    server_time_ms: int
    hlc: int


@dataclass
class PulledRecord:
    entity: Entity
    id: str
    kind: ChangeKind
    row_version: int
    # The current row (upsert/grant); None for delete and revoke.
    data: dict[str, Any] | None = None


@dataclass
class PullPage:
    scope: str
    records: list[PulledRecord]
    cursor: str
    has_more: bool
    server_time_ms: int
    hlc: int
    # The server's last_mid for the pulling client (None when it never pushed).
    last_mid: int | None = None


@dataclass
class ScopeList:
    """The scopes a caller may pull now; a client adds and drops scopes to match."""

    scopes: list[str]
    server_time_ms: int
