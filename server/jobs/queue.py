"""The PostgreSQL-backed job queue (procrastinate).

One mechanism for one machine and many: `fieldforce worker` processes anywhere
pull jobs from the same database. Later features (route optimisation, imports)
add their tasks to `blueprint`.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from procrastinate import App, Blueprint, PsycopgConnector
from sqlalchemy.orm import Session, sessionmaker

from server.config import Settings, get_settings
from server.db import libpq_url, make_engine, make_session_factory, transaction

blueprint = Blueprint()


def make_job_app(settings: Settings | None = None, url: str | None = None) -> App:
    settings = settings or get_settings()
    connector = PsycopgConnector(conninfo=libpq_url(url or settings.resolved_database_url()))
    app = App(connector=connector)
    app.add_tasks_from(blueprint, namespace="fieldforce")
    return app


@lru_cache
def _worker_sessions() -> sessionmaker[Session]:
    return make_session_factory(make_engine())


@blueprint.task(name="recompute_tiers", queue="default", retry=3)
def recompute_tiers_job(org_id: str) -> dict[str, Any]:
    """Re-rank an organisation's customers A/B/C from the last 12 months of orders."""
    from server.customers.tiers import recompute_tiers

    with transaction(_worker_sessions()) as session:
        return recompute_tiers(session, uuid.UUID(org_id))


@blueprint.periodic(cron="17 3 * * *")
@blueprint.task(name="compact_sync_changes", queue="default", retry=3)
def compact_sync_changes_job(timestamp: int) -> dict[str, int]:
    """Nightly: drop superseded sync change rows (tombstones stay) and old duplicate answers."""
    from server.sync.maintenance import compact

    with transaction(_worker_sessions()) as session:
        return compact(session)


@blueprint.periodic(cron="41 3 * * *")
@blueprint.task(name="purge_positions", queue="default", retry=3)
def purge_positions_job(timestamp: int) -> dict[str, int]:
    """Nightly: delete positions older than POSITION_RETENTION_DAYS."""
    from server.tracking.retention import purge_positions

    return {"deleted": purge_positions(_worker_sessions(), get_settings().position_retention_days)}


@blueprint.task(name="plan_run_part", queue="planning", retry=0)
def plan_run_part_job(part_id: str) -> dict[str, Any]:
    """Solve one team's share of a planning run, writing progress as it goes."""
    from server.planning.job import execute_part

    return execute_part(_worker_sessions(), uuid.UUID(part_id), osrm_url=get_settings().routing_osrm_url)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="fail_lost_planning_parts", queue="default", retry=0)
def fail_lost_planning_parts_job(timestamp: int) -> dict[str, int]:
    """Every minute: a planning part whose worker died is marked failed, not left running."""
    from server.planning.runs import fail_lost_parts

    with transaction(_worker_sessions()) as session:
        return {"failed": fail_lost_parts(session)}
