"""The phone's SQLite store: synced entities, the outbox, sync state and cursors.

Rules it keeps (SYNC.md):
- A local write and its outbox entry commit in one transaction; a mutation's
  mid is assigned then and never changes (unless the server forces a new
  client_id, when the pending ones are renumbered from 1 under it).
- A pulled page, its cursor and the server's `last_mid` commit in one
  transaction; rows only move to a higher row_version (monotonic reads, and a
  delete is never undone by an older row); pending mutations are then
  re-applied over the pulled rows, so the screen shows the rep's own edits.
- Each row remembers the scopes it came from; a revoke removes one, and the
  row goes when none is left.

Each entity row keeps the server's version (`server`) and the local view
(`local` = server + pending mutations) as JSON, plus a few columns extracted
from the local view for the screens' queries.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.sync.merge import tags_present
from shared.sync.protocol import (
    ENTITY_SINCE_SCHEMA,
    ChangeKind,
    Entity,
    Mutation,
    MutationResult,
    MutationType,
    payload_hash,
)

__all__ = ["ENTITY_TABLES", "SCHEMA_STEPS", "LocalStore", "OutboxEntry", "StorageFull"]


class StorageFull(OSError):
    """The phone's storage (or the store's size limit) is full: the write that met it was
    rolled back whole, and everything written before is intact."""


# entity -> (table, extracted columns: name -> how to read it from a row)
Extract = Callable[[dict[str, Any]], Any]
ENTITY_TABLES: dict[Entity, tuple[str, dict[str, Extract]]] = {
    Entity.customer: (
        "customers",
        {
            "name": lambda r: r.get("name"),
            "lat": lambda r: (r.get("location") or {}).get("lat"),
            "lon": lambda r: (r.get("location") or {}).get("lon"),
            "territory_id": lambda r: r.get("territory_id"),
        },
    ),
    Entity.contact: ("contacts", {"customer_id": lambda r: r.get("customer_id")}),
    Entity.opportunity: ("opportunities", {"customer_id": lambda r: r.get("customer_id")}),
    Entity.note: ("notes", {"customer_id": lambda r: r.get("customer_id"), "sort_key": lambda r: r.get("occurred_at")}),
    Entity.photo: ("photos", {"customer_id": lambda r: r.get("customer_id"), "sort_key": lambda r: r.get("taken_at")}),
    Entity.visit: (
        "visits",
        {
            "customer_id": lambda r: r.get("customer_id"),
            "rep_id": lambda r: r.get("rep_id"),
            "status": lambda r: r.get("status"),
            "sort_key": lambda r: r.get("planned_start") or r.get("check_in_at"),
        },
    ),
    Entity.task: (
        "tasks",
        {
            "customer_id": lambda r: r.get("customer_id"),
            "status": lambda r: r.get("status"),
            "sort_key": lambda r: r.get("due_at"),
        },
    ),
    Entity.plan: ("plans", {"rep_id": lambda r: r.get("rep_id"), "sort_key": lambda r: r.get("plan_date")}),
    # Schema 2. user_id is null for the organisation's holidays.
    Entity.absence: (
        "absences",
        {
            "user_id": lambda r: r.get("user_id"),
            "ends_on": lambda r: r.get("ends_on"),
            "sort_key": lambda r: r.get("starts_on"),
        },
    ),
    # Schema 3. Read-only on the phone.
    Entity.order: (
        "orders",
        {"customer_id": lambda r: r.get("customer_id"), "sort_key": lambda r: r.get("order_date")},
    ),
    # Schema 4. The user's in-app messages; the phone only marks them read.
    Entity.notification: (
        "notifications",
        {"read_at": lambda r: r.get("read_at"), "sort_key": lambda r: r.get("created_at")},
    ),
}


def _entity_table_sql(table: str, columns: Iterable[str]) -> str:
    extra = "".join(f", {name} {'REAL' if name in ('lat', 'lon') else 'TEXT'}" for name in columns)
    return (
        f"CREATE TABLE {table} (id TEXT PRIMARY KEY, row_version INTEGER NOT NULL DEFAULT 0, "
        f"server TEXT, local TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0{extra})"
    )


_BOOKKEEPING_TABLES = (
    "CREATE TABLE memberships (entity TEXT NOT NULL, id TEXT NOT NULL, scope TEXT NOT NULL, "
    "PRIMARY KEY (entity, id, scope))",
    "CREATE INDEX ix_memberships_scope ON memberships (scope)",
    "CREATE TABLE outbox (mid INTEGER PRIMARY KEY, hlc INTEGER NOT NULL, type TEXT NOT NULL, "
    "entity TEXT NOT NULL, entity_id TEXT NOT NULL, base_row_version INTEGER, "
    "data TEXT NOT NULL, payload_hash TEXT NOT NULL, created_at_ms INTEGER NOT NULL)",
    "CREATE INDEX ix_outbox_entity ON outbox (entity, entity_id)",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE cursors (scope TEXT PRIMARY KEY, cursor TEXT)",
    "CREATE TABLE results (client_id TEXT NOT NULL, mid INTEGER NOT NULL, outcome TEXT NOT NULL, "
    "entity TEXT, entity_id TEXT, code TEXT, detail TEXT, fields TEXT, PRIMARY KEY (client_id, mid))",
    "CREATE TABLE attachments (sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, "
    "content_type TEXT NOT NULL, uploaded INTEGER NOT NULL DEFAULT 0)",
)


def _create_entity_tables(db: sqlite3.Connection, schema_version: int) -> None:
    """The tables of the entities that schema `schema_version` brought."""
    for entity, (table, columns) in ENTITY_TABLES.items():
        if ENTITY_SINCE_SCHEMA[entity] != schema_version:
            continue
        db.execute(_entity_table_sql(table, columns))
        for name in columns:
            db.execute(f"CREATE INDEX ix_{table}_{name} ON {table} ({name})")


def _step_1(db: sqlite3.Connection) -> None:
    _create_entity_tables(db, 1)
    # One statement at a time: executescript() would commit the migration's transaction.
    for statement in _BOOKKEEPING_TABLES:
        db.execute(statement)


def _step_2(db: sqlite3.Connection) -> None:
    """Absences. The server never sent them to a schema-1 store, and the cursors have moved
    past them: pull every scope again from the start (rows already here are re-applied
    like any pulled row; local edits waiting in the outbox are kept)."""
    _create_entity_tables(db, 2)
    db.execute("UPDATE cursors SET cursor = NULL")


def _step_3(db: sqlite3.Connection) -> None:
    """The GPS buffer and the working day's start/end taps waiting to be sent (mobile.core.tracking)."""
    db.execute(
        "CREATE TABLE positions (seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, lat REAL NOT NULL, "
        "lon REAL NOT NULL, accuracy REAL, speed REAL, heading REAL, altitude REAL, battery REAL, charging INTEGER)"
    )
    db.execute(
        "CREATE TABLE workday_marks (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, at TEXT NOT NULL)"
    )


def _step_4(db: sqlite3.Connection) -> None:
    """What each answered mutation sent, so a conflict shows the value that lost."""
    db.execute("ALTER TABLE results ADD COLUMN sent TEXT")


def _step_5(db: sqlite3.Connection) -> None:
    """Orders (sync schema 3): their table, and every scope pulled again from the start."""
    _create_entity_tables(db, 3)
    db.execute("UPDATE cursors SET cursor = NULL")


def _step_6(db: sqlite3.Connection) -> None:
    """Notifications (sync schema 4): their table, and every scope pulled again from the start."""
    _create_entity_tables(db, 4)
    db.execute("UPDATE cursors SET cursor = NULL")


# One function per schema version; a store at version k runs steps k+1.. in order.
SCHEMA_STEPS: list[Callable[[sqlite3.Connection], None]] = [_step_1, _step_2, _step_3, _step_4, _step_5, _step_6]


@dataclass(frozen=True)
class OutboxEntry:
    mid: int
    hlc: int
    type: str
    entity: str
    entity_id: str
    base_row_version: int | None
    data: dict[str, Any]
    payload_hash: str

    def mutation(self) -> Mutation:
        return Mutation(
            mid=self.mid,
            hlc=self.hlc,
            type=self.type,
            entity=self.entity,
            entity_id=self.entity_id,
            data=self.data,
            base_row_version=self.base_row_version,
            payload_hash=self.payload_hash,
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _is_full(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(error)


class LocalStore:
    """One SQLite file per install. Thread-safe: one connection behind a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._depth = 0
        self.migrate()

    def close(self) -> None:
        self._db.close()

    # ---- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        with self.transaction():
            version = self.schema_version
            for number, step in enumerate(SCHEMA_STEPS[version:], start=version + 1):
                step(self._db)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Nested calls join the outer transaction; everything commits at the outermost."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._db
                if outer:
                    self._db.execute("COMMIT")  # in WAL mode a full disk can show here first
            except BaseException as error:
                # SQLite has already rolled back on some errors (a full disk among them).
                if outer and self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(error, sqlite3.OperationalError) and _is_full(error):
                    raise StorageFull(28, "the phone's storage is full") from error
                raise
            finally:
                self._depth -= 1

    # ---- state ----------------------------------------------------------------------------

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                (key, value, value),
            )

    @property
    def client_id(self) -> str:
        with self.transaction():
            value = self.get_state("client_id")
            if value is None:
                value = str(uuid.uuid4())
                self.set_state("client_id", value)
            return value

    @property
    def user_id(self) -> str | None:
        return self.get_state("user_id")

    # ---- reading --------------------------------------------------------------------------

    def get(self, entity: Entity, entity_id: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
        table = ENTITY_TABLES[entity][0]
        row = self._db.execute(f"SELECT local, deleted FROM {table} WHERE id = ?", (entity_id,)).fetchone()
        if row is None or (row["deleted"] and not include_deleted):
            return None
        return dict(json.loads(row["local"]))

    def row_version(self, entity: Entity, entity_id: str) -> int | None:
        table = ENTITY_TABLES[entity][0]
        row = self._db.execute(f"SELECT row_version FROM {table} WHERE id = ?", (entity_id,)).fetchone()
        return None if row is None else int(row[0])

    def query(
        self,
        entity: Entity,
        where: str = "1=1",
        params: Iterable[Any] = (),
        order: str = "id",
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Live rows of an entity; `where` may use the extracted columns."""
        table = ENTITY_TABLES[entity][0]
        bounded = "" if limit is None else f" LIMIT {int(limit)}"
        rows = self._db.execute(
            f"SELECT local FROM {table} WHERE deleted = 0 AND ({where}) ORDER BY {order}{bounded}", tuple(params)
        )
        return [dict(json.loads(row[0])) for row in rows]

    def server_rows(self, entity: Entity) -> dict[str, tuple[int, dict[str, Any] | None, bool]]:
        """id -> (row_version, server row, deleted): what this device last heard from the server."""
        table = ENTITY_TABLES[entity][0]
        return {
            row["id"]: (
                int(row["row_version"]),
                json.loads(row["server"]) if row["server"] else None,
                bool(row["deleted"]),
            )
            for row in self._db.execute(f"SELECT id, row_version, server, deleted FROM {table}")
        }

    def count(self, entity: Entity) -> int:
        table = ENTITY_TABLES[entity][0]
        return int(self._db.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0])

    # ---- local writes -----------------------------------------------------------------------

    def record_mutation(
        self, mutation_type: MutationType, entity: Entity, entity_id: str, data: dict[str, Any], hlc: int
    ) -> int:
        """Apply an edit to the local view and queue it, in one transaction; returns its mid."""
        with self.transaction() as db:
            table = ENTITY_TABLES[entity][0]
            existing = db.execute(f"SELECT row_version FROM {table} WHERE id = ?", (entity_id,)).fetchone()
            base = None if mutation_type is MutationType.insert or existing is None else int(existing[0])
            mid = int(self.get_state("next_mid", "1") or 1)
            self.set_state("next_mid", str(mid + 1))
            digest = payload_hash(str(mutation_type), str(entity), entity_id, base, data)
            db.execute(
                "INSERT INTO outbox (mid, hlc, type, entity, entity_id, base_row_version, data, payload_hash, "
                "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (mid, hlc, str(mutation_type), str(entity), entity_id, base, _dumps(data), digest, hlc >> 16),
            )
            self._apply_one(entity, entity_id, mutation_type, data)
            return mid

    def _apply_one(self, entity: Entity, entity_id: str, mutation_type: MutationType, data: dict[str, Any]) -> None:
        """The new edit over the current local view (the same as a rebuild, without re-reading the outbox)."""
        table = ENTITY_TABLES[entity][0]
        row = self._db.execute(f"SELECT local, deleted FROM {table} WHERE id = ?", (entity_id,)).fetchone()
        local = json.loads(row["local"]) if row is not None else None
        deleted = bool(row["deleted"]) if row is not None else False
        local, deleted = _apply_locally(mutation_type, entity_id, local, deleted, data)
        self._store_local(entity, entity_id, local, deleted, exists=row is not None)

    def pending(self, limit: int | None = None) -> list[OutboxEntry]:
        sql = "SELECT * FROM outbox ORDER BY mid" + (f" LIMIT {int(limit)}" if limit else "")
        return [
            OutboxEntry(
                mid=row["mid"],
                hlc=row["hlc"],
                type=row["type"],
                entity=row["entity"],
                entity_id=row["entity_id"],
                base_row_version=row["base_row_version"],
                data=json.loads(row["data"]),
                payload_hash=row["payload_hash"],
            )
            for row in self._db.execute(sql)
        ]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def acknowledge(self, client_id: str, last_mid: int, results: Iterable[MutationResult]) -> None:
        """Record the server's answers and drop what it has applied (mid <= last_mid)."""
        with self.transaction() as db:
            for result in results:
                # What the rep sent, kept beside the answer: the review screen shows what was lost.
                sent = db.execute("SELECT data FROM outbox WHERE mid = ?", (result.mid,)).fetchone()
                db.execute(
                    "INSERT OR REPLACE INTO results (client_id, mid, outcome, entity, entity_id, code, detail, fields, "
                    "sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        client_id,
                        result.mid,
                        str(result.original_outcome or result.outcome),
                        result.entity,
                        result.entity_id,
                        result.code,
                        result.detail,
                        _dumps(result.fields),
                        sent[0] if sent else None,
                    ),
                )
            self._drop_acknowledged(last_mid)

    def _drop_acknowledged(self, last_mid: int) -> None:
        # The local view stays as it is: it already shows these edits, and the
        # server's rows that include them arrive with the next pull.
        self._db.execute("DELETE FROM outbox WHERE mid <= ?", (last_mid,))

    def forget_everything(self) -> None:
        """Log out: every record, the outbox, the GPS buffer and the tokens go (another rep may
        sign in on this phone). The install's identity (client id, device) stays."""
        keep = {"client_id", "device_identifier", "server_url"}
        with self.transaction() as db:
            for table, _columns in ENTITY_TABLES.values():
                db.execute(f"DELETE FROM {table}")
            for table in ("memberships", "outbox", "cursors", "results", "positions", "workday_marks"):
                db.execute(f"DELETE FROM {table}")
            db.execute(f"DELETE FROM state WHERE key NOT IN ({', '.join('?' for _ in keep)})", tuple(sorted(keep)))

    def diagnostics(self) -> dict[str, Any]:
        """What support needs to understand a problem, and no secret or customer data."""
        counts = {
            entity.value: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for entity, (table, _columns) in ENTITY_TABLES.items()
        }
        return {
            "schema_version": self.schema_version,
            "records": counts,
            "pending": self.pending_count(),
            "scopes": sorted(self.cursors()),
            "results": [
                {k: row[k] for k in ("mid", "outcome", "entity", "code", "detail")}
                for row in self._db.execute("SELECT * FROM results ORDER BY mid DESC LIMIT 50")
            ],
            "positions_buffered": int(self._db.execute("SELECT count(*) FROM positions").fetchone()[0]),
            "client_id": self.get_state("client_id"),
            "user_id": self.get_state("user_id"),
        }

    def drop_orphans(self) -> int:
        """After a complete sync (outbox empty, every scope pulled): rows the server never
        sent and no pending mutation explains (a rejected insert) are not the server's
        state, so they go. Returns how many."""
        dropped = 0
        with self.transaction() as db:
            for entity, (table, _) in ENTITY_TABLES.items():
                cursor = db.execute(
                    f"DELETE FROM {table} WHERE row_version = 0 AND id NOT IN "
                    "(SELECT entity_id FROM outbox WHERE entity = ?)",
                    (str(entity),),
                )
                dropped += cursor.rowcount
        return dropped

    def renumber_pending(self, first_mid: int, *, new_client_id: str | None = None) -> None:
        """Give the pending mutations consecutive mids from `first_mid` (same order).

        Used with a new client_id (CLIENT_ID_CONFLICT: from 1) or to close a gap
        the server reports (MUTATION_GAP: from its expected_mid).
        """
        with self.transaction() as db:
            entries = self.pending()
            db.execute("DELETE FROM outbox")
            for offset, entry in enumerate(entries):
                db.execute(
                    "INSERT INTO outbox (mid, hlc, type, entity, entity_id, base_row_version, data, payload_hash, "
                    "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        first_mid + offset,
                        entry.hlc,
                        entry.type,
                        entry.entity,
                        entry.entity_id,
                        entry.base_row_version,
                        _dumps(entry.data),
                        entry.payload_hash,
                        entry.hlc >> 16,
                    ),
                )
            self.set_state("next_mid", str(first_mid + len(entries)))
            if new_client_id is not None:
                self.set_state("client_id", new_client_id)

    def results(self, outcomes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM results ORDER BY client_id, mid").fetchall()
        wanted = set(outcomes) if outcomes is not None else None
        return [
            {**dict(row), "fields": json.loads(row["fields"] or "[]"), "sent": json.loads(row["sent"] or "{}")}
            for row in rows
            if wanted is None or row["outcome"] in wanted
        ]

    # ---- pulled pages --------------------------------------------------------------------------

    def cursors(self) -> dict[str, str | None]:
        return {row[0]: row[1] for row in self._db.execute("SELECT scope, cursor FROM cursors")}

    def set_scopes(self, scopes: Iterable[str]) -> tuple[list[str], list[str]]:
        """Match the server's scope list: new scopes start from the beginning; rows that
        belonged only to a dropped scope are removed. Returns (added, removed)."""
        wanted = set(scopes)
        with self.transaction() as db:
            have = set(self.cursors())
            added, removed = sorted(wanted - have), sorted(have - wanted)
            for scope in added:
                db.execute("INSERT INTO cursors (scope, cursor) VALUES (?, NULL)", (scope,))
            for scope in removed:
                members = db.execute("SELECT entity, id FROM memberships WHERE scope = ?", (scope,)).fetchall()
                db.execute("DELETE FROM memberships WHERE scope = ?", (scope,))
                db.execute("DELETE FROM cursors WHERE scope = ?", (scope,))
                for entity, entity_id in members:
                    self._forget_if_unscoped(Entity(entity), entity_id)
        return added, removed

    def apply_page(self, page: dict[str, Any], client_id: str) -> int:
        """One pulled page, its cursor and last_mid, in one transaction. Returns records applied."""
        scope = page["scope"]
        with self.transaction() as db:
            touched: set[tuple[Entity, str]] = set()
            for record in page["records"]:
                entity, entity_id, kind = Entity(record["entity"]), record["id"], ChangeKind(record["kind"])
                table = ENTITY_TABLES[entity][0]
                if kind is ChangeKind.revoke:
                    db.execute(
                        "DELETE FROM memberships WHERE entity = ? AND id = ? AND scope = ?",
                        (str(entity), entity_id, scope),
                    )
                    self._forget_if_unscoped(entity, entity_id)
                    continue
                db.execute(
                    "INSERT OR IGNORE INTO memberships (entity, id, scope) VALUES (?, ?, ?)",
                    (str(entity), entity_id, scope),
                )
                current = db.execute(f"SELECT row_version FROM {table} WHERE id = ?", (entity_id,)).fetchone()
                version = int(record["row_version"])
                if current is not None and int(current[0]) >= version:
                    continue  # an older or repeated delivery: rows never move back
                deleted = kind is ChangeKind.delete
                server = None if deleted else record["data"]
                self._write_row(entity, entity_id, version, server, deleted)
                touched.add((entity, entity_id))
            db.execute("UPDATE cursors SET cursor = ? WHERE scope = ?", (page["cursor"], scope))
            last_mid = page.get("last_mid")
            if last_mid is not None and client_id == self.client_id:
                self._drop_acknowledged(int(last_mid))
            for entity, entity_id in touched:
                self._rebuild_local(entity, entity_id)
            return len(page["records"])

    def _forget_if_unscoped(self, entity: Entity, entity_id: str) -> None:
        left = self._db.execute(
            "SELECT 1 FROM memberships WHERE entity = ? AND id = ? LIMIT 1", (str(entity), entity_id)
        ).fetchone()
        if left is None:
            self._db.execute(f"DELETE FROM {ENTITY_TABLES[entity][0]} WHERE id = ?", (entity_id,))

    def _write_row(
        self, entity: Entity, entity_id: str, version: int, server: dict[str, Any] | None, deleted: bool
    ) -> None:
        table = ENTITY_TABLES[entity][0]
        local = server if server is not None else {"id": entity_id}
        self._db.execute(
            f"INSERT INTO {table} (id, row_version, server, local, deleted) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET row_version = excluded.row_version, server = excluded.server, "
            "local = excluded.local, deleted = excluded.deleted",
            (entity_id, version, _dumps(server) if server is not None else None, _dumps(local), int(deleted)),
        )

    def _rebuild_local(self, entity: Entity, entity_id: str) -> None:
        """local = the server's row with every pending mutation for it applied in mid order."""
        table = ENTITY_TABLES[entity][0]
        row = self._db.execute(
            f"SELECT server, deleted, row_version FROM {table} WHERE id = ?", (entity_id,)
        ).fetchone()
        server = json.loads(row["server"]) if row is not None and row["server"] else None
        deleted = bool(row["deleted"]) if row is not None else False
        local: dict[str, Any] | None = dict(server) if server is not None else None
        pending = self._db.execute(
            "SELECT type, data FROM outbox WHERE entity = ? AND entity_id = ? ORDER BY mid", (str(entity), entity_id)
        ).fetchall()
        for mutation_type, data_text in pending:
            local, deleted = _apply_locally(
                MutationType(mutation_type), entity_id, local, deleted, json.loads(data_text)
            )
        if local is None:
            if row is not None and server is None and not deleted:
                self._db.execute(f"DELETE FROM {table} WHERE id = ?", (entity_id,))
            return
        self._store_local(entity, entity_id, local, deleted, exists=row is not None)

    def _store_local(
        self, entity: Entity, entity_id: str, local: dict[str, Any] | None, deleted: bool, *, exists: bool
    ) -> None:
        table, columns = ENTITY_TABLES[entity]
        if local is None:
            return
        values = {name: extract(local) for name, extract in columns.items()}
        if not exists:
            self._db.execute(
                f"INSERT INTO {table} (id, row_version, server, local, deleted) VALUES (?, 0, NULL, ?, ?)",
                (entity_id, _dumps(local), int(deleted)),
            )
        else:
            self._db.execute(
                f"UPDATE {table} SET local = ?, deleted = ? WHERE id = ?", (_dumps(local), int(deleted), entity_id)
            )
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            self._db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), entity_id))

    # ---- attachments -------------------------------------------------------------------------

    def add_attachment(self, sha256: str, path: str, size: int, content_type: str) -> None:
        with self.transaction() as db:
            db.execute(
                # Only the same file twice is ignored (OR IGNORE would also drop a row with a NULL).
                "INSERT INTO attachments (sha256, path, size, content_type) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                (sha256, path, size, content_type),
            )

    def pending_attachments(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._db.execute("SELECT * FROM attachments WHERE uploaded = 0 ORDER BY rowid")]

    def mark_uploaded(self, sha256: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE attachments SET uploaded = 1 WHERE sha256 = ?", (sha256,))


def _apply_locally(
    mutation_type: MutationType,
    entity_id: str,
    local: dict[str, Any] | None,
    deleted: bool,
    data: dict[str, Any],
) -> tuple[dict[str, Any] | None, bool]:
    """What the rep sees until the server answers: their intent over the last known row."""
    if mutation_type is MutationType.delete:
        return local, True
    if mutation_type is MutationType.restore:
        return local, False
    merged = dict(local or {"id": entity_id})
    for key, value in data.items():
        if key == "tags" and isinstance(value, dict):
            current = set(merged.get("tags") or [])
            clocks = {tag: [1, 0] for tag in current}
            for tag in value.get("add", []):
                clocks[tag] = [2, 0]
            for tag in value.get("remove", []):
                clocks[tag] = [0, 2]
            merged["tags"] = tags_present(clocks)
        else:
            merged[key] = value
    return merged, deleted
