"""Offline sync bookkeeping: the change log, clients, results, conflicts, rejections.

The change log (`sync_changes`) is written by database triggers in the same
transaction as every entity write (see migration 0004): no code path, ORM,
bulk SQL or job, can change a synced row without a change row. Each row
records the writing transaction's id (xid8); a pull only returns rows below
the snapshot's xmin, so a late commit delays a pull and is never skipped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from server.models.base import Base, tenant_fk, utcnow_column


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (never wraps)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


ischema_names["xid8"] = Xid8  # so reflection (and the drift test) knows the type


class SyncChange(Base):
    __tablename__ = "sync_changes"
    __table_args__ = (
        # Pull: one scope's rows in (xid, pos) order after a cursor.
        Index("ix_sync_changes_org_id_scope_xid_pos", "org_id", "scope", "xid", "pos"),
        # Compaction: the rows of one entity in one scope.
        Index("ix_sync_changes_org_id_scope_entity_entity_id", "org_id", "scope", "entity", "entity_id"),
    )

    pos: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    xid: Mapped[Any] = mapped_column(Xid8, nullable=False, server_default=text("pg_current_xact_id()"))
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    row_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()


class SyncClient(Base):
    """One app install: bound to a user on its first push; `last_mid` is its high-water mark."""

    __tablename__ = "sync_clients"
    __table_args__ = (tenant_fk("user_id", "users"),)

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    last_mid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0", default=0)
    protocol: Mapped[int] = mapped_column(Integer, nullable=False)
    app_version: Mapped[str] = mapped_column(String(40), nullable=False, server_default="")
    created_at: Mapped[datetime] = utcnow_column()
    last_seen_at: Mapped[datetime] = utcnow_column()


class SyncMutationResult(Base):
    """The answer given to (client, mid): a duplicate push gets the same answer."""

    __tablename__ = "sync_mutation_results"

    client_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sync_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    mid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()


class ReviewMixin:
    """Rows a manager reviews: who pushed what, and the whole mutation as sent."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    mid: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    mutation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resolution: Mapped[str | None] = mapped_column(Text)


class SyncConflict(ReviewMixin, Base):
    """A value that lost a merge (or an edit that arrived after a delete), kept whole."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        Index("ix_sync_conflicts_org_id_created_at", "org_id", "created_at"),
        Index("ix_sync_conflicts_org_id_entity_id", "org_id", "entity_id"),
    )

    field: Mapped[str | None] = mapped_column(String(64))
    # lost_to_later_edit | edited_after_delete | stale_generation | lattice
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    kept_value: Mapped[Any | None] = mapped_column(JSONB)
    lost_value: Mapped[Any | None] = mapped_column(JSONB)
    kept_clock: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    lost_clock: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class SyncRejection(ReviewMixin, Base):
    """A mutation that was not applied: rejected (permanent error) or quarantined (out of scope)."""

    __tablename__ = "sync_rejections"
    __table_args__ = (Index("ix_sync_rejections_org_id_created_at", "org_id", "created_at"),)

    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
