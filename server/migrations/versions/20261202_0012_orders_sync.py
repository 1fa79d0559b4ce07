"""orders sync: a customer's orders reach the phones with the customer (read-only there),
and follow it when it moves between territories

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _row_scopes(children: str) -> str:
    """ff_row_scopes as of 0010 (with absences), with the customer's child entities given."""
    return f"""
CREATE OR REPLACE FUNCTION ff_row_scopes(p_entity text, p_org uuid, r jsonb)
RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_entity
        WHEN 'customer' THEN
            RETURN ff_customer_scopes((r->>'territory_id')::uuid, (r->>'owner_id')::uuid);
        WHEN {children} THEN
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
            RETURN ARRAY['user:' || (r->>'user_id')];
        ELSE
            RAISE EXCEPTION 'ff_row_scopes: unknown entity %', p_entity;
    END CASE;
END
$$;
"""


def _sync_log(with_orders: bool) -> str:
    """ff_sync_log of 0004; a customer that changes scopes takes its child rows along."""
    orders = (
        "\n            UNION ALL SELECT 'order', id, row_version, deleted_at FROM orders "
        "WHERE org_id = NEW.org_id AND customer_id = NEW.id"
        if with_orders
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION ff_sync_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_entity text := TG_ARGV[0];
    v_new text[] := ff_row_scopes(v_entity, NEW.org_id, to_jsonb(NEW));
    v_old text[] := '{{}}';
    v_child record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        v_old := ff_row_scopes(v_entity, OLD.org_id, to_jsonb(OLD));
    END IF;
    PERFORM ff_log_scoped(NEW.org_id, v_entity, NEW.id, NEW.row_version, NEW.deleted_at IS NOT NULL,
                          v_old, v_new, TG_OP = 'INSERT');
    IF v_entity = 'customer' AND TG_OP = 'UPDATE'
       AND ARRAY(SELECT unnest(v_old) ORDER BY 1) IS DISTINCT FROM ARRAY(SELECT unnest(v_new) ORDER BY 1) THEN
        -- The customer's records follow it into its new scopes, in this same transaction.
        FOR v_child IN
            SELECT 'contact' AS entity, id, row_version, deleted_at FROM contacts
             WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'opportunity', id, row_version, deleted_at FROM opportunities
             WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'note', id, row_version, deleted_at FROM notes
             WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'photo', id, row_version, deleted_at FROM photos
             WHERE org_id = NEW.org_id AND customer_id = NEW.id{orders}
        LOOP
            PERFORM ff_log_scoped(NEW.org_id, v_child.entity, v_child.id, v_child.row_version,
                                  v_child.deleted_at IS NOT NULL, v_old, v_new, false);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.execute(_row_scopes("'contact', 'opportunity', 'note', 'photo', 'order'"))
    op.execute(_sync_log(with_orders=True))
    op.execute(
        "CREATE TRIGGER ff_sync_stamp BEFORE UPDATE ON orders "
        "FOR EACH ROW EXECUTE FUNCTION ff_sync_stamp('order', 'no_clocks')"
    )
    op.execute(
        "CREATE TRIGGER ff_sync_log AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION ff_sync_log('order')"
    )
    op.execute(
        """
        INSERT INTO sync_changes (org_id, scope, entity, entity_id, kind, row_version)
        SELECT t.org_id, s.scope, 'order', t.id,
               CASE WHEN t.deleted_at IS NULL THEN 'upsert' ELSE 'delete' END, t.row_version
          FROM orders AS t,
               LATERAL unnest(ff_row_scopes('order', t.org_id, to_jsonb(t))) AS s(scope)
         ORDER BY t.id
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ff_sync_log ON orders")
    op.execute("DROP TRIGGER IF EXISTS ff_sync_stamp ON orders")
    op.execute("DELETE FROM sync_changes WHERE entity = 'order'")
    op.execute(_sync_log(with_orders=False))
    op.execute(_row_scopes("'contact', 'opportunity', 'note', 'photo'"))
