"""offline sync: change log, clients, conflicts, rejections, files, photos, plans

Tables from the models; the change-log and clock triggers from
`server/migrations/sql/sync_changelog_0004.sql` (see its header).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:54:45.319017
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.models.sync

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQL = Path(__file__).resolve().parent.parent / "sql" / "sync_changelog_0004.sql"
# table -> (entity, whether it keeps per-field clocks)
SYNCED_TABLES = {
    "customers": ("customer", True),
    "contacts": ("contact", True),
    "opportunities": ("opportunity", True),
    "visits": ("visit", True),
    "tasks": ("task", True),
    "notes": ("note", False),
    "photos": ("photo", False),
    "plans": ("plan", False),
}
FUNCTIONS = (
    "ff_sync_stamp()",
    "ff_task_rank(text)",
    "ff_sync_log()",
    "ff_log_scoped(uuid, text, uuid, bigint, boolean, text[], text[], boolean)",
    "ff_log_change(uuid, text[], text, uuid, text, bigint)",
    "ff_row_scopes(text, uuid, jsonb)",
    "ff_customer_scopes(uuid, uuid)",
    "ff_server_hlc()",
)


def install_triggers() -> None:
    op.execute(SQL.read_text())
    for table, (entity, clocks) in SYNCED_TABLES.items():
        mode = "clocks" if clocks else "no_clocks"
        op.execute(
            f"CREATE TRIGGER ff_sync_stamp BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ff_sync_stamp('{entity}', '{mode}')"
        )
        op.execute(
            f"CREATE TRIGGER ff_sync_log AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ff_sync_log('{entity}')"
        )


def backfill_change_log() -> None:
    """Rows written before this migration get one change row per scope, parents first,
    so a device on an upgraded installation pulls everything that already exists."""
    for table, (entity, _) in SYNCED_TABLES.items():
        op.execute(
            f"""
            INSERT INTO sync_changes (org_id, scope, entity, entity_id, kind, row_version)
            SELECT t.org_id, s.scope, '{entity}', t.id,
                   CASE WHEN t.deleted_at IS NULL THEN 'upsert' ELSE 'delete' END, t.row_version
              FROM {table} AS t,
                   LATERAL unnest(ff_row_scopes('{entity}', t.org_id, to_jsonb(t))) AS s(scope)
             ORDER BY t.id
            """
        )


def drop_triggers() -> None:
    for table in SYNCED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS ff_sync_log ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS ff_sync_stamp ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("received_bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("complete", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_files_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", "sha256", name=op.f("pk_files")),
    )
    op.create_table(
        "sync_changes",
        sa.Column("pos", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("xid", server.models.sync.Xid8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("row_version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_sync_changes_org_id_organizations")),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_sync_changes")),
    )
    op.create_index(
        "ix_sync_changes_org_id_scope_entity_entity_id",
        "sync_changes",
        ["org_id", "scope", "entity", "entity_id"],
        unique=False,
    )
    op.create_index(
        "ix_sync_changes_org_id_scope_xid_pos", "sync_changes", ["org_id", "scope", "xid", "pos"], unique=False
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("kept_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("lost_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("kept_clock", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("lost_clock", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("mid", sa.BigInteger(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("mutation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_sync_conflicts_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index("ix_sync_conflicts_org_id_created_at", "sync_conflicts", ["org_id", "created_at"], unique=False)
    op.create_index("ix_sync_conflicts_org_id_entity_id", "sync_conflicts", ["org_id", "entity_id"], unique=False)
    op.create_table(
        "sync_rejections",
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("mid", sa.BigInteger(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("mutation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_sync_rejections_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rejections")),
    )
    op.create_index("ix_sync_rejections_org_id_created_at", "sync_rejections", ["org_id", "created_at"], unique=False)
    op.create_table(
        "file_chunks",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "sha256"],
            ["files.org_id", "files.sha256"],
            name=op.f("fk_file_chunks_org_id_sha256_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "sha256", "offset", name=op.f("pk_file_chunks")),
    )
    op.create_table(
        "plans",
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("stops", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("distance_m", sa.Float(), server_default="0", nullable=False),
        sa.Column("duration_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "rep_id"], ["users.org_id", "users.id"], name=op.f("fk_plans_org_id_rep_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_plans_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_plans_org_id_id")),
        sa.UniqueConstraint("org_id", "rep_id", "plan_date", name=op.f("uq_plans_org_id_rep_id_plan_date")),
    )
    op.create_index(op.f("ix_plans_org_id"), "plans", ["org_id"], unique=False)
    op.create_table(
        "sync_clients",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_mid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("protocol", sa.Integer(), nullable=False),
        sa.Column("app_version", sa.String(length=40), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"], ["users.org_id", "users.id"], name=op.f("fk_sync_clients_org_id_user_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_sync_clients_org_id_organizations")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_sync_clients")),
    )
    op.create_index(op.f("ix_sync_clients_org_id"), "sync_clients", ["org_id"], unique=False)
    op.create_index(op.f("ix_sync_clients_user_id"), "sync_clients", ["user_id"], unique=False)
    op.create_table(
        "sync_mutation_results",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("mid", sa.BigInteger(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["sync_clients.client_id"],
            name=op.f("fk_sync_mutation_results_client_id_sync_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "mid", name=op.f("pk_sync_mutation_results")),
    )
    op.create_table(
        "photos",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_photos_sha256_hex")),
        sa.ForeignKeyConstraint(
            ["org_id", "author_id"], ["users.org_id", "users.id"], name=op.f("fk_photos_org_id_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_photos_org_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "visit_id"], ["visits.org_id", "visits.id"], name=op.f("fk_photos_org_id_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_photos_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_photos_org_id_id")),
    )
    op.create_index(op.f("ix_photos_customer_id"), "photos", ["customer_id"], unique=False)
    op.create_index(op.f("ix_photos_org_id"), "photos", ["org_id"], unique=False)
    op.create_index(op.f("ix_photos_visit_id"), "photos", ["visit_id"], unique=False)
    op.add_column(
        "contacts",
        sa.Column("field_clocks", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column(
        "customers",
        sa.Column("field_clocks", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column(
        "opportunities",
        sa.Column("field_clocks", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("tasks", sa.Column("generation", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "tasks", sa.Column("field_clocks", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False)
    )
    op.add_column(
        "visits",
        sa.Column("field_clocks", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    install_triggers()
    backfill_change_log()


def downgrade() -> None:
    drop_triggers()
    op.drop_column("visits", "field_clocks")
    op.drop_column("tasks", "field_clocks")
    op.drop_column("tasks", "generation")
    op.drop_column("opportunities", "field_clocks")
    op.drop_column("customers", "field_clocks")
    op.drop_column("contacts", "field_clocks")
    op.drop_index(op.f("ix_photos_visit_id"), table_name="photos")
    op.drop_index(op.f("ix_photos_org_id"), table_name="photos")
    op.drop_index(op.f("ix_photos_customer_id"), table_name="photos")
    op.drop_table("photos")
    op.drop_table("sync_mutation_results")
    op.drop_index(op.f("ix_sync_clients_user_id"), table_name="sync_clients")
    op.drop_index(op.f("ix_sync_clients_org_id"), table_name="sync_clients")
    op.drop_table("sync_clients")
    op.drop_index(op.f("ix_plans_org_id"), table_name="plans")
    op.drop_table("plans")
    op.drop_table("file_chunks")
    op.drop_index("ix_sync_rejections_org_id_created_at", table_name="sync_rejections")
    op.drop_table("sync_rejections")
    op.drop_index("ix_sync_conflicts_org_id_entity_id", table_name="sync_conflicts")
    op.drop_index("ix_sync_conflicts_org_id_created_at", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_index("ix_sync_changes_org_id_scope_xid_pos", table_name="sync_changes")
    op.drop_index("ix_sync_changes_org_id_scope_entity_entity_id", table_name="sync_changes")
    op.drop_table("sync_changes")
    op.drop_table("files")
