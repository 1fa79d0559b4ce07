"""The schema comes from the migrations, and the models agree with it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.migrate import downgrade_to_base, upgrade_to_head
from server.migrations.filters import include_object
from server.models import Base
from tests.conftest import create_fresh_database


def test_empty_to_head_to_base_to_head(worker_suffix):
    """Every migration applies on an empty database and reverts cleanly."""
    url = create_fresh_database(f"fieldforce_migrations_{worker_suffix}")
    upgrade_to_head(url)
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"customers", "users", "territories", "visits", "procrastinate_jobs"} <= tables
        downgrade_to_base(url)
        remaining = set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        assert remaining == set()
        upgrade_to_head(url)
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(engine):
    """Autogenerate against the migrated database finds nothing to do."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True, "compare_server_default": False}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sync_migration_backfills_the_change_log(worker_suffix):
    """Rows that exist before the sync migration reach devices: each gets a change row per scope."""
    from alembic import command
    from sqlalchemy import text

    from server.migrate import alembic_config

    url = create_fresh_database(f"fieldforce_backfill_{worker_suffix}")
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = create_engine(url)
    org, territory, customer, contact = (f"00000000-0000-0000-0000-00000000000{n}" for n in range(1, 5))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organizations (id, name, slug) VALUES (:o, 'Old', 'old-org')"), {"o": org})
            conn.execute(
                text(
                    "INSERT INTO territories (id, org_id, name, geometry) VALUES (:t, :o, 'T', "
                    "'SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)))')"
                ),
                {"t": territory, "o": org},
            )
            conn.execute(
                text("INSERT INTO customers (id, org_id, name, territory_id) VALUES (:c, :o, 'C', :t)"),
                {"c": customer, "o": org, "t": territory},
            )
            conn.execute(
                text("INSERT INTO contacts (id, org_id, customer_id, name) VALUES (:k, :o, :c, 'K')"),
                {"k": contact, "o": org, "c": customer},
            )
        upgrade_to_head(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT scope, entity, kind FROM sync_changes ORDER BY xid, pos")).all()
        assert [tuple(r) for r in rows] == [
            (f"territory:{territory}", "customer", "upsert"),
            (f"territory:{territory}", "contact", "upsert"),
        ]
    finally:
        engine.dispose()
