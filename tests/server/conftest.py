"""Server fixtures: the fixed world, a live HTTP server, per-test rollback.

Each test runs inside one database transaction that is rolled back at the end.
The live uvicorn server (real HTTP on loopback) gets its sessions from
`TestSessionFactory`, which binds them to the test's connection with
savepoints, so what a request commits is visible to the test and still
vanishes afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from server.access.credentials import AccessClaims, create_access_token
from server.app import create_app
from server.config import Environment, Settings
from server.models import Organization
from tests.net import free_port
from tests.server.world import WORLD, World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


class TestSessionFactory:
    """Sessions on the engine, or joined to the current test's transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def __call__(self) -> Session:
        if self.connection is not None:
            return Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        return Session(bind=self.engine, expire_on_commit=False)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        FIELDFORCE_ENV=Environment.test,
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET,
        LOGIN_MAX_FAILURES=5,
        LOGIN_FAILURE_WINDOW_SECONDS=300,
        # Tests change a caller's team or territories and look at once; the cache has its own test.
        ACTOR_CACHE_SECONDS=0,
    )


@pytest.fixture(scope="session")
def world(engine: Engine) -> World:
    with Session(engine) as session, session.begin():
        # Once per database: other test folders (tests/mobile/ui) reuse these fixtures.
        if session.get(Organization, WORLD.org_a) is None:
            build_world(session)
    return WORLD


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> TestSessionFactory:
    return TestSessionFactory(engine)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(settings: Settings, engine: Engine, session_factory: TestSessionFactory, world: World) -> Iterator[str]:
    app = create_app(settings, engine=engine, session_factory=session_factory)  # type: ignore[arg-type]
    with serving(app) as url:
        yield url


@pytest.fixture
def connection(engine: Engine, session_factory: TestSessionFactory, world: World) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        session_factory.connection = conn
        try:
            yield conn
        finally:
            session_factory.connection = None
            outer.rollback()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session inside the test's transaction (what the server sees)."""
    with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(live_server: str, connection: Connection) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield http


ROLES_OF = {
    "admin_a": "admin",
    "m1": "manager",
    "m2": "manager",
    "r1": "rep",
    "r2": "rep",
    "r3": "rep",
    "admin_b": "admin",
}


def token_for(world: World, who: str) -> str:
    from shared.enums import Role

    org = world.org_b if who == "admin_b" else world.org_a
    return create_access_token(AccessClaims(getattr(world, who), org, Role(ROLES_OF[who]), 0), TEST_SECRET, 15)


@pytest.fixture
def as_user(world: World) -> Any:
    """`as_user("r1")` -> Authorization headers of that world user."""

    def headers(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(world, who)}"}

    return headers


@pytest.fixture(autouse=True)
def forget_tracker_failures() -> Iterator[None]:
    """Wrong tracker tokens are counted per process (server/tracking/throttle.py): one test's
    failures must not throttle the next test's reports."""
    from server.tracking.throttle import tracker_failures

    tracker_failures.clear()
    yield
    tracker_failures.clear()
