"""The PostgreSQL-backed job queue (procrastinate).

One mechanism for one machine and many: `fieldforce worker` processes anywhere
pull jobs from the same database. Later features (route optimisation, imports)
add their tasks to `blueprint`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

from procrastinate import App, Blueprint, JobContext, PsycopgConnector
from sqlalchemy.orm import Session, sessionmaker

import server.workflows  # noqa: F401 - registers the workflow rules with the write path for jobs
from server.config import Settings, get_settings
from server.db import libpq_url, make_engine, make_session_factory, transaction
from server.observability import request_id_var

blueprint = Blueprint()
P = ParamSpec("P")
R = TypeVar("R")


def carries_request_id(task: Callable[P, R]) -> Callable[P, R]:
    """A job queued by a request gets its `request_id` (server.db.defer_in_transaction): set
    for the job's log lines, never passed on to the task itself."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        request_id = kwargs.pop("request_id", None)
        token = request_id_var.set(str(request_id) if request_id else None)
        try:
            return task(*args, **kwargs)
        finally:
            request_id_var.reset(token)

    return run


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
@carries_request_id
def recompute_tiers_job(org_id: str) -> dict[str, Any]:
    """Re-rank an organisation's customers A/B/C from the last 12 months of orders."""
    from server.customers.tiers import recompute_tiers

    with transaction(_worker_sessions()) as session:
        return recompute_tiers(session, uuid.UUID(org_id))


@blueprint.periodic(cron="17 3 * * *")
@blueprint.task(name="compact_sync_changes", queue="default", retry=3)
@carries_request_id
def compact_sync_changes_job(timestamp: int) -> dict[str, int]:
    """Nightly: drop superseded sync change rows (tombstones stay) and old duplicate answers."""
    from server.sync.maintenance import compact

    with transaction(_worker_sessions()) as session:
        return compact(session)


@blueprint.periodic(cron="41 3 * * *")
@blueprint.task(name="purge_positions", queue="default", retry=3)
@carries_request_id
def purge_positions_job(timestamp: int) -> dict[str, int]:
    """Nightly: delete positions older than POSITION_RETENTION_DAYS."""
    from server.tracking.retention import purge_positions

    return {"deleted": purge_positions(_worker_sessions(), get_settings().position_retention_days)}


@blueprint.task(name="plan_run_part", queue="planning", retry=0)
@carries_request_id
def plan_run_part_job(part_id: str) -> dict[str, Any]:
    """Solve one team's share of a planning run, writing progress as it goes."""
    from server.planning.job import execute_part

    return execute_part(_worker_sessions(), uuid.UUID(part_id), osrm_url=get_settings().routing_osrm_url)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="fail_lost_planning_parts", queue="default", retry=0)
@carries_request_id
def fail_lost_planning_parts_job(timestamp: int) -> dict[str, int]:
    """Every minute: a planning part whose worker died is marked failed, not left running."""
    from server.planning.runs import fail_lost_parts

    with transaction(_worker_sessions()) as session:
        return {"failed": fail_lost_parts(session)}


@blueprint.task(name="deliver_webhook", queue="default", retry=0)
@carries_request_id
def deliver_webhook_job(delivery_id: str) -> str:
    """One try of a webhook delivery; a failed try queues the next one itself (backoff)."""
    from server.integrations.webhooks import attempt_delivery

    with transaction(_worker_sessions()) as session:
        return attempt_delivery(session, uuid.UUID(delivery_id), get_settings())


@blueprint.task(name="send_email", queue="default", retry=0)
@carries_request_id
def send_email_job(message_id: str) -> str:
    """Hand one email to the SMTP server; a failed try queues the next one itself."""
    from server.integrations.email import send_email

    with transaction(_worker_sessions()) as session:
        return send_email(session, uuid.UUID(message_id), get_settings())


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="run_scheduled_rules", queue="default", retry=0)
@carries_request_id
def run_scheduled_rules_job(timestamp: int) -> dict[str, int]:
    """Every five minutes: overdue tasks and customers not visited, for the rules that ask."""
    from server.workflows.scheduled import run_scheduled_rules

    with transaction(_worker_sessions()) as session:
        return run_scheduled_rules(session)


@blueprint.task(name="recompute_customer_analytics", queue="default", retry=2)
@carries_request_id
def recompute_customer_analytics_job(org_id: str) -> dict[str, int]:
    """RFM segments and churn risk of one organisation."""
    from server.analytics.rfm import recompute_customer_analytics

    with transaction(_worker_sessions()) as session:
        return recompute_customer_analytics(session, uuid.UUID(org_id))


@blueprint.periodic(cron="53 2 * * *")
@blueprint.task(name="recompute_all_customer_analytics", queue="default", retry=2)
@carries_request_id
def recompute_all_customer_analytics_job(timestamp: int) -> dict[str, int]:
    """Nightly, before the morning's planning: every organisation's RFM and churn."""
    from server.analytics.rfm import recompute_customer_analytics

    changed = 0
    for org_id in _org_ids():
        with transaction(_worker_sessions()) as session:
            changed += recompute_customer_analytics(session, org_id)["changed"]
    return {"changed": changed}


def _org_ids() -> list[uuid.UUID]:
    from sqlalchemy import select

    from server.models import Organization

    with transaction(_worker_sessions()) as session:
        return list(session.scalars(select(Organization.id)))


# A job in `doing` whose worker's heartbeat is this old lost its worker (killed, its machine
# gone): it goes back to the queue and runs again. Planning parts are not retried here: a
# lost part fails its run (fail_lost_planning_parts) and the manager starts a new one.
STALLED_JOB_SECONDS = 60.0
RETRIED_QUEUES = ("default",)


async def retry_stalled_jobs(job_app: Any, *, stalled_after_s: float = STALLED_JOB_SECONDS) -> list[int]:
    """Put the jobs of dead workers back in the queue; their ids."""
    retried = []
    for queue in RETRIED_QUEUES:
        for job in await job_app.job_manager.get_stalled_jobs(queue=queue, seconds_since_heartbeat=stalled_after_s):
            await job_app.job_manager.retry_job(job)
            retried.append(int(job.id))
    return retried


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="retry_stalled_jobs", queue="default", retry=0, pass_context=True, queueing_lock="stalled")
async def retry_stalled_jobs_job(context: JobContext, timestamp: int) -> dict[str, int]:
    """Every minute: the jobs of workers that died mid-job run again (once: the job is
    back in `todo`, and one worker takes it)."""
    return {"retried": len(await retry_stalled_jobs(context.app))}
