"""The dashboard's security rules that need no browser: the policy's image sources, the
redirect after sign-in staying on this site, and the API's answer to a cookie."""

from __future__ import annotations

import httpx
import pytest

from server.web.context import csp, safe_next


@pytest.mark.parametrize(
    ("tile_url", "allowed"),
    [
        ("", "img-src 'self' data: blob:"),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "img-src 'self' data: blob: https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "img-src 'self' data: blob: https://*.tile.example.org"),
        ("http://127.0.0.1:5555/{z}/{x}/{y}.png", "img-src 'self' data: blob: http://127.0.0.1:5555"),
    ],
)
def test_images_come_from_the_app_and_the_organisations_tile_server_only(tile_url: str, allowed: str) -> None:
    policy = csp(tile_url).split("; ")
    assert allowed in policy
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/kpis?start=2026-01-01", "/kpis?start=2026-01-01"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_sign_in_only_a_page_of_this_site(asked: str | None, sent_to: str) -> None:
    assert safe_next(asked) == sent_to


def test_a_forged_or_missing_session_cookie_is_a_401_problem(live_server: str) -> None:
    for cookies in ({}, {"ff_session": "forged"}):
        response = httpx.get(f"{live_server}/api/v1/reports", cookies=cookies)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
    page = httpx.get(f"{live_server}/kpis", headers={"Accept": "text/html"}, cookies={"ff_session": "forged"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/kpis&expired=1"
    assert 'ff_session=""' in page.headers.get("set-cookie", "")  # the bad cookie is dropped
