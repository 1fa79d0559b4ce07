"""covering indexes for scoped customer lists

A rep's or manager's customer page first collects the visible ids; with `id`
in the territory and owner indexes that is an index-only scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customers_org_id_territory_id_id", "customers", ["org_id", "territory_id", "id"])
    op.create_index("ix_customers_org_id_owner_id_id", "customers", ["org_id", "owner_id", "id"])
    op.drop_index("ix_customers_org_id_territory_id", table_name="customers")
    op.drop_index("ix_customers_org_id_owner_id", table_name="customers")


def downgrade() -> None:
    op.create_index("ix_customers_org_id_territory_id", "customers", ["org_id", "territory_id"])
    op.create_index("ix_customers_org_id_owner_id", "customers", ["org_id", "owner_id"])
    op.drop_index("ix_customers_org_id_owner_id_id", table_name="customers")
    op.drop_index("ix_customers_org_id_territory_id_id", table_name="customers")
