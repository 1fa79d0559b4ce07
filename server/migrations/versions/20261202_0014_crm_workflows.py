"""CRM workflows: rules and their runs, notifications (synced to the recipient's phone),
webhooks and their deliveries, outgoing email, calendar feeds, opportunity stage history,
lead assignment, customer analytics (RFM, churn) and the organisation settings they read

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:42:44
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _row_scopes(with_notifications: bool) -> str:
    """ff_row_scopes as of 0012, with a notification in its recipient's personal scope."""
    notification = (
        """
        WHEN 'notification' THEN
            RETURN ARRAY['user:' || (r->>'recipient_id')];"""
        if with_notifications
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION ff_row_scopes(p_entity text, p_org uuid, r jsonb)
RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_entity
        WHEN 'customer' THEN
            RETURN ff_customer_scopes((r->>'territory_id')::uuid, (r->>'owner_id')::uuid);
        WHEN 'contact', 'opportunity', 'note', 'photo', 'order' THEN
            RETURN coalesce(
                (SELECT ff_customer_scopes(c.territory_id, c.owner_id) FROM customers c
                  WHERE c.org_id = p_org AND c.id = (r->>'customer_id')::uuid),
                '{{}}'::text[]);
        WHEN 'visit', 'plan' THEN
            RETURN ARRAY['user:' || (r->>'rep_id')];
        WHEN 'task' THEN
            RETURN ARRAY['user:' || (r->>'assignee_id')];
        WHEN 'absence' THEN
            IF r->>'user_id' IS NULL THEN
                RETURN ARRAY['organisation'];
            END IF;
            RETURN ARRAY['user:' || (r->>'user_id')];{notification}
        ELSE
            RAISE EXCEPTION 'ff_row_scopes: unknown entity %', p_entity;
    END CASE;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_email_messages_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
    )
    op.create_index(op.f("ix_email_messages_org_id"), "email_messages", ["org_id"], unique=False)
    op.create_table(
        "lead_round_robin",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("manager_id", sa.Uuid(), nullable=False),
        sa.Column("last_rep_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_lead_round_robin_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("org_id", "manager_id", name=op.f("pk_lead_round_robin")),
    )
    op.create_table(
        "webhooks",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_webhooks_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_webhooks_org_id_id")),
    )
    op.create_index(op.f("ix_webhooks_org_id"), "webhooks", ["org_id"], unique=False)
    op.create_table(
        "workflow_rules",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("trigger_params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_workflow_rules_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_rules")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_workflow_rules_org_id_id")),
    )
    op.create_index(op.f("ix_workflow_rules_org_id"), "workflow_rules", ["org_id"], unique=False)
    op.create_index("ix_workflow_rules_org_id_trigger", "workflow_rules", ["org_id", "trigger"], unique=False)
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_calendar_feeds_org_id_organizations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_user_id"), "calendar_feeds", ["user_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), server_default="workflow", nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=True),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "recipient_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_notifications_org_id_recipient_id_users"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_notifications_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_notifications_org_id_id")),
    )
    op.create_index(op.f("ix_notifications_org_id"), "notifications", ["org_id"], unique=False)
    op.create_index(
        "ix_notifications_org_id_recipient_id_created_at",
        "notifications",
        ["org_id", "recipient_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_webhook_deliveries_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_created_at", "webhook_deliveries", ["webhook_id", "created_at"], unique=False
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("depth", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fire_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_workflow_runs_org_id_organizations")),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["workflow_rules.id"], name=op.f("fk_workflow_runs_rule_id_workflow_rules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index(
        "ix_workflow_runs_org_id_rule_id_created_at", "workflow_runs", ["org_id", "rule_id", "created_at"], unique=False
    )
    op.create_index(
        "uq_workflow_runs_rule_id_entity_id_fire_key",
        "workflow_runs",
        ["rule_id", "entity_id", "fire_key"],
        unique=True,
        postgresql_where=sa.text("fire_key IS NOT NULL"),
    )
    op.create_table(
        "customer_analytics",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("last_order_date", sa.Date(), nullable=True),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("orders_12m", sa.Integer(), nullable=False),
        sa.Column("revenue_12m", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("r_score", sa.SmallInteger(), nullable=True),
        sa.Column("f_score", sa.SmallInteger(), nullable=True),
        sa.Column("m_score", sa.SmallInteger(), nullable=True),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("usual_interval_days", sa.Float(), nullable=True),
        sa.Column("churn_risk", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_analytics_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_customer_analytics_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_analytics")),
    )
    op.create_index(op.f("ix_customer_analytics_org_id"), "customer_analytics", ["org_id"], unique=False)
    op.create_table(
        "opportunity_stage_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=True),
        sa.Column("to_stage", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_stage_changes_opportunity_id_opportunities"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_opportunity_stage_changes_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_stage_changes")),
    )
    op.create_index(
        "ix_opportunity_stage_changes_opportunity_id_changed_at",
        "opportunity_stage_changes",
        ["opportunity_id", "changed_at"],
        unique=False,
    )
    op.add_column("customers", sa.Column("assigned_by", sa.String(length=32), nullable=True))
    op.add_column("opportunities", sa.Column("close_reason", sa.String(length=300), nullable=True))
    op.add_column(
        "organizations",
        sa.Column("stage_probabilities", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("organizations", sa.Column("churn_margin", sa.Float(), server_default="1.5", nullable=False))
    op.add_column("organizations", sa.Column("at_risk_visit_factor", sa.Float(), server_default="0.5", nullable=False))
    op.create_index("ix_customer_analytics_org_id_segment", "customer_analytics", ["org_id", "segment"])
    # Notifications sync like notes: no per-field clocks (only read_at ever changes).
    op.execute(_row_scopes(with_notifications=True))
    op.execute(
        "CREATE TRIGGER ff_sync_stamp BEFORE UPDATE ON notifications "
        "FOR EACH ROW EXECUTE FUNCTION ff_sync_stamp('notification', 'no_clocks')"
    )
    op.execute(
        "CREATE TRIGGER ff_sync_log AFTER INSERT OR UPDATE ON notifications "
        "FOR EACH ROW EXECUTE FUNCTION ff_sync_log('notification')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ff_sync_log ON notifications")
    op.execute("DROP TRIGGER IF EXISTS ff_sync_stamp ON notifications")
    op.execute("DELETE FROM sync_changes WHERE entity = 'notification'")
    op.execute(_row_scopes(with_notifications=False))
    op.drop_index("ix_customer_analytics_org_id_segment", table_name="customer_analytics")
    op.drop_column("organizations", "at_risk_visit_factor")
    op.drop_column("organizations", "churn_margin")
    op.drop_column("organizations", "stage_probabilities")
    op.drop_column("opportunities", "close_reason")
    op.drop_column("customers", "assigned_by")
    op.drop_index("ix_opportunity_stage_changes_opportunity_id_changed_at", table_name="opportunity_stage_changes")
    op.drop_table("opportunity_stage_changes")
    op.drop_index(op.f("ix_customer_analytics_org_id"), table_name="customer_analytics")
    op.drop_table("customer_analytics")
    op.drop_index(
        "uq_workflow_runs_rule_id_entity_id_fire_key",
        table_name="workflow_runs",
        postgresql_where=sa.text("fire_key IS NOT NULL"),
    )
    op.drop_index("ix_workflow_runs_org_id_rule_id_created_at", table_name="workflow_runs")
    op.drop_table("workflow_runs")
    op.drop_index("ix_webhook_deliveries_webhook_id_created_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_notifications_org_id_recipient_id_created_at", table_name="notifications")
    op.drop_index(op.f("ix_notifications_org_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_calendar_feeds_user_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_index("ix_workflow_rules_org_id_trigger", table_name="workflow_rules")
    op.drop_index(op.f("ix_workflow_rules_org_id"), table_name="workflow_rules")
    op.drop_table("workflow_rules")
    op.drop_index(op.f("ix_webhooks_org_id"), table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_table("lead_round_robin")
    op.drop_index(op.f("ix_email_messages_org_id"), table_name="email_messages")
    op.drop_table("email_messages")
