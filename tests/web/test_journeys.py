"""A manager's and a rep's journeys through the dashboard in Chromium, against the live
server on PostGIS: what the page shows is checked against the API and the database."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from server.models import Customer, Organization, SyncConflict, Territory, User, Visit
from shared.enums import WEEKDAYS, Role, VerificationStatus, VisitStatus
from tests.server.conftest import TEST_SECRET
from tests.server.world import WORLD as W
from tests.web.conftest import PASSWORDS, WebOrg, axe_violations, sign_in


def bearer(live_server: str, email: str, password: str) -> dict[str, str]:
    token = httpx.post(f"{live_server}/api/v1/auth/token", data={"username": email, "password": password}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_sign_in_an_expired_session_and_a_forged_change(
    context: Any, live_server: str, web_org: WebOrg, web_shots
) -> None:
    page = context.new_page()
    page.goto(f"{live_server}/kpis")
    assert page.url.startswith(f"{live_server}/login?next=/kpis")
    page.fill("#username", web_org.managers[0])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.inner_text("#signin-error") == "Incorrect email or password"
    page.screenshot(path=str(web_shots / "sign-in-wrong-password.png"))
    page.fill("#username", web_org.managers[0])
    page.fill("#password", PASSWORDS[Role.manager])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/kpis")  # back to the page asked for
    cookie = next(c for c in context.cookies() if c["name"] == "ff_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # A change without the session's CSRF token is refused, in words, and writes nothing.
    forged = page.request.post(
        f"{live_server}/api/v1/territories",
        data=json.dumps({"name": "Forged", "geometry": {"type": "Polygon", "coordinates": []}}),
        headers={"Content-Type": "application/json"},
    )
    assert forged.status == 403 and forged.json()["code"] == "CSRF_FAILED"
    signed_out = page.request.post(f"{live_server}/logout", form={"csrf_token": "not this session's"})
    assert signed_out.status == 403 and "CSRF_FAILED" in signed_out.text()

    # An expired session: back to sign-in, then to the page asked for.
    payload = jwt.decode(cookie["value"], options={"verify_signature": False})
    payload["exp"] = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    expired = jwt.encode(payload, TEST_SECRET, algorithm="HS256")
    context.add_cookies([{**cookie, "value": expired}])
    page.goto(f"{live_server}/customers?tier=A")
    assert "/login?next=/customers%3Ftier%3DA" in page.url
    assert "Your session has ended" in page.inner_text("#signin-error")
    page.fill("#username", web_org.managers[0])
    page.fill("#password", PASSWORDS[Role.manager])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/customers?tier=A")
    assert page.locator("#tier").input_value() == "A"


@pytest.fixture
def rep_at_work_all_day(engine: Engine, web_org: WebOrg) -> Iterator[str]:
    """The first rep's working hours cover the whole week: a manager sees a rep's positions
    only inside their working hours (server/tracking/privacy.py), whenever the test runs."""
    rep_id = web_org.rep_ids[web_org.reps[0]]
    with Session(engine) as session, session.begin():
        user = session.get(User, rep_id)
        assert user is not None
        kept = user.working_hours
        user.working_hours = {day: [["00:00", "24:00"]] for day in WEEKDAYS}
    yield web_org.reps[0]
    with Session(engine) as session, session.begin():
        session.execute(update(User).where(User.id == rep_id).values(working_hours=kept))


def test_a_phones_position_moves_its_marker_within_two_seconds(
    context: Any, live_server: str, web_org: WebOrg, rep_at_work_all_day: str, web_shots
) -> None:
    rep_email = rep_at_work_all_day
    rep_id = str(web_org.rep_ids[rep_email])
    phone = bearer(live_server, rep_email, PASSWORDS[Role.rep])
    assert httpx.post(f"{live_server}/api/v1/tracking/workday/start", headers=phone).status_code == 200
    registered = httpx.post(
        f"{live_server}/api/v1/devices", headers=phone, json={"identifier": "web-journey-phone", "name": "Phone"}
    )
    assert registered.status_code in (201, 409), registered.text  # 409: registered by an earlier run
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager])
    page.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Live')")
    row = page.locator(f'tr[data-rep-id="{rep_id}"]')
    for lat in (45.7601, 45.7702):  # the first fix makes the marker; the second moves it
        sent = time.monotonic()
        report = httpx.post(
            f"{live_server}/api/v1/tracking/positions",
            headers=phone,
            json={
                "device": "web-journey-phone",
                "positions": [
                    {"time": datetime.now(UTC).isoformat(), "lat": lat, "lon": 4.85, "speed": 8.0, "battery": 71}
                ],
            },
        )
        assert report.status_code == 200 and report.json()["stored"] == 1, report.text
        page.wait_for_function(
            f"() => document.querySelector('tr[data-rep-id=\"{rep_id}\"]').dataset.lat === '{lat}'", timeout=2000
        )
        assert time.monotonic() - sent < 2.0
    marker = page.evaluate(f"() => window.ffLive.markers['{rep_id}'].getLatLng()")
    assert marker == {"lat": 45.7702, "lng": 4.85}
    assert row.locator(".status").inner_text() == "moving"
    assert row.locator(".battery").inner_text() == "71 %"
    page.screenshot(path=str(web_shots / "live-map-position.png"))
    httpx.post(f"{live_server}/api/v1/tracking/workday/end", headers=phone)


def test_a_kpi_drilled_down_to_a_reps_days_and_its_csv(
    context: Any, live_server: str, web_org: WebOrg, web_shots
) -> None:
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/kpis?report=plan-adherence")
    team_link = page.locator("table.figures tbody th a").first
    team_name = team_link.inner_text()
    team_link.click()
    page.wait_for_selector("#report-view h2:has-text('by rep')")
    rep_links = page.locator("table.figures tbody th a")
    assert rep_links.count() >= 2  # the team's reps
    rep_name = rep_links.first.inner_text()
    rep_links.first.click()
    page.wait_for_selector("#report-view h2:has-text('by rep and day')")
    assert set(page.locator("table.figures tbody th a").all_inner_texts()) == {rep_name}
    page.screenshot(path=str(web_shots / "kpis-rep-days.png"), full_page=True)
    with page.expect_download() as download_info:
        page.click("#csv")
    downloaded = Path(download_info.value.path()).read_bytes().decode()
    # The same figures as the API's, asked with a bearer token for the same period and rep.
    query = dict(pair.split("=", 1) for pair in page.url.split("?", 1)[1].split("&"))
    api = httpx.get(
        f"{live_server}/api/v1/reports/plan-adherence",
        params={**{k: v for k, v in query.items() if k != "report"}, "format": "csv"},
        headers=bearer(live_server, web_org.managers[0], PASSWORDS[Role.manager]),
    )
    assert api.status_code == 200 and downloaded == api.text
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert rows[-1]["team"] == "Total" and all(row["rep"] == rep_name and row["team"] == team_name for row in rows[:-1])

    # A bad period: the API's problem next to the field, and no report.
    page.fill("#start", "2026-11-30")
    page.fill("#end", "2026-11-01")
    page.click("#kpi-form button[type=submit]")
    page.wait_for_selector("#error-end")
    assert "INVALID_PERIOD" in page.inner_text("#error-end")


def _leaflet_point(page: Any, lat: float, lon: float) -> tuple[float, float]:
    point = page.evaluate(
        "([lat, lon]) => { const p = window.ffTerritories.map.latLngToContainerPoint([lat, lon]); "
        "const box = document.getElementById('map').getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }",
        [lat, lon],
    )
    return float(point[0]), float(point[1])


def test_a_territory_drawn_in_the_browser_takes_its_customers(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, web_shots
) -> None:
    with Session(engine) as session:
        located = session.execute(
            text(
                "SELECT ST_Y(location::geometry), ST_X(location::geometry) FROM customers "
                "WHERE org_id = :org AND location IS NOT NULL AND deleted_at IS NULL"
            ),
            {"org": web_org.org_id},
        ).all()
    lats, lons = [r[0] for r in located], [r[1] for r in located]
    # A box over the middle of the customers' area, across the seeded territories.
    south, north = min(lats) + 0.3 * (max(lats) - min(lats)), min(lats) + 0.7 * (max(lats) - min(lats))
    west, east = min(lons) + 0.3 * (max(lons) - min(lons)), min(lons) + 0.7 * (max(lons) - min(lons))
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/territories")
    page.wait_for_function("() => window.ffTerritories !== undefined")
    page.click('div[title="Draw Polygons"] a')
    for lat, lon in ((south, west), (south, east), (north, east), (north, west), (south, west)):
        x, y = _leaflet_point(page, lat, lon)
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
    page.screenshot(path=str(web_shots / "territory-drawing.png"))
    page.wait_for_selector("#new-territory:not([hidden])")
    page.fill("#territory-name", "Drawn in the browser")
    page.select_option("#territory-reps", index=0)
    page.click("#new-territory button[type=submit]")
    page.wait_for_selector("#selected h2:has-text('Drawn in the browser')")
    page.wait_for_selector("#territory-customers")
    shown = int(page.inner_text("#territory-customers").split()[0])
    page.screenshot(path=str(web_shots / "territory-drawn.png"))
    with Session(engine) as session:
        territory = session.scalar(
            select(Territory).where(Territory.org_id == web_org.org_id, Territory.name == "Drawn in the browser")
        )
        assert territory is not None
        moved = session.execute(
            text(
                "SELECT ST_Y(location::geometry), ST_X(location::geometry) FROM customers "
                "WHERE territory_id = :territory AND deleted_at IS NULL"
            ),
            {"territory": territory.id},
        ).all()
    # The page tells what the database holds: customers inside the drawing moved to it (those
    # inside a smaller territory stay there: the smallest area covering a customer wins).
    assert len(moved) == shown > 0
    assert all(south - 1e-4 < lat < north + 1e-4 and west - 1e-4 < lon < east + 1e-4 for lat, lon in moved)
    admin = bearer(live_server, web_org.admin, PASSWORDS[Role.admin])
    assert httpx.delete(f"{live_server}/api/v1/territories/{territory.id}", headers=admin).status_code == 204


def test_a_geojson_file_with_a_bad_feature_imports_nothing_and_says_which(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, tmp_path: Path, web_shots
) -> None:
    good = [[4.80, 45.70], [4.81, 45.70], [4.81, 45.71], [4.80, 45.71], [4.80, 45.70]]
    unclosed = [[4.82, 45.70], [4.83, 45.70], [4.83, 45.71], [4.82, 45.71]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "North"},
                "geometry": {"type": "Polygon", "coordinates": [good]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Broken"},
                "geometry": {"type": "Polygon", "coordinates": [unclosed]},
            },
        ],
    }
    upload = tmp_path / "territories.geojson"
    upload.write_text(json.dumps(collection))
    with Session(engine) as session:
        before = session.scalar(
            select(func.count()).where(Territory.org_id == web_org.org_id, Territory.deleted_at.is_(None))
        )
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/territories")
    page.set_input_files("#geojson-file", str(upload))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-problems li")
    problems = page.locator("#import-problems li").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("Feature 2, Broken: UNCLOSED_RING")
    assert "nothing was imported" in page.inner_text("#import .form-message")
    page.screenshot(path=str(web_shots / "territory-import-error.png"))
    with Session(engine) as session:
        after = session.scalar(
            select(func.count()).where(Territory.org_id == web_org.org_id, Territory.deleted_at.is_(None))
        )
    assert after == before


def test_a_rep_sees_only_what_a_rep_may(
    browser: Any, context: Any, live_server: str, web_org: WebOrg, web_shots
) -> None:
    rep_email = web_org.reps[0]
    page = context.new_page()
    sign_in(page, live_server, rep_email, PASSWORDS[Role.rep])
    nav = page.locator("header nav a").all_inner_texts()
    assert "Plans" not in nav and "Admin" not in nav and "My day" in nav
    rows = page.locator("table.reps tbody tr").count()
    assert rows == 1  # only themselves on the live map
    for path in ("/admin", "/plans"):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 403, path
        assert "for managers and admins" in page.inner_text("main")
    page.goto(f"{live_server}/kpis")
    assert page.locator("table.figures tbody tr").count() == 1
    page.goto(f"{live_server}/customers")
    shown = int(page.inner_text("#list-title").split()[0])
    phone = bearer(live_server, rep_email, PASSWORDS[Role.rep])
    visible, cursor = 0, None
    while True:
        listing = httpx.get(
            f"{live_server}/api/v1/customers",
            params={"limit": 500, **({"cursor": cursor} if cursor else {})},
            headers=phone,
        ).json()
        visible += len(listing["items"])
        cursor = listing["next_cursor"]
        if not cursor:
            break
    assert shown == visible
    page.screenshot(path=str(web_shots / "rep-customers.png"))
    cookies = context.cookies()
    for path in ("/", "/kpis", "/customers", f"/reps/{web_org.rep_ids[rep_email]}/day", "/exceptions"):
        assert axe_violations(browser, live_server, cookies, path) == [], path


def test_another_organisations_pages_are_not_found(context: Any, live_server: str, web_org: WebOrg, world) -> None:
    page = context.new_page()
    sign_in(page, live_server, web_org.admin, PASSWORDS[Role.admin])
    for path in (f"/customers/{W.c1}", f"/reps/{W.r1}/day", f"/customers/{uuid.uuid4()}"):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 404, path
        assert "not found" in page.inner_text("main").lower()


@pytest.fixture
def planning_worker(database_url: str) -> Any:
    from tests.server.planning.test_runs_http import _start_worker

    process = _start_worker(database_url)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except Exception:
        process.kill()


def test_a_planning_run_watched_reviewed_and_published(
    context: Any, live_server: str, web_org: WebOrg, planning_worker: Any, web_shots
) -> None:
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/plans")
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    page.select_option("#rep_ids", index=0)
    page.fill("#start_date", monday.isoformat())
    page.fill("#days", "1")
    page.fill("#time_limit_s", "2")
    page.click("#start-run button[type=submit]")
    page.wait_for_selector("#run-progress:not([hidden])")
    page.wait_for_function(
        "() => document.getElementById('progress-words').textContent.startsWith('succeeded')", timeout=90000
    )
    page.wait_for_selector("#review table")
    page.screenshot(path=str(web_shots / "plan-review.png"), full_page=True)
    stops = page.locator("#review table").first.locator("tbody tr").count()
    assert stops > 0
    page.click("#publish")
    page.wait_for_selector("a.route-link")
    assert page.inner_text("#publish-result").startswith("Published")
    page.click("a.route-link")
    page.wait_for_selector("tr[data-visit-id]")
    assert page.locator("tr[data-visit-id]").count() == stops
    page.screenshot(path=str(web_shots / "plan-published-route.png"))


def test_a_bad_value_in_a_form_is_shown_next_to_it_and_writes_nothing(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, web_shots
) -> None:
    page = context.new_page()
    sign_in(page, live_server, web_org.admin, PASSWORDS[Role.admin], "/admin")
    page.fill("#new-email", "not-an-email")
    page.fill("#new-name", "Nobody")
    page.fill("#new-password", "a-long-enough-password")
    page.click("#new-user button[type=submit]")
    page.wait_for_selector("#new-user .field-error")
    assert page.locator("#new-email").get_attribute("aria-invalid") == "true"
    assert "VALIDATION_FAILED" in page.inner_text("#error-email")
    page.screenshot(path=str(web_shots / "admin-bad-email.png"))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).where(User.full_name == "Nobody")) == 0
    # The settings form: a tile URL without its placeholders is the API's INVALID_TILE_URL.
    page.fill("#map_tile_url", "https://tiles.example.org/tile.png")
    page.click("#settings button[type=submit]")
    page.wait_for_selector("#settings .form-message.error")
    assert "INVALID_TILE_URL" in page.inner_text("#settings")


def test_the_organisations_tiles_are_drawn_from_its_own_server(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, web_shots
) -> None:
    """Tiles come from the URL in the organisation's settings (here a fake tile server: the
    tests never reach the internet), allowed by the page's Content-Security-Policy."""
    from tests.mobile.ui.fake_tiles import serving_tiles

    with serving_tiles() as tiles:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Organization)
                .where(Organization.id == web_org.org_id)
                .values(map_tile_url=tiles.url + "/{z}/{x}/{y}.png", map_attribution="Test tiles")
            )
        try:
            page = context.new_page()
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/territories")
            page.wait_for_function("() => document.querySelectorAll('img.leaflet-tile-loaded').length > 3")
            assert "Test tiles" in page.inner_text(".leaflet-control-attribution")
            page.screenshot(path=str(web_shots / "territories-over-tiles.png"))
        finally:
            with Session(engine) as session, session.begin():
                session.execute(update(Organization).where(Organization.id == web_org.org_id).values(map_tile_url=""))
        requested = list(tiles.requests)
    assert requested and all(path.endswith(".png") for path, _agent in requested)
    assert blocked == []


def test_exceptions_list_what_needs_a_managers_eye(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, web_shots
) -> None:
    rep_id = web_org.rep_ids[web_org.reps[1]]
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        customer = session.scalar(select(Customer).where(Customer.org_id == web_org.org_id).order_by(Customer.name))
        assert customer is not None
        missed = Visit(
            org_id=web_org.org_id,
            customer_id=customer.id,
            rep_id=rep_id,
            planned_start=now - timedelta(days=1),
            planned_end=now - timedelta(days=1) + timedelta(minutes=45),
            status=VisitStatus.missed,
        )
        away = Visit(
            org_id=web_org.org_id,
            customer_id=customer.id,
            rep_id=rep_id,
            planned_start=now - timedelta(days=2),
            status=VisitStatus.completed,
            check_in_at=now - timedelta(days=2),
            check_out_at=now - timedelta(days=2) + timedelta(minutes=20),
            verification_status=VerificationStatus.out_of_range,
            verification_distance_m=850.0,
        )
        conflict = SyncConflict(
            org_id=web_org.org_id,
            user_id=rep_id,
            entity="customer",
            entity_id=customer.id,
            field="phone",
            mutation={},
            reason="lost_to_later_edit",
        )
        session.add_all([missed, away, conflict])
    try:
        page = context.new_page()
        sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/exceptions")
        missed_rows = page.locator("section[aria-labelledby=missed-title] tbody tr").all_inner_texts()
        assert any(customer.name in row and "missed" in row for row in missed_rows)
        away_rows = page.locator("section[aria-labelledby=away-title] tbody tr").all_inner_texts()
        assert any(customer.name in row and "850 m" in row for row in away_rows)
        conflicts = page.locator("section[aria-labelledby=conflicts-title] tbody tr").all_inner_texts()
        assert any("customer.phone" in row and "lost to later edit" in row for row in conflicts)
        page.screenshot(path=str(web_shots / "exceptions.png"), full_page=True)
        # Another team's manager sees none of it (the org has one team: its admin sees it, a rep of
        # the team sees only their own rows).
        other = context.browser.new_context()
        try:
            rep_page = other.new_page()
            sign_in(rep_page, live_server, web_org.reps[0], PASSWORDS[Role.rep], "/exceptions")
            assert customer.name not in rep_page.inner_text("section[aria-labelledby=away-title]")
        finally:
            other.close()
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Visit).where(Visit.id.in_([missed.id, away.id])))
            session.execute(delete(SyncConflict).where(SyncConflict.id == conflict.id))


def test_an_admin_deactivates_a_user_and_removes_a_device(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine
) -> None:
    rep_id = web_org.rep_ids[web_org.reps[3]]
    phone = bearer(live_server, web_org.reps[3], PASSWORDS[Role.rep])
    device = httpx.post(f"{live_server}/api/v1/devices", headers=phone, json={"identifier": "old-phone", "name": "Old"})
    assert device.status_code in (201, 409)
    page = context.new_page()
    sign_in(page, live_server, web_org.admin, PASSWORDS[Role.admin], "/admin")
    try:
        page.click(f'tr[data-user-id="{rep_id}"] button')
        page.wait_for_selector(f'tr[data-user-id="{rep_id}"] button:has-text("Reactivate")')
        with Session(engine) as session:
            assert session.get(User, rep_id).active is False  # type: ignore[union-attr]
        row = page.locator("tr[data-device-id]", has_text="old-phone")
        row.locator("button").click()
        page.wait_for_function("() => !document.body.textContent.includes('old-phone')")
    finally:
        with Session(engine) as session, session.begin():
            session.execute(update(User).where(User.id == rep_id).values(active=True))


def test_customers_filtered_and_territories_balanced(
    context: Any, live_server: str, web_org: WebOrg, web_shots
) -> None:
    page = context.new_page()
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/customers")
    page.select_option("#tier", "A")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/customers?*tier=A*")
    tiers = page.locator("#customer-list tbody tr td:nth-child(2)").all_inner_texts()
    shown = int(page.inner_text("#list-title").split()[0])
    assert tiers and set(tiers) == {"A"} and shown == len(tiers)
    page.goto(f"{live_server}/territories")
    page.click("#balance button[type=submit]")
    page.wait_for_selector("#proposal table", timeout=60000)
    reps = page.locator("#proposal tbody tr").count()
    assert reps == len(web_org.reps)  # the manager's team, each with its workload before and after
    page.screenshot(path=str(web_shots / "territories-balance.png"))
    apply = page.locator("#apply")
    if apply.count():
        apply.click()
        page.wait_for_selector("#balance .form-message:has-text('Applied.')")


def test_a_rules_notification_is_read_on_the_web(
    context: Any, live_server: str, web_org: WebOrg, engine: Engine, web_shots
) -> None:
    """An admin's rule tells the manager about a new lead; the header counts it, the
    notifications page shows it, and marking it read clears the count."""
    manager_id = web_org.manager_ids[web_org.managers[0]]
    admin = bearer(live_server, web_org.admin, PASSWORDS[Role.admin])
    rule = httpx.post(
        f"{live_server}/api/v1/workflow-rules",
        headers=admin,
        json={
            "name": "Tell the manager",
            "trigger": "lead_created",
            "actions": [
                {"type": "notify", "recipients": [str(manager_id)], "title": "New lead: {name}", "body": "From {city}"}
            ],
        },
    )
    assert rule.status_code == 201, rule.text
    try:
        lead = httpx.post(
            f"{live_server}/api/v1/customers", headers=admin, json={"name": "Web Lead Bakery", "city": "Lyon"}
        )
        assert lead.status_code == 201, lead.text
        page = context.new_page()
        sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager], "/notifications?unread=true")
        count = page.locator('header nav a[href="/notifications"] .count')
        assert int(count.inner_text()) >= 1
        row = page.locator("table.inbox tr.unread", has_text="New lead: Web Lead Bakery")
        assert "From Lyon" in row.inner_text()
        page.screenshot(path=str(web_shots / "notifications.png"), full_page=True)
        unread_before = int(count.inner_text())
        row.locator("button").click()
        page.wait_for_function("() => !document.body.textContent.includes('New lead: Web Lead Bakery')")
        after = page.locator('header nav a[href="/notifications"] .count')
        assert (int(after.inner_text()) if after.count() else 0) == unread_before - 1
    finally:
        httpx.delete(f"{live_server}/api/v1/workflow-rules/{rule.json()['id']}", headers=admin)
