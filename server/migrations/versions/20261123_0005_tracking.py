"""tracking: devices, positions (BRIN on arrival, unique per device and time), last positions,
workdays, organisation time zone and verification radii, check-in accuracy

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:47:24.677687
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("token_hash", sa.String(length=255), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"], ["users.org_id", "users.id"], name=op.f("fk_devices_org_id_user_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_devices_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("identifier", name=op.f("uq_devices_identifier")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_devices_org_id_id")),
    )
    op.create_index(op.f("ix_devices_org_id"), "devices", ["org_id"], unique=False)
    op.create_index(op.f("ix_devices_user_id"), "devices", ["user_id"], unique=False)
    op.create_table(
        "last_positions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_last_positions_org_id_organizations")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_last_positions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_last_positions")),
    )
    op.create_index(op.f("ix_last_positions_org_id"), "last_positions", ["org_id"], unique=False)
    op.create_table(
        "workdays",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"], ["users.org_id", "users.id"], name=op.f("fk_workdays_org_id_user_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_workdays_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workdays")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_workdays_user_id_day")),
    )
    op.create_table(
        "positions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("activity", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_positions_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_positions_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("device_id", "device_time", name=op.f("uq_positions_device_id_device_time")),
    )
    op.create_index("ix_positions_received_at", "positions", ["received_at"], unique=False, postgresql_using="brin")
    op.create_index("ix_positions_user_id_device_time", "positions", ["user_id", "device_time"], unique=False)
    op.add_column("organizations", sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False))
    op.add_column(
        "organizations",
        sa.Column(
            "verification_radius_m", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
    )
    op.add_column("visits", sa.Column("check_in_accuracy_m", sa.Float(), nullable=True))
    op.add_column("visits", sa.Column("check_out_accuracy_m", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("visits", "check_out_accuracy_m")
    op.drop_column("visits", "check_in_accuracy_m")
    op.drop_column("organizations", "verification_radius_m")
    op.drop_column("organizations", "timezone")
    op.drop_index("ix_positions_user_id_device_time", table_name="positions")
    op.drop_index("ix_positions_received_at", table_name="positions", postgresql_using="brin")
    op.drop_table("positions")
    op.drop_table("workdays")
    op.drop_index(op.f("ix_last_positions_org_id"), table_name="last_positions")
    op.drop_table("last_positions")
    op.drop_index(op.f("ix_devices_user_id"), table_name="devices")
    op.drop_index(op.f("ix_devices_org_id"), table_name="devices")
    op.drop_table("devices")
