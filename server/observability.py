"""Seeing the server run: request ids, JSON logs, Prometheus metrics, liveness and readiness.

- Every request gets an id: the caller's `X-Request-ID` when it is a sane token, else a new
  one. It is answered in `X-Request-ID`, put on every log line of the request, and carried
  into the jobs the request queues (`server.db.defer_in_transaction`), whose log lines
  carry it too.
- `LOG_FORMAT=json` (the default in production) writes one JSON object per line.
- `/metrics` (Prometheus text format): requests by route and status, latency histograms,
  sync push and pull sizes and outcomes, job queue depth and the last durations of jobs,
  live-map subscribers, database pool use. With several server processes, set
  `PROMETHEUS_MULTIPROC_DIR` so they add up. In production `/metrics` needs
  `METRICS_TOKEN` (as a bearer token), and answers 404 without one configured.
- `/health/live`: the process answers (no database). `/health/ready` (and `/health`): the
  database answers too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# ---- metrics -----------------------------------------------------------------------------

REQUESTS = Counter("fieldforce_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "fieldforce_http_request_seconds",
    "HTTP request latency (to the last byte of the answer)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SYNC_PUSH_MUTATIONS = Counter("fieldforce_sync_push_mutations_total", "Pushed mutations by outcome", ["outcome"])
SYNC_PUSH_SIZE = Histogram(
    "fieldforce_sync_push_batch_mutations", "Mutations per push", buckets=(1, 5, 10, 25, 50, 100, 200)
)
SYNC_PULL_RECORDS = Histogram(
    "fieldforce_sync_pull_page_records", "Records per pull page", buckets=(0, 1, 10, 50, 100, 500, 1000, 2000)
)
LIVE_SUBSCRIBERS = Gauge("fieldforce_live_subscribers", "Open live-map streams", multiprocess_mode="livesum")
POOL_CHECKED_OUT = Gauge("fieldforce_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum")
POOL_SIZE = Gauge("fieldforce_db_pool_size", "Database connections held by the pool", multiprocess_mode="livesum")
JOBS = Gauge("fieldforce_jobs", "Jobs in the queue by queue and status", ["queue", "status"], multiprocess_mode="max")
JOB_DURATION = Gauge(
    "fieldforce_job_last_duration_seconds",
    "How long the last finished job of each task took",
    ["task"],
    multiprocess_mode="max",
)


def route_of(scope: Scope) -> str:
    """The route's template (`/api/v1/customers/{item_id}`), never the raw path (unbounded
    labels): each segment that is a path parameter's value is put back as `{name}`."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    segments = str(scope.get("path", "")).split("/")
    return "/".join(f"{{{names[segment]}}}" if segment in names else segment for segment in segments)


def render_metrics(refresh: Callable[[], None] | None = None) -> tuple[bytes, str]:
    if refresh is not None:
        refresh()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# ---- requests ----------------------------------------------------------------------------


class RequestContext:
    """The outermost middleware: the request id, and the request's metrics (recorded when the
    answer's last byte has gone, so a streamed answer counts whole)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_of(scope)
            method = scope.get("method", "GET")
            if route != "/metrics":
                REQUESTS.labels(method, route, str(status)).inc()
                LATENCY.labels(method, route).observe(time.perf_counter() - started)
            request_id_var.reset(token)


# ---- logs ---------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Root logging for the server and workers; uvicorn's own loggers go through it too."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "procrastinate"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


def log_config(level: str, log_format: str) -> dict[str, Any]:
    """The same, as the dictConfig uvicorn applies in each of its worker processes."""
    formatter: dict[str, Any] = (
        {"()": "server.observability.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "server.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"]}},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": level.upper()}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
