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
