"""The CRM's behaviour: workflow rules and their runs, notifications, webhooks, outgoing
email, calendar feeds, opportunity stage history, lead round-robin and customer analytics.

Rules run inside the write that fires them (server/workflows/engine.py); what leaves
the server (webhook calls, email) is recorded here in that same transaction and sent
by the job queue afterwards, so a rolled-back write never calls anybody.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, TenantMixin, tenant_fk, utcnow_column


class WorkflowRule(TenantMixin, Base):
    """When `trigger` happens to a record and `conditions` hold, run `actions` (JSON,
    validated by server/workflows/schemas.py)."""

    __tablename__ = "workflow_rules"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (Index("ix_workflow_rules_org_id_trigger", "org_id", "trigger"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(40), nullable=False)
    # {"all": [...]} / {"any": [...]} / {"field", "op", "value"}; {} holds always
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    # Time-based triggers: "not visited for more than frequency x factor"
    trigger_params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # The built-in template this rule was made from, if any.
    template: Mapped[str | None] = mapped_column(String(60))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class WorkflowRun(Base):
    """One firing of a rule on one record: what each action did, or why nothing ran."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_org_id_rule_id_created_at", "org_id", "rule_id", "created_at"),
        # A time-based trigger fires once per rule, record and occasion (a task's due date,
        # a customer's last visit): the key says which occasion.
        Index(
            "uq_workflow_runs_rule_id_entity_id_fire_key",
            "rule_id",
            "entity_id",
            "fire_key",
            unique=True,
            postgresql_where=text("fire_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workflow_rules.id"), nullable=False)
    trigger: Mapped[str] = mapped_column(String(40), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    depth: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    # ok | failed (an action failed) | loop_stopped | invalid (the rule names something gone)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    fire_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = utcnow_column()


class Notification(TenantMixin, Base):
    """An in-app message to one user; syncs to their phone (scope user:<recipient>)."""

    __tablename__ = "notifications"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("recipient_id", "users"),
            Index("ix_notifications_org_id_recipient_id_created_at", "org_id", "recipient_id", "created_at"),
        )

    recipient_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, server_default="workflow")
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    # What it is about (a customer, a task, ...), for a link.
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Webhook(TenantMixin, Base):
    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, server_default="{}")
    description: Mapped[str | None] = mapped_column(String(300))
    # Signs every delivery (HMAC-SHA256); shown once, when the webhook is created.
    secret: Mapped[str] = mapped_column(String(128), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # Deliveries that gave up in a row; at the limit the webhook is switched off.
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook_id_created_at", "webhook_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("webhooks.id"), nullable=False)
    event: Mapped[str] = mapped_column(String(40), nullable=False)
    # The exact bytes sent (and signed), kept so a retry sends the same body.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # pending | retrying | delivered | failed
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column(onupdate=True)


class EmailMessage(Base):
    """An email a rule sends, kept until the job has handed it to the SMTP server."""

    __tablename__ = "email_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False, index=True)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # pending | sent | failed
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = utcnow_column()


class CalendarFeed(Base):
    """A rep's plan as iCal at a secret URL: only a keyed hash of the secret is stored."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = utcnow_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OpportunityStageChange(Base):
    """Who moved an opportunity from which stage to which, and when (every write path)."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (Index("ix_opportunity_stage_changes_opportunity_id_changed_at", "opportunity_id", "changed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False)
    opportunity_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("opportunities.id"), nullable=False)
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32), nullable=False)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = utcnow_column()


class LeadRoundRobin(Base):
    """The rep who last received a lead from this manager's round robin."""

    __tablename__ = "lead_round_robin"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), primary_key=True)
    manager_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    last_rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)


class CustomerAnalytics(Base):
    """RFM scores and churn signals from purchase history (recomputed by a job). Kept beside
    the customer, not on its row: a nightly change of many segments must not make every
    phone download its territory again (the customer row syncs; this table does not)."""

    __tablename__ = "customer_analytics"
    __table_args__ = (Index("ix_customer_analytics_org_id_segment", "org_id", "segment"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), nullable=False, index=True)
    last_order_date: Mapped[date | None] = mapped_column(Date)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    orders_12m: Mapped[int] = mapped_column(Integer, nullable=False)
    revenue_12m: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False)
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(32), nullable=False)
    # Mean days between consecutive orders (three orders or more), the customer's own rhythm.
    usual_interval_days: Mapped[float | None] = mapped_column(Float)
    churn_risk: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    computed_at: Mapped[datetime] = utcnow_column()
