"""Fixtures shared by the whole suite: the migrated test database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, make_url

from server.db import database_url as database_url_of_server
from server.db import libpq_url


def create_fresh_database(name: str) -> str:
    """Drop and create database `name` on the same server; returns its URL."""
    base = make_url(database_url_of_server())
    admin_url = libpq_url(base.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def worker_suffix(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(worker_suffix: str) -> str:
    """A database built by the Alembic migrations, one per test worker."""
    from server.migrate import upgrade_to_head

    url = create_fresh_database(f"fieldforce_test_{worker_suffix}")
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_size=5, max_overflow=5)
    yield engine
    engine.dispose()
