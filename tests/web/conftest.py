"""The dashboard in a real browser: Debian's Chromium driven by Playwright (its own browser
download is not used), against the live test server on PostGIS (tests/server/conftest.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from server.models import LoginFailure, Organization, User
from server.seed.demo import DEMO_PASSWORDS, SeedOptions, seed_demo
from shared.enums import Role
from tests.server.conftest import live_server, session_factory, settings, world  # noqa: F401  # fixtures

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("no Chromium: `make` installs Debian's chromium package")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def web_shots() -> Path:
    folder = Path(os.environ.get("FIELDFORCE_SCREENSHOTS", ROOT / ".screenshots")) / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class WebOrg:
    org_id: Any
    slug: str
    admin: str
    managers: list[str]
    reps: list[str]
    rep_ids: dict[str, Any]
    manager_ids: dict[str, Any]


@pytest.fixture(scope="session")
def web_org(engine: Engine) -> WebOrg:
    """A small seeded organisation, committed (the server's requests see it); drawn maps only
    (no tile server is reachable from the tests)."""
    slug = "web-journeys"
    with Session(engine) as session, session.begin():
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        org_id = (
            org.id
            if org
            else seed_demo(session, SeedOptions(reps=4, customers=120, seed=7, slug=slug, history_months=2)).org_id
        )
        session.execute(update(Organization).where(Organization.id == org_id).values(map_tile_url=""))
    with Session(engine) as session:
        users = list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.email)))
    return WebOrg(
        org_id=org_id,
        slug=slug,
        admin=next(u.email for u in users if u.role is Role.admin),
        managers=[u.email for u in users if u.role is Role.manager],
        reps=[u.email for u in users if u.role is Role.rep],
        rep_ids={u.email: u.id for u in users if u.role is Role.rep},
        manager_ids={u.email: u.id for u in users if u.role is Role.manager},
    )


@pytest.fixture(autouse=True)
def forget_failed_logins(engine: Engine) -> Iterator[None]:
    yield
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure))


PASSWORDS = {
    Role.admin: DEMO_PASSWORDS[Role.admin],
    Role.manager: DEMO_PASSWORDS[Role.manager],
    Role.rep: DEMO_PASSWORDS[Role.rep],
}


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport={"width": 1366, "height": 850}, locale="en-GB", timezone_id="UTC")
    yield made
    made.close()


def sign_in(page: Any, base: str, email: str, password: str, path: str = "/") -> None:
    page.goto(f"{base}{path}")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def axe_violations(browser: Any, base: str, cookies: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on a page. Run in a context that lets the
    test inject axe's script (the app's policy rightly refuses any script not its own)."""
    checking = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 850})
    try:
        checking.add_cookies(cookies)
        page = checking.new_page()
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in results
            if v["impact"] in ("serious", "critical")
        ]
    finally:
        checking.close()
