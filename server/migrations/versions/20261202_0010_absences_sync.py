"""absences sync: a rep's own days off (scope user:<id>) and the organisation's holidays
(scope organisation) reach the phones through the change log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _row_scopes(absence_case: str) -> str:
    """ff_row_scopes of migration 0004, with or without the absence case."""
    return f"""
CREATE OR REPLACE FUNCTION ff_row_scopes(p_entity text, p_org uuid, r jsonb)
RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_entity
        WHEN 'customer' THEN
            RETURN ff_customer_scopes((r->>'territory_id')::uuid, (r->>'owner_id')::uuid);
        WHEN 'contact', 'opportunity', 'note', 'photo' THEN
            RETURN coalesce(
                (SELECT ff_customer_scopes(c.territory_id, c.owner_id) FROM customers c
                  WHERE c.org_id = p_org AND c.id = (r->>'customer_id')::uuid),
                '{{}}'::text[]);
        WHEN 'visit', 'plan' THEN
            RETURN ARRAY['user:' || (r->>'rep_id')];
        WHEN 'task' THEN
            RETURN ARRAY['user:' || (r->>'assignee_id')];
        {absence_case}
        ELSE
            RAISE EXCEPTION 'ff_row_scopes: unknown entity %', p_entity;
    END CASE;
END
$$;
"""


# A holiday (no user) is everyone's: the organisation scope, which every member pulls.
ABSENCE_CASE = """WHEN 'absence' THEN
            IF r->>'user_id' IS NULL THEN
                RETURN ARRAY['organisation'];
            END IF;
            RETURN ARRAY['user:' || (r->>'user_id')];"""


def upgrade() -> None:
    op.execute(_row_scopes(ABSENCE_CASE))
    op.execute(
        "CREATE TRIGGER ff_sync_stamp BEFORE UPDATE ON absences "
        "FOR EACH ROW EXECUTE FUNCTION ff_sync_stamp('absence', 'no_clocks')"
    )
    op.execute(
        "CREATE TRIGGER ff_sync_log AFTER INSERT OR UPDATE ON absences "
        "FOR EACH ROW EXECUTE FUNCTION ff_sync_log('absence')"
    )
    # Absences recorded before this migration reach the phones too.
    op.execute(
        """
        INSERT INTO sync_changes (org_id, scope, entity, entity_id, kind, row_version)
        SELECT t.org_id, s.scope, 'absence', t.id,
               CASE WHEN t.deleted_at IS NULL THEN 'upsert' ELSE 'delete' END, t.row_version
          FROM absences AS t,
               LATERAL unnest(ff_row_scopes('absence', t.org_id, to_jsonb(t))) AS s(scope)
         ORDER BY t.id
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ff_sync_log ON absences")
    op.execute("DROP TRIGGER IF EXISTS ff_sync_stamp ON absences")
    op.execute("DELETE FROM sync_changes WHERE entity = 'absence'")
    op.execute(_row_scopes(""))
