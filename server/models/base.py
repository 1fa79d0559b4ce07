"""Declarative base, naming convention and the columns every tenant table carries.

Every tenant row has `org_id` leading its unique constraints, a client-suppliable
UUID `id` (entities are created offline), timestamps, a `row_version` bumped on
every update (see `server.models.versioning`) and a soft-delete `deleted_at`.
Foreign keys between tenant tables are composite `(org_id, x_id)`, so the
database itself refuses a reference into another organisation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    MetaData,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow_column(*, onupdate: bool = False) -> Mapped[datetime]:
    if onupdate:
        return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now())
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class TenantMixin:
    """Columns and constraints shared by every organisation-owned table."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column(onupdate=True)
    row_version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1, server_default="1")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[object, ...]:
        # (org_id, id) is the target of the composite foreign keys.
        return (UniqueConstraint("org_id", "id"), *cls.__extra_table_args__())

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return ()


def tenant_fk(column: str, target_table: str) -> ForeignKeyConstraint:
    """A composite FK `(org_id, column) -> target_table(org_id, id)`."""
    return ForeignKeyConstraint(["org_id", column], [f"{target_table}.org_id", f"{target_table}.id"])


class FieldClocksMixin:
    """Per-field clocks for the sync merge: `{field: {"v", "h", "c"}}` (see shared.sync.merge).

    The sync push writes the clocks of the fields it applies; a trigger stamps
    every other changed field with the server's clock, so an edit made on the
    web takes part in the merge like any other. The ORM reads the column back
    after each write (the trigger may have changed it).
    """

    field_clocks: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}", server_onupdate=FetchedValue()
    )
    __mapper_args__ = {"eager_defaults": True}
