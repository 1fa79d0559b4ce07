"""Operations: request ids (answered, logged, carried into jobs), JSON logs, Prometheus
metrics, liveness apart from readiness."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from server.app import create_app, metrics_allowed
from server.config import Environment, Settings
from server.observability import JsonFormatter, RequestIdFilter, request_id_var
from tests.server.world import WORLD as W


def test_every_answer_has_a_request_id_and_a_sane_given_one_is_kept(client, as_user):
    answer = client.get("/api/v1/users/me", headers=as_user("r1"))
    assert len(answer.headers["x-request-id"]) == 32
    kept = client.get("/api/v1/users/me", headers={**as_user("r1"), "X-Request-ID": "lb-7f3a.22"})
    assert kept.headers["x-request-id"] == "lb-7f3a.22"
    odd = client.get("/api/v1/users/me", headers={**as_user("r1"), "X-Request-ID": "<script>" + "x" * 200})
    assert odd.headers["x-request-id"] != "<script>" and len(odd.headers["x-request-id"]) == 32


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("server.x", logging.WARNING, __file__, 1, "the %s went %s", ("job", "wrong"), None)
    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "the job went wrong" and line["request_id"] == "req-42" and line["level"] == "warning"


def test_a_job_queued_by_a_request_carries_its_id(client, as_user, db):
    """A webhook delivery queued by an order: the job's arguments hold the order request's id."""
    admin = as_user("admin_a")
    hook = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/x", "events": ["order_recorded"]}, headers=admin
    )
    assert hook.status_code == 201
    order = {"customer_id": str(W.c1), "order_date": "2026-11-20", "amount": "10.00"}
    answer = client.post("/api/v1/orders", json=order, headers={**admin, "X-Request-ID": "order-request-1"})
    assert answer.status_code == 201
    args = db.execute(
        text(
            "SELECT args FROM procrastinate_jobs "
            "WHERE task_name = 'fieldforce:deliver_webhook' ORDER BY id DESC LIMIT 1"
        )
    ).scalar_one()
    assert args["request_id"] == "order-request-1"

    from server.jobs.queue import carries_request_id

    seen: list[str | None] = []

    @carries_request_id
    def task(delivery_id: str) -> None:
        seen.append(request_id_var.get())

    task(delivery_id="x", request_id="order-request-1")
    assert seen == ["order-request-1"] and request_id_var.get() is None


def test_metrics_count_requests_by_route_and_status(client, as_user, live_server):
    for _ in range(3):
        client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=as_user("r1"))
    client.get("/api/v1/customers", headers=as_user("r1"))
    body = httpx.get(f"{live_server}/metrics").text
    assert 'fieldforce_http_requests_total{method="GET",route="/api/v1/customers/{item_id}",status="404"}' in body
    assert "fieldforce_http_request_seconds_bucket" in body
    assert "fieldforce_db_pool_checked_out" in body and "fieldforce_live_subscribers" in body
    assert "# TYPE fieldforce_jobs gauge" in body
    assert "fieldforce_sync_push_batch_mutations" in body


def test_metrics_need_the_token_in_production():
    production = Settings(FIELDFORCE_ENV=Environment.production, DATABASE_URL="postgresql://x/y", SECRET_KEY="s" * 40)
    assert not metrics_allowed(production, None)
    with_token = production.model_copy(update={"metrics_token": "scrape-me-0123456789"})
    assert not metrics_allowed(with_token, "Bearer wrong")
    assert metrics_allowed(with_token, "Bearer scrape-me-0123456789")
    development = Settings(FIELDFORCE_ENV=Environment.development, SECRET_KEY="s" * 40)
    assert metrics_allowed(development, None)


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/health"])
def test_liveness_needs_no_database_and_readiness_does(path):
    settings = Settings(
        FIELDFORCE_ENV=Environment.test, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", SECRET_KEY="x" * 40
    )
    with TestClient(create_app(settings)) as http:
        answer = http.get(path)
    if path == "/health/live":
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    else:
        assert answer.status_code == 503 and answer.json()["code"] == "DATABASE_UNAVAILABLE"
