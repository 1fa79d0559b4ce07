from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow_column


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    # ISO 3166 alpha-2, used to normalise phone numbers typed without a country code.
    default_country: Mapped[str] = mapped_column(String(2), nullable=False, server_default="US")
    # IANA zone: working hours and workdays are local times.
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, server_default="UTC")
    # Check-in verification radius per tier, metres ({"A": 100}); 150 for a tier not named.
    verification_radius_m: Mapped[dict[str, float]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column(onupdate=True)
