"""job queue: procrastinate 3.10.0 schema

The background job queue lives in PostgreSQL (procrastinate), so one machine
and many machines run the same mechanism. Its schema is the package's own SQL,
kept here at the pinned version; a procrastinate upgrade adds a migration that
applies that release's migration scripts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:15:00
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "sql" / "procrastinate_3_10_0_schema.sql"


def upgrade() -> None:
    op.execute(SCHEMA_SQL.read_text())


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        DO $$
        DECLARE fn regprocedure;
        BEGIN
            FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || fn || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )
