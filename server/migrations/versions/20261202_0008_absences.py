"""absences: a rep's days off and the organisation's holidays, which planning leaves out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:02:24.786172
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "day_off",
                "holiday",
                "sick",
                "training",
                "other",
                name="absence_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_absences_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"], ["users.org_id", "users.id"], name=op.f("fk_absences_org_id_user_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_absences_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_absences_org_id_id")),
    )
    op.create_index(op.f("ix_absences_org_id"), "absences", ["org_id"], unique=False)
    op.create_index(
        "ix_absences_org_id_user_id_starts_on", "absences", ["org_id", "user_id", "starts_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_absences_org_id_user_id_starts_on", table_name="absences")
    op.drop_index(op.f("ix_absences_org_id"), table_name="absences")
    op.drop_table("absences")
