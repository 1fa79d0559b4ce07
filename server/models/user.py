from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import Boolean, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk
from server.models.enums import db_enum
from shared.enums import Role


class User(TenantMixin, Base):
    __tablename__ = "users"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (UniqueConstraint("org_id", "email"), tenant_fk("manager_id", "users"))

    email: Mapped[str] = mapped_column(String(254), nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(db_enum(Role, "user_role"), nullable=False)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    home_location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    # {"mon": [["08:00", "17:00"]], ...}; days without an entry are off.
    working_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONB, nullable=False, server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Bumped on password change and deactivation: access tokens carry it, so
    # tokens issued before the change stop working at once.
    auth_generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0", default=0)
