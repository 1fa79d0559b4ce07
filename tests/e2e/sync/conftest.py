"""A live server whose sessions commit for real (the pull fence needs real transactions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.app import create_app
from server.config import Environment, Settings
from tests.e2e.sync.harness import TEST_SECRET, Device, SyncOrg, build_org, make_device
from tests.server.conftest import serving


@pytest.fixture(scope="session")
def sync_settings(database_url: str) -> Settings:
    return Settings(
        FIELDFORCE_ENV=Environment.test, DATABASE_URL=database_url, SECRET_KEY=TEST_SECRET, ACTOR_CACHE_SECONDS=0
    )


@pytest.fixture(scope="session")
def sync_server(sync_settings: Settings) -> Iterator[str]:
    with serving(create_app(sync_settings)) as url:
        yield url


@pytest.fixture
def org(engine: Engine) -> SyncOrg:
    return build_org(engine)


@pytest.fixture
def devices(sync_server: str, tmp_path: Path, org: SyncOrg) -> Iterator[dict[str, Device]]:
    """rep0's and rep1's phones and the manager's tablet, each with its own SQLite store."""
    made = {
        "rep0": make_device(sync_server, tmp_path, "rep0", org, org.reps[0]),
        "rep1": make_device(sync_server, tmp_path, "rep1", org, org.reps[1]),
        "manager": make_device(sync_server, tmp_path, "manager", org, org.manager),
    }
    yield made
    for device in made.values():
        device.close()
