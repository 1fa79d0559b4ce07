"""The application factory: `create_app()` owns the engine and session factory."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

import server.models  # noqa: F401 - mappers and the row_version hook
from server import __version__
from server.absences.router import router as absences_router
from server.analytics.router import router as analytics_router
from server.auth.router import router as auth_router
from server.config import Environment, Settings, get_settings
from server.crm.pipeline_router import router as pipeline_router
from server.crm.router import router as crm_router
from server.customers.router import router as customers_router
from server.db import make_engine, make_session_factory
from server.errors import install_error_handlers, problem_response
from server.integrations.calendar_routes import router as calendar_router
from server.integrations.webhook_routes import router as webhooks_router
from server.middleware import BodySizeLimit, RejectNulCharacters, require_json_body
from server.notifications.router import router as notifications_router
from server.observability import (
    JOB_DURATION,
    JOBS,
    LIVE_SUBSCRIBERS,
    POOL_CHECKED_OUT,
    POOL_SIZE,
    RequestContext,
    render_metrics,
)
from server.organizations.router import router as organizations_router
from server.planning.router import plans_router
from server.planning.router import runs_router as planning_runs_router
from server.reports.router import router as reports_router
from server.sync.router import files_router
from server.sync.router import router as sync_router
from server.tasks.router import router as tasks_router
from server.territories.router import router as territories_router
from server.tracking.router import devices_router
from server.tracking.router import router as tracking_router
from server.users.router import router as users_router
from server.visits.router import router as visits_router
from server.web.context import error_page
from server.web.router import install_web
from server.workflows.router import router as workflows_router

API_PREFIX = "/api/v1"


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class Liveness(BaseModel):
    status: Literal["ok"]


def metrics_allowed(settings: Settings, authorization: str | None) -> bool:
    """Open outside production unless a token is set; in production only with the token."""
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}".encode()
        return authorization is not None and hmac.compare_digest(authorization.encode(), expected)
    return settings.environment is not Environment.production


def refresh_gauges(app: FastAPI) -> None:
    """What is read at scrape time: live subscribers, pool use, the job queue."""
    hub = getattr(app.state, "live_hub", None)
    LIVE_SUBSCRIBERS.set(hub.subscribers if hub is not None else 0)
    pool = app.state.engine.pool
    POOL_CHECKED_OUT.set(getattr(pool, "checkedout", lambda: 0)())
    POOL_SIZE.set(getattr(pool, "size", lambda: 0)())
    try:
        with app.state.engine.connect() as conn:
            for queue, status, count in conn.execute(text(JOBS_BY_STATUS)):
                JOBS.labels(queue, status).set(count)
            for task, seconds in conn.execute(text(LAST_JOB_DURATIONS)):
                JOB_DURATION.labels(task).set(seconds)
    except Exception:  # the metrics of the process are still worth answering without the queue's
        logging.getLogger(__name__).warning("job metrics unavailable", exc_info=True)


JOBS_BY_STATUS = "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2"
# The last finished job of each task in the past day: from its start event to its end event.
LAST_JOB_DURATIONS = """
SELECT DISTINCT ON (j.task_name) j.task_name, extract(epoch FROM done.at - began.at)
  FROM procrastinate_jobs j
  JOIN procrastinate_events began ON began.job_id = j.id AND began.type = 'started'
  JOIN procrastinate_events done ON done.job_id = j.id AND done.type IN ('succeeded', 'failed')
 WHERE done.at > now() - interval '1 day' AND done.at >= began.at
 ORDER BY j.task_name, done.at DESC
"""


# Answers that come from middleware, dependencies and throttles rather than the endpoint's own
# code: listed in the OpenAPI document so clients (and the schema fuzz) know to expect them.
_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
_THROTTLED = {"description": "Too many attempts: wait Retry-After seconds (LOGIN_THROTTLED, TRACKER_THROTTLED)"}
_THROTTLED_PATHS = {"/api/v1/auth/token", "/api/v1/auth/password", "/api/v1/tracking/osmand"}
_PROTOCOL_PATHS = {"/api/v1/sync/push", "/api/v1/sync/pull"}


def document_common_answers(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                if path.startswith(API_PREFIX):
                    # Every API answer may be a refusal of the credentials (a bearer token, a
                    # session, a device token, the current password).
                    answers.setdefault("401", {"description": "Not authenticated", "content": _PROBLEM})
                if "requestBody" in operation:
                    answers.setdefault(
                        "415", {"description": "Unsupported body type (UNSUPPORTED_MEDIA_TYPE)", "content": _PROBLEM}
                    )
                    answers.setdefault(
                        "413", {"description": "Body too large (PAYLOAD_TOO_LARGE)", "content": _PROBLEM}
                    )
                if path in _THROTTLED_PATHS:
                    answers.setdefault("429", {**_THROTTLED, "content": _PROBLEM})
                if path in _PROTOCOL_PATHS:
                    answers.setdefault(
                        "426", {"description": "The app is too old for this server (upgrade)", "content": _PROBLEM}
                    )
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or make_engine(settings, statement_timeout_ms=settings.statement_timeout_ms)
        app.state.session_factory = session_factory or make_session_factory(app.state.engine)
        try:
            yield
        finally:
            hub = getattr(app.state, "live_hub", None)
            if hub is not None:
                await hub.close()  # the process's LISTEN connection
            if owned:
                app.state.engine.dispose()

    app = FastAPI(
        title="FieldForce API",
        version=__version__,
        description=(
            "Field force automation: customers, territories, visits, tasks and plans. "
            "Errors are RFC 9457 problem documents with a stable `code`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app, html_error=error_page)
    # Added inner first: the NUL check reads bodies that BodySizeLimit has already bounded.
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # outermost: the request id and metrics cover everything

    # Each router straight into the app, the busiest first: FastAPI walks the included routers
    # route by route for every request, so a level of nesting, or a tracker report behind a
    # hundred other routes, is paid on every call. Tracker apps post forms and sync checks
    # content types per endpoint (files take any type, push takes JSON).
    for router in (tracking_router, sync_router, files_router, auth_router):
        app.include_router(router, prefix=API_PREFIX)
    json_only = [Depends(require_json_body)]
    for router in (
        customers_router,
        users_router,
        territories_router,
        crm_router,
        visits_router,
        tasks_router,
        devices_router,
        organizations_router,
        absences_router,
        planning_runs_router,
        plans_router,
        # Before the reports: /reports/forecast is not one of /reports/{name}.
        pipeline_router,
        reports_router,
        workflows_router,
        notifications_router,
        webhooks_router,
        calendar_router,
        analytics_router,
    ):
        app.include_router(router, prefix=API_PREFIX, dependencies=json_only)
    install_web(app)  # the managers' dashboard at /

    def database_answers() -> bool:
        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def unavailable() -> JSONResponse:
        return problem_response(
            503,
            "DATABASE_UNAVAILABLE",
            "Service unavailable",
            "The database is unreachable",
            extra={"database": "unreachable"},
            headers={"Retry-After": "5"},
        )

    down: dict[int | str, dict[str, Any]] = {
        503: {"description": "The database is unreachable", "content": {"application/problem+json": {}}}
    }

    @app.get("/health", tags=["ops"], response_model=Health, responses=down, summary="Readiness (as /health/ready)")
    @app.get(
        "/health/ready",
        tags=["ops"],
        response_model=Health,
        responses=down,
        summary="Readiness: the process and its database answer (take traffic)",
    )
    async def ready(request: Request) -> Any:
        if not await run_in_threadpool(database_answers):
            return unavailable()
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/health/live", tags=["ops"], response_model=Liveness, summary="Liveness: the process answers")
    async def alive() -> Any:
        return JSONResponse({"status": "ok"})

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics (text format)",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, 404: {"description": "Off"}},
    )
    async def metrics(request: Request) -> Response:
        if not metrics_allowed(settings, request.headers.get("authorization")):
            return problem_response(404, "NOT_FOUND", "Not found", "Not found")
        body, media_type = await run_in_threadpool(render_metrics, lambda: refresh_gauges(app))
        return Response(body, media_type=media_type)

    document_common_answers(app)  # after every route is in place

    @app.get("/", include_in_schema=False)
    async def index() -> dict[str, str]:
        return {"name": "FieldForce", "docs": "/docs", "openapi": "/openapi.json", "health": "/health"}

    return app
