"""Every page as a manager and as a rep: it renders, its scripts run without an error
(the Content-Security-Policy included), and axe-core finds nothing serious."""

from __future__ import annotations

from typing import Any

from shared.enums import Role
from tests.web.conftest import PASSWORDS, WebOrg, axe_violations, sign_in

MANAGER_PAGES = ["/", "/kpis", "/customers", "/territories", "/plans", "/exceptions", "/admin", "/notifications"]


def test_every_page_works_for_a_manager(
    browser: Any, context: Any, live_server: str, web_org: WebOrg, web_shots
) -> None:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    sign_in(page, live_server, web_org.managers[0], PASSWORDS[Role.manager])
    assert page.url == f"{live_server}/"
    rep_id = next(iter(web_org.rep_ids.values()))
    for path in [*MANAGER_PAGES, f"/reps/{rep_id}/day"]:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        name = "rep-day" if path.startswith("/reps/") else path.strip("/") or "live"
        page.screenshot(path=str(web_shots / f"manager-{name}.png"), full_page=True)
    assert not problems, problems
    assert axe_violations(browser, live_server, [], "/login") == []
    cookies = context.cookies()
    for path in [*MANAGER_PAGES, f"/reps/{rep_id}/day"]:
        assert axe_violations(browser, live_server, cookies, path) == [], path
