"""reports: a roll-up of visits by rep and day, kept fresh by triggers

Closed days are summed once into report_visit_days; any write to a visit or an order
(API, sync, imports, jobs, raw SQL: the triggers see them all) marks the rep-days it
touches in report_dirty_days, which the next report recomputes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "planned",
    "planned_done",
    "visits_completed",
    "unplanned_completed",
    "missed",
    "skipped",
    "late",
    "checked_in",
    "verified",
    "unverified",
    "out_of_range",
    "productive",
    "unique_customers",
)

# A visit's day is its planned start's (else its check-in's) date in the organisation's zone.
VISIT_DIRTY = """
CREATE FUNCTION ff_report_visit_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND COALESCE(OLD.planned_start, OLD.check_in_at) IS NOT NULL THEN
        SELECT timezone INTO zone FROM organizations WHERE id = OLD.org_id;
        INSERT INTO report_dirty_days (org_id, rep_id, day)
        VALUES (OLD.org_id, OLD.rep_id, (COALESCE(OLD.planned_start, OLD.check_in_at) AT TIME ZONE zone)::date)
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND COALESCE(NEW.planned_start, NEW.check_in_at) IS NOT NULL THEN
        SELECT timezone INTO zone FROM organizations WHERE id = NEW.org_id;
        INSERT INTO report_dirty_days (org_id, rep_id, day)
        VALUES (NEW.org_id, NEW.rep_id, (COALESCE(NEW.planned_start, NEW.check_in_at) AT TIME ZONE zone)::date)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
"""

# An order makes that day's completed visits at the customer productive.
ORDER_DIRTY = """
CREATE FUNCTION ff_report_order_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    zone text;
BEGIN
    FOR changed IN
        SELECT OLD.org_id AS org_id, OLD.customer_id AS customer_id, OLD.order_date AS order_date
         WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION
        SELECT NEW.org_id, NEW.customer_id, NEW.order_date WHERE TG_OP IN ('INSERT', 'UPDATE')
    LOOP
        SELECT timezone INTO zone FROM organizations WHERE id = changed.org_id;
        INSERT INTO report_dirty_days (org_id, rep_id, day)
        SELECT DISTINCT v.org_id, v.rep_id, changed.order_date
          FROM visits AS v
         WHERE v.org_id = changed.org_id AND v.customer_id = changed.customer_id
           AND (COALESCE(v.planned_start, v.check_in_at) AT TIME ZONE zone)::date = changed.order_date
        ON CONFLICT DO NOTHING;
    END LOOP;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "report_visit_days",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.Column("on_site_s", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_report_visit_days_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "rep_id", "day", name=op.f("pk_report_visit_days")),
    )
    op.create_table(
        "report_dirty_days",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_report_dirty_days_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "rep_id", "day", name=op.f("pk_report_dirty_days")),
    )
    op.create_table(
        "report_rollups",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_report_rollups_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_report_rollups")),
    )
    op.execute(VISIT_DIRTY)
    op.execute(
        "CREATE TRIGGER ff_report_visit_dirty AFTER INSERT OR UPDATE OR DELETE ON visits "
        "FOR EACH ROW EXECUTE FUNCTION ff_report_visit_dirty()"
    )
    op.execute(ORDER_DIRTY)
    op.execute(
        "CREATE TRIGGER ff_report_order_dirty AFTER INSERT OR UPDATE OR DELETE ON orders "
        "FOR EACH ROW EXECUTE FUNCTION ff_report_order_dirty()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ff_report_order_dirty ON orders")
    op.execute("DROP FUNCTION ff_report_order_dirty()")
    op.execute("DROP TRIGGER ff_report_visit_dirty ON visits")
    op.execute("DROP FUNCTION ff_report_visit_dirty()")
    op.drop_table("report_rollups")
    op.drop_table("report_dirty_days")
    op.drop_table("report_visit_days")
