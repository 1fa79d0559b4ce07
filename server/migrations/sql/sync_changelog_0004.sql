-- Offline sync, in the database so that no write path can bypass it.
--
-- 1. ff_row_scopes: the one definition of which sync scopes a row belongs to
--    (used by the change-log trigger and by every pull).
-- 2. ff_sync_log (AFTER INSERT OR UPDATE): one change row per scope of the
--    written row, in the same transaction; `grant`/`revoke` when the row (or a
--    customer with its children) enters or leaves a scope.
-- 3. ff_sync_stamp (BEFORE UPDATE): row_version always moves; a changed field
--    whose clock the writer did not set (web, import, job, raw SQL) gets the
--    server's clock, so every write takes part in the merge; tags keep
--    per-element add/remove clocks; a task moved back opens a new generation.

CREATE FUNCTION ff_server_hlc() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16)
$$;

CREATE FUNCTION ff_customer_scopes(p_territory uuid, p_owner uuid) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_territory IS NULL AND p_owner IS NULL THEN ARRAY['unassigned']
        ELSE array_remove(ARRAY[
            CASE WHEN p_territory IS NOT NULL THEN 'territory:' || p_territory END,
            CASE WHEN p_owner IS NOT NULL THEN 'user:' || p_owner END
        ], NULL)
    END
$$;

CREATE FUNCTION ff_row_scopes(p_entity text, p_org uuid, r jsonb) RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_entity
        WHEN 'customer' THEN
            RETURN ff_customer_scopes((r->>'territory_id')::uuid, (r->>'owner_id')::uuid);
        WHEN 'contact', 'opportunity', 'note', 'photo' THEN
            RETURN coalesce(
                (SELECT ff_customer_scopes(c.territory_id, c.owner_id) FROM customers c
                  WHERE c.org_id = p_org AND c.id = (r->>'customer_id')::uuid),
                '{}'::text[]);
        WHEN 'visit', 'plan' THEN
            RETURN ARRAY['user:' || (r->>'rep_id')];
        WHEN 'task' THEN
            RETURN ARRAY['user:' || (r->>'assignee_id')];
        ELSE
            RAISE EXCEPTION 'ff_row_scopes: unknown entity %', p_entity;
    END CASE;
END
$$;

CREATE FUNCTION ff_log_change(p_org uuid, p_scopes text[], p_entity text, p_id uuid, p_kind text, p_version bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO sync_changes (org_id, scope, entity, entity_id, kind, row_version)
    SELECT p_org, s, p_entity, p_id, p_kind, p_version FROM unnest(p_scopes) AS s
$$;

-- Log one row's move between scope sets: kept scopes get the change, entered
-- scopes a grant (or the delete), left scopes a revoke.
CREATE FUNCTION ff_log_scoped(
    p_org uuid, p_entity text, p_id uuid, p_version bigint, p_deleted boolean,
    p_old text[], p_new text[], p_is_insert boolean
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_kind text := CASE WHEN p_deleted THEN 'delete' ELSE 'upsert' END;
BEGIN
    PERFORM ff_log_change(p_org, ARRAY(SELECT unnest(p_new) INTERSECT SELECT unnest(p_old)), p_entity, p_id, v_kind, p_version);
    PERFORM ff_log_change(p_org, ARRAY(SELECT unnest(p_new) EXCEPT SELECT unnest(p_old)), p_entity, p_id,
                          CASE WHEN p_deleted OR p_is_insert THEN v_kind ELSE 'grant' END, p_version);
    PERFORM ff_log_change(p_org, ARRAY(SELECT unnest(p_old) EXCEPT SELECT unnest(p_new)), p_entity, p_id, 'revoke', p_version);
END
$$;

CREATE FUNCTION ff_sync_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_entity text := TG_ARGV[0];
    v_new text[] := ff_row_scopes(v_entity, NEW.org_id, to_jsonb(NEW));
    v_old text[] := '{}';
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
            SELECT 'contact' AS entity, id, row_version, deleted_at FROM contacts WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'opportunity', id, row_version, deleted_at FROM opportunities WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'note', id, row_version, deleted_at FROM notes WHERE org_id = NEW.org_id AND customer_id = NEW.id
            UNION ALL SELECT 'photo', id, row_version, deleted_at FROM photos WHERE org_id = NEW.org_id AND customer_id = NEW.id
        LOOP
            PERFORM ff_log_scoped(NEW.org_id, v_child.entity, v_child.id, v_child.row_version,
                                  v_child.deleted_at IS NOT NULL, v_old, v_new, false);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ff_task_rank(p_status text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_status WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'done' THEN 2 ELSE 3 END
$$;

CREATE FUNCTION ff_sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_entity text := TG_ARGV[0];
    v_new jsonb;
    v_old jsonb;
    v_key text;
    v_group text;
    v_hlc bigint;
    v_tag text;
    v_tags jsonb;
BEGIN
    IF NEW.row_version <= OLD.row_version THEN
        NEW.row_version := OLD.row_version + 1;
    END IF;
    IF TG_ARGV[1] = 'no_clocks' THEN
        RETURN NEW;
    END IF;
    v_new := to_jsonb(NEW);
    v_old := to_jsonb(OLD);
    v_hlc := ff_server_hlc();
    IF v_entity = 'task' THEN
        -- (nested: NEW.generation exists only on tasks)
        IF NEW.generation = OLD.generation AND v_new->>'status' <> v_old->>'status'
           AND v_new->>'status' <> 'cancelled'
           AND ff_task_rank(v_new->>'status') < ff_task_rank(v_old->>'status') THEN
            -- A move back (reopen) starts a new generation on every write path.
            NEW.generation := OLD.generation + 1;
        END IF;
    END IF;
    FOR v_key IN
        SELECT n.key FROM jsonb_each(v_new) AS n
         WHERE n.key NOT IN ('id', 'org_id', 'created_at', 'updated_at', 'row_version', 'field_clocks', 'tags', 'generation')
           AND n.value IS DISTINCT FROM v_old->n.key
    LOOP
        v_group := CASE WHEN v_entity = 'customer' AND v_key IN
                             ('street', 'city', 'postal_code', 'region', 'country', 'location', 'geocode_accuracy')
                        THEN 'address' ELSE v_key END;
        IF NEW.field_clocks->v_group IS NOT DISTINCT FROM OLD.field_clocks->v_group THEN
            NEW.field_clocks := jsonb_set(NEW.field_clocks, ARRAY[v_group],
                                          jsonb_build_object('v', NEW.row_version, 'h', v_hlc, 'c', ''));
        END IF;
    END LOOP;
    IF v_entity = 'customer' AND v_new->'tags' IS DISTINCT FROM v_old->'tags'
       AND NEW.field_clocks->'tags' IS NOT DISTINCT FROM OLD.field_clocks->'tags' THEN
        v_tags := coalesce(NEW.field_clocks->'tags', '{}'::jsonb);
        FOR v_tag IN SELECT jsonb_array_elements_text(v_new->'tags') EXCEPT SELECT jsonb_array_elements_text(v_old->'tags') LOOP
            v_tags := jsonb_set(v_tags, ARRAY[v_tag], jsonb_build_array(v_hlc, coalesce((v_tags->v_tag->>1)::bigint, -1)));
        END LOOP;
        FOR v_tag IN SELECT jsonb_array_elements_text(v_old->'tags') EXCEPT SELECT jsonb_array_elements_text(v_new->'tags') LOOP
            v_tags := jsonb_set(v_tags, ARRAY[v_tag], jsonb_build_array(coalesce((v_tags->v_tag->>0)::bigint, 0), v_hlc));
        END LOOP;
        NEW.field_clocks := jsonb_set(NEW.field_clocks, '{tags}', v_tags);
    END IF;
    RETURN NEW;
END
$$;
