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
