"""A planning run: what a manager asked for, how far the solver got, and what it proposed.

A run is split into parts, one per manager's team, each solved by its own
job so several workers plan in parallel. The run holds the request and, once
every part has finished, the merged result; a part holds its own progress, its
heartbeat (a part whose heartbeat stops is marked failed, never left running)
and the watermark of the input it read (publishing compares it with the data
as it is now).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk
from server.models.enums import db_enum
from shared.enums import PlanningRunStatus


class PlanningRun(TenantMixin, Base):
    __tablename__ = "planning_runs"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("created_by", "users"),
            Index("ix_planning_runs_org_id_created_at", "org_id", "created_at"),
        )

    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[PlanningRunStatus] = mapped_column(
        db_enum(PlanningRunStatus, "planning_run_status"), nullable=False, default=PlanningRunStatus.queued
    )
    # {"rep_ids", "start_date", "days", "time_limit_s", "seed", "publish"} as asked, defaults filled in
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # Set when every part has succeeded: the merged proposal in the contract's shape.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    days: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    unassigned: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {"code", "detail"}
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class PlanningRunPart(TenantMixin, Base):
    """One team's share of a run: solved by one job."""

    __tablename__ = "planning_run_parts"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (tenant_fk("run_id", "planning_runs"), Index("ix_planning_run_parts_run_id", "run_id"))

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    part: Mapped[int] = mapped_column(Integer, nullable=False)  # 0.. in the run
    rep_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    # Organisation-wide runs report customers no rep of the organisation may visit, once (part 0).
    report_no_rep: Mapped[bool] = mapped_column(default=False, nullable=False)
    status: Mapped[PlanningRunStatus] = mapped_column(
        db_enum(PlanningRunStatus, "planning_run_status"), nullable=False, default=PlanningRunStatus.queued
    )
    phase: Mapped[str] = mapped_column(String(32), nullable=False, default="queued")
    percent: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A digest of every row the part read, with its row_version (see planning.watermark).
    watermark: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    days: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    unassigned: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
