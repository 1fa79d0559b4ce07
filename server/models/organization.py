from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, String, Uuid
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
    # Planning per tier ({"A": 14, ...}): days between visits and minutes on site; a
    # customer's own value wins. Empty: the defaults of `server.organizations.settings`.
    visit_frequency_days: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, server_default="{}")
    service_minutes: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # {"window": ["12:00", "14:00"], "minutes": 45}; empty: that default.
    lunch: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # Map tiles for the dashboard and the app: a {z}/{x}/{y} URL template and its attribution.
    # An empty URL means vector drawings only (no tile server is called).
    map_tile_url: Mapped[str] = mapped_column(
        String(500), nullable=False, server_default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    )
    map_attribution: Mapped[str] = mapped_column(
        String(300), nullable=False, server_default="© OpenStreetMap contributors"
    )
    # CRM: default win probability per opportunity stage ({"proposal": 50}); empty: the defaults.
    stage_probabilities: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # A customer is at risk of churning when the days since their last order exceed their
    # usual interval times this margin.
    churn_margin: Mapped[float] = mapped_column(Float, nullable=False, server_default="1.5")
    # The planner brings an at-risk customer's next visit forward: their frequency times this
    # (1 leaves it alone).
    at_risk_visit_factor: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.5")
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column(onupdate=True)
