"""organisation settings: visit frequency, service minutes and lunch per organisation, map tiles

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def upgrade() -> None:
    # Empty JSON objects mean "the defaults": existing organisations keep planning as before.
    for name in ("visit_frequency_days", "service_minutes", "lunch"):
        op.add_column(
            "organizations",
            sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        )
    op.add_column(
        "organizations", sa.Column("map_tile_url", sa.String(length=500), server_default=OSM_TILES, nullable=False)
    )
    op.add_column(
        "organizations",
        sa.Column(
            "map_attribution", sa.String(length=300), server_default="© OpenStreetMap contributors", nullable=False
        ),
    )


def downgrade() -> None:
    for name in ("map_attribution", "map_tile_url", "lunch", "service_minutes", "visit_frequency_days"):
        op.drop_column("organizations", name)
