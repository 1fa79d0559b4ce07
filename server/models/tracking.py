"""GPS tracking: devices, positions (high volume), last known positions, workdays.

Positions are append-only and many (a rep reporting every 30 s is ~1,000 a
day): a plain table with a BRIN index on arrival time (retention deletes walk
it cheaply, since rows arrive in time order), a btree on (user, device time)
for tracks, and a unique (device, device time) that makes ingest idempotent.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk, utcnow_column


class Device(TenantMixin, Base):
    """A phone or tracker that reports positions for one user."""

    __tablename__ = "devices"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        # Tracker apps name themselves by identifier alone (no organisation in the
        # request), so live identifiers are unique across the whole installation; a
        # removed device's identifier may be registered again.
        return (
            tenant_fk("user_id", "users"),
            Index("uq_devices_identifier_live", "identifier", unique=True, postgresql_where=text("deleted_at IS NULL")),
        )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    identifier: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    # keyed hash (HMAC-SHA256) of an optional per-device token (then tracker reports must carry it)
    token_hash: Mapped[str | None] = mapped_column(String(255))
    # The latest telemetry, from any report (heartbeats without coordinates too).
    last_report_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    battery_pct: Mapped[float | None] = mapped_column(Float)
    charging: Mapped[bool | None] = mapped_column(Boolean)


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("device_id", "device_time"),
        Index("ix_positions_user_id_device_time", "user_id", "device_time"),
        Index("ix_positions_received_at", "received_at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = utcnow_column()
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    charging: Mapped[bool | None] = mapped_column(Boolean)
    activity: Mapped[str | None] = mapped_column(String(32))
    # False: the device flagged the fix as not valid. Kept, but never a last position, a
    # track point or evidence of a visit.
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))


class LastPosition(Base):
    """Each user's latest fix (by device time), for the live map."""

    __tablename__ = "last_positions"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False, index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)


class Workday(Base):
    """A day the rep started (and maybe ended): managers see positions only inside one."""

    __tablename__ = "workdays"
    __table_args__ = (UniqueConstraint("user_id", "day"), tenant_fk("user_id", "users"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
