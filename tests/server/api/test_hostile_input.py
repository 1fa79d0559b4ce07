"""Input that used to end in a 500 (issue 20): each is now a 4xx problem with a stable code,
and writes nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from server.models import Customer

PROBLEM = "application/problem+json"


def customer_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Customer))


def problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/customers?q=a%00b", {}),
        ("POST", "/api/v1/customers", {"content": '{"name": "a\\u0000b"}'}),
        (
            "POST",
            "/api/v1/notes",
            {"content": '{"customer_id": "00000000-0000-0000-0000-000000000000", "body": "\\u0000"}'},
        ),
        ("POST", "/api/v1/sync/push", {"content": '{"client_id": "x\\u0000", "mutations": []}'}),
        ("GET", "/api/v1/tracking/osmand?id=phone%00&lat=45&lon=4", {}),
        ("GET", "/api/v1/customers/%00", {}),
    ],
)
def test_a_nul_character_anywhere_is_a_422(client, as_user, db, method: str, path: str, kwargs: dict) -> None:
    before = customer_count(db)
    headers = {**as_user("m1"), "Content-Type": "application/json"}
    problem(client.request(method, path, headers=headers, **kwargs), 422, "NUL_CHARACTER")
    assert customer_count(db) == before


def test_a_nul_in_a_login_form_is_a_422_not_a_500(client) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "a\x00b@example.org", "password": "x"})
    problem(response, 422, "NUL_CHARACTER")


def test_an_uploaded_file_may_hold_nul_bytes(client, as_user) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    sha = hashlib.sha256(photo).hexdigest()
    response = client.put(
        f"/api/v1/files/{sha}",
        content=photo,
        headers={
            **as_user("r1"),
            "Content-Type": "image/png",
            "Content-Range": f"bytes 0-{len(photo) - 1}/{len(photo)}",
        },
    )
    assert response.status_code in (200, 201), response.text


def test_a_date_beyond_the_calendar_is_a_422(client, as_user) -> None:
    response = client.get(
        "/api/v1/reports/kpis", params={"start": "9999-12-31", "end": "9999-12-31"}, headers=as_user("m1")
    )
    problem(response, 422, "VALUE_OUT_OF_RANGE")


def test_an_integer_beyond_its_column_is_a_422_and_writes_nothing(client, as_user, db) -> None:
    before = customer_count(db)
    response = client.post(
        "/api/v1/customers",
        json={"name": "Too long a visit", "service_minutes": 3_000_000_000},
        headers=as_user("admin_a"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("VALUE_OUT_OF_RANGE", "VALIDATION_FAILED")
    assert customer_count(db) == before


def test_deeply_nested_json_in_a_hand_parsed_body_is_a_422(client, as_user) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/tracking/positions",
        content=body,
        headers={**as_user("r1"), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def test_a_number_thousands_of_digits_long_is_a_4xx(client, as_user) -> None:
    body = json.dumps({"device": "r1-phone", "positions": []})[:-1] + ', "extra": ' + "9" * 5000 + "}"
    response = client.post(
        "/api/v1/tracking/positions",
        content=body,
        headers={**as_user("r1"), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
