"""visits.status `skipped`: the rep decided not to go, and says why in the outcome

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("planned", "in_progress", "completed", "missed", "cancelled")
AFTER = (*BEFORE, "skipped")


def _allow(statuses: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_visits_visit_status"), "visits", type_="check")
    listed = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(op.f("ck_visits_visit_status"), "visits", f"status IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("UPDATE visits SET status = 'missed' WHERE status = 'skipped'")
    _allow(BEFORE)
