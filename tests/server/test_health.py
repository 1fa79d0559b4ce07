from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Environment, Settings


def test_health_is_503_problem_when_the_database_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    settings = Settings(
        FIELDFORCE_ENV=Environment.test,
        SECRET_KEY="x" * 40,
        DATABASE_URL=f"postgresql+psycopg://nobody@127.0.0.1:{port}/none",
    )
    with TestClient(create_app(settings)) as http:
        response = http.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "DATABASE_UNAVAILABLE"


def test_production_refuses_the_default_secret():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(FIELDFORCE_ENV=Environment.production, DATABASE_URL="postgresql://x/y")
    Settings(FIELDFORCE_ENV=Environment.production, DATABASE_URL="postgresql://x/y", SECRET_KEY="s" * 40)


def test_each_installation_makes_its_own_secret(tmp_path, monkeypatch):
    """No secret is a constant in the code: unset, each installation makes a random one on
    first run, keeps it with its cluster's state (owner-only), and every process reads it."""
    import stat

    monkeypatch.setenv("FIELDFORCE_STATE_DIR", str(tmp_path / "one"))
    first = Settings(FIELDFORCE_ENV=Environment.development).secret_key
    assert len(first) >= 48
    assert Settings(FIELDFORCE_ENV=Environment.test).secret_key == first  # another process, same file
    kept = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    monkeypatch.setenv("FIELDFORCE_STATE_DIR", str(tmp_path / "two"))
    assert Settings(FIELDFORCE_ENV=Environment.development).secret_key != first
    assert "secret_key" not in repr(Settings(FIELDFORCE_ENV=Environment.development, SECRET_KEY="x" * 40))


def test_a_statement_past_the_timeout_is_stopped_and_answered_503(database_url):
    """DB_STATEMENT_TIMEOUT_MS: a request's runaway statement is cancelled by PostgreSQL and
    answered 503 QUERY_TIMEOUT, not left to hold a connection and a core."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from server.db import make_engine
    from server.errors import install_error_handlers

    settings = Settings(FIELDFORCE_ENV=Environment.test, DATABASE_URL=database_url, SECRET_KEY="x" * 40)
    engine = make_engine(settings, statement_timeout_ms=200)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    def slow() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(2)"))
        return {"done": "yes"}

    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            response = http.get("/slow")
        assert response.status_code == 503 and response.json()["code"] == "QUERY_TIMEOUT"
        assert response.elapsed.total_seconds() < 1.5
    finally:
        engine.dispose()
