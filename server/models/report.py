"""The reports' roll-up of visits by rep and day (server/reports/rollup.py).

Closed days (before today in the organisation's time zone) are summed once into
`report_visit_days`; a write to a visit or an order marks the rep-days it touches in
`report_dirty_days` (database triggers, migration 0013: every write path), and the next
report recomputes them. `report_rollups` says which closed days an organisation's roll-up
covers, and in which time zone (a change of zone starts it again).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class ReportVisitDay(Base):
    __tablename__ = "report_visit_days"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    planned: Mapped[int] = mapped_column(Integer, nullable=False)
    planned_done: Mapped[int] = mapped_column(Integer, nullable=False)
    visits_completed: Mapped[int] = mapped_column(Integer, nullable=False)
    unplanned_completed: Mapped[int] = mapped_column(Integer, nullable=False)
    missed: Mapped[int] = mapped_column(Integer, nullable=False)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False)
    late: Mapped[int] = mapped_column(Integer, nullable=False)
    on_site_s: Mapped[float] = mapped_column(Float, nullable=False)
    checked_in: Mapped[int] = mapped_column(Integer, nullable=False)
    verified: Mapped[int] = mapped_column(Integer, nullable=False)
    unverified: Mapped[int] = mapped_column(Integer, nullable=False)
    out_of_range: Mapped[int] = mapped_column(Integer, nullable=False)
    productive: Mapped[int] = mapped_column(Integer, nullable=False)
    # Distinct customers visited that rep-day (a distinct count: it does not add up across days).
    unique_customers: Mapped[int] = mapped_column(Integer, nullable=False)


class ReportDirtyDay(Base):
    __tablename__ = "report_dirty_days"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class ReportRollup(Base):
    __tablename__ = "report_rollups"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)
    last_day: Mapped[date] = mapped_column(Date, nullable=False)
