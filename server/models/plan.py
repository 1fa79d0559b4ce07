"""A rep's planned day: the optimizer's route, delivered to the phone read-only."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk


class Plan(TenantMixin, Base):
    __tablename__ = "plans"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (tenant_fk("rep_id", "users"), UniqueConstraint("org_id", "rep_id", "plan_date"))

    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    plan_date: Mapped[date] = mapped_column(Date, nullable=False)
    # [{"visit_id", "customer_id", "arrival", "departure"}] in route order; times ISO-8601
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    distance_m: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    duration_s: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
