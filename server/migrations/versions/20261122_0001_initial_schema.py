"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 22:09:55.406800
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography, Geometry
from sqlalchemy.dialects import postgresql

# geoalchemy2 registers its operations on alembic's `op` when it is imported; alembic's
# type stubs cannot know them, so they are called through this untyped view of `op`.
geo_op: Any = op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("throttle_key", sa.String(length=300), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_key_failed_at",
        "login_failures",
        ["throttle_key", "failed_at"],
        unique=False,
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("default_country", sa.String(length=2), server_default="US", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_organizations_slug_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    geo_op.create_geospatial_table(
        "territories",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geometry",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("color", sa.String(length=7), server_default="#3388ff", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_territories_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territories")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_territories_org_id_id")),
    )
    geo_op.create_geospatial_index(
        "ix_territories_geometry",
        "territories",
        ["geometry"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_territories_org_id"), "territories", ["org_id"], unique=False)
    geo_op.create_geospatial_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "manager",
                "rep",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column(
            "home_location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column(
            "working_hours",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("auth_generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "manager_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_users_org_id_manager_id_users"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_users_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("org_id", "email", name=op.f("uq_users_org_id_email")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_users_org_id_id")),
    )
    op.create_index(op.f("ix_users_manager_id"), "users", ["manager_id"], unique=False)
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"], unique=False)
    geo_op.create_geospatial_table(
        "customers",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "lead",
                "prospect",
                "customer",
                "inactive",
                name="customer_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="lead",
            nullable=False,
        ),
        sa.Column("street", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("region", sa.String(length=120), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column(
            "geocode_accuracy",
            sa.Enum(
                "rooftop",
                "street",
                "postal_code",
                "city",
                "manual",
                "unknown",
                name="geocode_accuracy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="unknown",
            nullable=False,
        ),
        sa.Column("territory_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column(
            "tier",
            sa.Enum(
                "A",
                "B",
                "C",
                name="customer_tier",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="C",
            nullable=False,
        ),
        sa.Column("annual_revenue", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("visit_frequency_days", sa.Integer(), nullable=True),
        sa.Column(
            "visit_windows",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_customers_org_id_owner_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "territory_id"],
            ["territories.org_id", "territories.id"],
            name=op.f("fk_customers_org_id_territory_id_territories"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_customers_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_customers_org_id_id")),
    )
    geo_op.create_geospatial_index(
        "ix_customers_location",
        "customers",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    # bbox filters and territory containment work in geometry(4326).
    op.execute("CREATE INDEX ix_customers_location_geometry ON customers USING gist ((location::geometry))")
    op.create_index(
        "ix_customers_name_trgm",
        "customers",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_customers_org_id"), "customers", ["org_id"], unique=False)
    op.create_index("ix_customers_org_id_owner_id", "customers", ["org_id", "owner_id"], unique=False)
    op.create_index("ix_customers_org_id_territory_id", "customers", ["org_id", "territory_id"], unique=False)
    op.create_index(
        "uq_customers_org_id_external_ref",
        "customers",
        ["org_id", "external_ref"],
        unique=True,
        postgresql_where=sa.text("external_ref IS NOT NULL"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_refresh_tokens_org_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_refresh_tokens_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], unique=False)
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "territory_reps",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "territory_id"],
            ["territories.org_id", "territories.id"],
            name=op.f("fk_territory_reps_org_id_territory_id_territories"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_territory_reps_org_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_territory_reps_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", "territory_id", "user_id", name=op.f("pk_territory_reps")),
    )
    op.create_index("ix_territory_reps_org_id_user_id", "territory_reps", ["org_id", "user_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_contacts_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_contacts_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_contacts_org_id_id")),
    )
    op.create_index(op.f("ix_contacts_customer_id"), "contacts", ["customer_id"], unique=False)
    op.create_index(op.f("ix_contacts_org_id"), "contacts", ["org_id"], unique=False)
    op.create_table(
        "notes",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "call",
                "email",
                "visit",
                "note",
                name="note_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="note",
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "author_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_notes_org_id_author_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_notes_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_notes_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_notes_org_id_id")),
    )
    op.create_index(op.f("ix_notes_customer_id"), "notes", ["customer_id"], unique=False)
    op.create_index(op.f("ix_notes_org_id"), "notes", ["org_id"], unique=False)
    op.create_table(
        "opportunities",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "lead",
                "qualified",
                "proposal",
                "negotiation",
                "won",
                "lost",
                name="opportunity_stage",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="lead",
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name=op.f("ck_opportunities_probability_range")),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_opportunities_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_opportunities_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_opportunities_org_id_id")),
    )
    op.create_index(op.f("ix_opportunities_customer_id"), "opportunities", ["customer_id"], unique=False)
    op.create_index(op.f("ix_opportunities_org_id"), "opportunities", ["org_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("margin", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_orders_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_orders_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_orders_org_id_id")),
    )
    op.create_index(op.f("ix_orders_org_id"), "orders", ["org_id"], unique=False)
    op.create_index(
        "ix_orders_org_id_customer_id_order_date",
        "orders",
        ["org_id", "customer_id", "order_date"],
        unique=False,
    )
    op.create_table(
        "tasks",
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "follow_up",
                "service_request",
                "call",
                "other",
                name="task_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="other",
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="task_priority",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="normal",
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "done",
                "cancelled",
                name="task_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "assignee_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_tasks_org_id_assignee_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_tasks_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_tasks_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_tasks_org_id_id")),
    )
    op.create_index(op.f("ix_tasks_customer_id"), "tasks", ["customer_id"], unique=False)
    op.create_index(op.f("ix_tasks_org_id"), "tasks", ["org_id"], unique=False)
    op.create_index(
        "ix_tasks_org_id_assignee_id_status",
        "tasks",
        ["org_id", "assignee_id", "status"],
        unique=False,
    )
    geo_op.create_geospatial_table(
        "visits",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "completed",
                "missed",
                "cancelled",
                name="visit_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="planned",
            nullable=False,
        ),
        sa.Column("check_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "check_in_location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("check_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "check_out_location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column(
            "verification_status",
            sa.Enum(
                "pending",
                "verified",
                "unverified",
                "out_of_range",
                name="verification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("verification_distance_m", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_visits_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "rep_id"],
            ["users.org_id", "users.id"],
            name=op.f("fk_visits_org_id_rep_id_users"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_visits_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_visits_org_id_id")),
    )
    op.create_index(op.f("ix_visits_customer_id"), "visits", ["customer_id"], unique=False)
    op.create_index(op.f("ix_visits_org_id"), "visits", ["org_id"], unique=False)
    op.create_index(
        "ix_visits_org_id_rep_id_planned_start",
        "visits",
        ["org_id", "rep_id", "planned_start"],
        unique=False,
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_customers_location_geometry")
    op.drop_index("ix_visits_org_id_rep_id_planned_start", table_name="visits")
    op.drop_index(op.f("ix_visits_org_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_customer_id"), table_name="visits")
    geo_op.drop_geospatial_table("visits")
    op.drop_index("ix_tasks_org_id_assignee_id_status", table_name="tasks")
    op.drop_index(op.f("ix_tasks_org_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_customer_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_orders_org_id_customer_id_order_date", table_name="orders")
    op.drop_index(op.f("ix_orders_org_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_opportunities_org_id"), table_name="opportunities")
    op.drop_index(op.f("ix_opportunities_customer_id"), table_name="opportunities")
    op.drop_table("opportunities")
    op.drop_index(op.f("ix_notes_org_id"), table_name="notes")
    op.drop_index(op.f("ix_notes_customer_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_index(op.f("ix_contacts_org_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_customer_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_territory_reps_org_id_user_id", table_name="territory_reps")
    op.drop_table("territory_reps")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")
    op.drop_index(op.f("ix_refresh_tokens_family_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "uq_customers_org_id_external_ref",
        table_name="customers",
        postgresql_where=sa.text("external_ref IS NOT NULL"),
    )
    op.drop_index("ix_customers_org_id_territory_id", table_name="customers")
    op.drop_index("ix_customers_org_id_owner_id", table_name="customers")
    op.drop_index(op.f("ix_customers_org_id"), table_name="customers")
    op.drop_index(
        "ix_customers_name_trgm",
        table_name="customers",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    geo_op.drop_geospatial_index(
        "ix_customers_location",
        table_name="customers",
        postgresql_using="gist",
        column_name="location",
    )
    geo_op.drop_geospatial_table("customers")
    op.drop_index(op.f("ix_users_org_id"), table_name="users")
    op.drop_index(op.f("ix_users_manager_id"), table_name="users")
    geo_op.drop_geospatial_table("users")
    op.drop_index(op.f("ix_territories_org_id"), table_name="territories")
    geo_op.drop_geospatial_index(
        "ix_territories_geometry",
        table_name="territories",
        postgresql_using="gist",
        column_name="geometry",
    )
    geo_op.drop_geospatial_table("territories")
    op.drop_table("organizations")
    op.drop_index("ix_login_failures_key_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
