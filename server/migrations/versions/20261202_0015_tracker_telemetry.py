"""tracker telemetry: a report without coordinates keeps the device's battery and charging;
a fix the device flags invalid is stored but marked; a removed device's identifier may be
registered again (unique among live devices only)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 11:10:28.075690
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("last_report_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("devices", sa.Column("battery_pct", sa.Float(), nullable=True))
    op.add_column("devices", sa.Column("charging", sa.Boolean(), nullable=True))
    op.drop_constraint(op.f("uq_devices_identifier"), "devices", type_="unique")
    op.create_index(
        "uq_devices_identifier_live",
        "devices",
        ["identifier"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.add_column("positions", sa.Column("valid", sa.Boolean(), server_default=sa.text("true"), nullable=False))


def downgrade() -> None:
    op.drop_column("positions", "valid")
    op.drop_index("uq_devices_identifier_live", table_name="devices", postgresql_where=sa.text("deleted_at IS NULL"))
    # Fails if a removed device's identifier was registered again: remove one of them first.
    op.create_unique_constraint(
        op.f("uq_devices_identifier"), "devices", ["identifier"], postgresql_nulls_not_distinct=False
    )
    op.drop_column("devices", "charging")
    op.drop_column("devices", "battery_pct")
    op.drop_column("devices", "last_report_at")
