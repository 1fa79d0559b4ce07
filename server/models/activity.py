"""What happens at and around customers: visits, tasks, opportunities, orders, notes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    Float,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, FieldClocksMixin, TenantMixin, tenant_fk
from server.models.enums import db_enum
from shared.enums import (
    NoteKind,
    OpportunityStage,
    TaskKind,
    TaskPriority,
    TaskStatus,
    VerificationStatus,
    VisitStatus,
)


class Visit(FieldClocksMixin, TenantMixin, Base):
    __tablename__ = "visits"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("customer_id", "customers"),
            tenant_fk("rep_id", "users"),
            Index("ix_visits_org_id_rep_id_planned_start", "org_id", "rep_id", "planned_start"),
        )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[VisitStatus] = mapped_column(
        db_enum(VisitStatus, "visit_status"), nullable=False, server_default="planned"
    )
    check_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_in_location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_out_location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    check_out_accuracy_m: Mapped[float | None] = mapped_column(Float)
    verification_status: Mapped[VerificationStatus] = mapped_column(
        db_enum(VerificationStatus, "verification_status"), nullable=False, server_default="pending"
    )
    verification_distance_m: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    # Agreed with the customer: the planner keeps it at its time and never cancels it.
    fixed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class Task(FieldClocksMixin, TenantMixin, Base):
    __tablename__ = "tasks"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("customer_id", "customers"),
            tenant_fk("assignee_id", "users"),
            Index("ix_tasks_org_id_assignee_id_status", "org_id", "assignee_id", "status"),
        )

    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    assignee_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[TaskKind] = mapped_column(db_enum(TaskKind, "task_kind"), nullable=False, server_default="other")
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[TaskPriority] = mapped_column(
        db_enum(TaskPriority, "task_priority"), nullable=False, server_default="normal"
    )
    status: Mapped[TaskStatus] = mapped_column(
        db_enum(TaskStatus, "task_status"), nullable=False, server_default="open"
    )
    # Bumped when a manager moves the task back (reopens it): a rep's status
    # edit for an older generation is stale. The database bumps it on every
    # write path (migration 0004).
    generation: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="0", default=0, server_onupdate=FetchedValue()
    )


class Opportunity(FieldClocksMixin, TenantMixin, Base):
    __tablename__ = "opportunities"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("customer_id", "customers"),
            CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    stage: Mapped[OpportunityStage] = mapped_column(
        db_enum(OpportunityStage, "opportunity_stage"), nullable=False, server_default="lead"
    )
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    probability: Mapped[int | None] = mapped_column(Integer)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    # Why it was won or lost (free text; reports group by it).
    close_reason: Mapped[str | None] = mapped_column(String(300))


class Order(TenantMixin, Base):
    """Purchase history: the basis of customer value (tiers)."""

    __tablename__ = "orders"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("customer_id", "customers"),
            Index("ix_orders_org_id_customer_id_order_date", "org_id", "customer_id", "order_date"),
        )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    order_date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False)
    margin: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")


class Note(TenantMixin, Base):
    """An interaction: call, email, visit report or free note."""

    __tablename__ = "notes"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (tenant_fk("customer_id", "customers"), tenant_fk("author_id", "users"))

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[NoteKind] = mapped_column(db_enum(NoteKind, "note_kind"), nullable=False, server_default="note")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Photo(TenantMixin, Base):
    """Photo metadata (append-only); the bytes are a content-addressed file."""

    __tablename__ = "photos"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("customer_id", "customers"),
            tenant_fk("visit_id", "visits"),
            tenant_fk("author_id", "users"),
            CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    caption: Mapped[str | None] = mapped_column(String(500))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
