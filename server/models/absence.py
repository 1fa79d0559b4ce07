"""Days nobody plans a rep's visits on: a rep's days off, the organisation's holidays."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk
from server.models.enums import db_enum
from shared.enums import AbsenceKind


class Absence(TenantMixin, Base):
    __tablename__ = "absences"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("user_id", "users"),
            CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
            Index("ix_absences_org_id_user_id_starts_on", "org_id", "user_id", "starts_on"),
        )

    # None: the whole organisation is off (a public holiday).
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)  # inclusive
    kind: Mapped[AbsenceKind] = mapped_column(
        db_enum(AbsenceKind, "absence_kind"), nullable=False, default=AbsenceKind.day_off
    )
    note: Mapped[str | None] = mapped_column(Text)
