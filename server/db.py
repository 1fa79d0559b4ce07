"""Engine and session lifecycle.

Services never commit: the request's session dependency commits once on
success and rolls back on any error, so a failure mid-operation leaves nothing
behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from server.config import Settings, get_settings


def database_url(settings: Settings | None = None) -> str:
    """DATABASE_URL, or the project-local cluster's (started if it is not running)."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.resolved_database_url()
    from server import localdb

    return localdb.start().url()


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL for libpq / psycopg directly (no SQLAlchemy driver suffix)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(
    settings: Settings | None = None, url: str | None = None, *, statement_timeout_ms: int | None = None
) -> Engine:
    """`statement_timeout_ms`: the server's requests pass one (a pathological input must not
    hold a connection and a core for minutes); jobs (planning, analytics) run without."""
    settings = settings or get_settings()
    options = f"-c idle_in_transaction_session_timeout={settings.idle_in_transaction_ms}"
    if statement_timeout_ms:
        options += f" -c statement_timeout={statement_timeout_ms}"
    return create_engine(
        url or settings.resolved_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No ping before each checkout (a round trip on every request): a connection the
        # server dropped fails its request with 503 DATABASE_UNAVAILABLE (nothing written, the
        # client retries), and SQLAlchemy then renews the pool's older connections.
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=10,
        connect_args={
            "connect_timeout": 5,
            # A transaction left idle holds back every sync pull (the xid8 horizon):
            # the server ends it rather than let it stall clients.
            "options": options,
        },
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work for scripts and jobs: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_affected(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched. `Session.execute` is typed as a
    plain `Result`; for data-changing statements it is a `CursorResult`, which counts them."""
    return (result.rowcount or 0) if isinstance(result, CursorResult) else 0


def defer_in_transaction(
    session: Session,
    task_name: str,
    args: dict[str, Any],
    *,
    queue: str = "default",
    scheduled_at: datetime | None = None,
) -> int:
    """Queue a procrastinate job (`server.jobs`) in the caller's transaction: it exists
    (and a worker sees it) only if the transaction commits, so a request that fails
    leaves no job behind. Here, not in `server.jobs`, because domains queue jobs and
    `server.jobs` imports the domains whose work it runs.

    `scheduled_at` holds the job back until then (a retry's backoff).

    The same SQL function procrastinate's own `defer` calls; its insert trigger
    notifies listening workers when the transaction commits.
    """
    from server.observability import request_id_var

    request_id = request_id_var.get()
    if request_id is not None:
        # The job's log lines carry the id of the request that queued it (server/jobs/queue.py).
        args = {**args, "request_id": request_id}
    job_id = session.execute(
        text(
            "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
            "CAST(:args AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1]))"
        ),
        {"queue": queue, "task": task_name, "args": json.dumps(args), "scheduled_at": scheduled_at},
    ).scalar_one()
    return int(job_id)
