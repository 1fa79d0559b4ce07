from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk


class Territory(TenantMixin, Base):
    __tablename__ = "territories"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (Index("ix_territories_geometry", "geometry", postgresql_using="gist"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # geometry(4326) because territories are about containment, not metres.
    geometry: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    color: Mapped[str] = mapped_column(String(7), nullable=False, server_default="#3388ff")


class TerritoryRep(Base):
    """Which reps work a territory (many to many)."""

    __tablename__ = "territory_reps"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "territory_id", "user_id"),
        tenant_fk("territory_id", "territories"),
        tenant_fk("user_id", "users"),
        Index("ix_territory_reps_org_id_user_id", "org_id", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    territory_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
