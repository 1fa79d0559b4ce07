"""Bad input gets a clear 4xx problem document with a stable code, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import Customer

PROBLEM = "application/problem+json"


def customer_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "x", "location": {"lat": 91, "lon": 4}}', "body.location.lat"),
        ('{"name": "x", "location": {"lat": 45, "lon": 181}}', "body.location.lon"),
        ('{"name": "x", "location": {"lat": NaN, "lon": 4}}', "body.location.lat"),
        ('{"name": "x", "location": {"lat": 45, "lon": Infinity}}', "body.location.lon"),
        ('{"name": "x", "status": "vip"}', "body.status"),
        ('{"name": "x", "territory_id": "not-a-uuid"}', "body.territory_id"),
        ('{"name": ""}', "body.name"),
        ('{"name": "x", "colour": "red"}', "body.colour"),
        ('{"name": "x", "visit_windows": {"mon": [["12:00", "09:00"]]}}', "body.visit_windows"),
    ],
)
def test_invalid_customer_fields_are_422_with_the_field_named(client, as_user, db, body, field):
    before = customer_count(db)
    response = client.post(
        "/api/v1/customers", content=body, headers={**as_user("admin_a"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert field in [e["field"] for e in problem["errors"]]
    assert customer_count(db) == before


def test_malformed_json_is_422(client, as_user, db):
    before = customer_count(db)
    response = client.post(
        "/api/v1/customers", content='{"name": ', headers={**as_user("admin_a"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert customer_count(db) == before


def test_wrong_content_type_is_415(client, as_user, db):
    before = customer_count(db)
    response = client.post(
        "/api/v1/customers",
        content="name=x",
        headers={**as_user("admin_a"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert customer_count(db) == before


def test_body_over_one_mebibyte_is_413(client, as_user, db):
    before = customer_count(db)
    big = '{"name": "x", "notes": "' + "a" * (1024 * 1024) + '"}'
    response = client.post(
        "/api/v1/customers", content=big, headers={**as_user("admin_a"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert customer_count(db) == before


def test_body_over_limit_without_content_length_is_413(client, as_user, db):
    def chunks():
        yield b'{"name": "x", "notes": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/customers", content=chunks(), headers={**as_user("admin_a"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_malformed_uuid_in_path_is_422(client, as_user):
    response = client.get("/api/v1/customers/12345", headers=as_user("admin_a"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.item_id"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("bbox=1,2,3", "INVALID_BBOX"),
        ("bbox=4.9,45,4.8,46", "INVALID_BBOX"),
        ("bbox=4,91,5,92", "INVALID_BBOX"),
        ("near=45.7,4.8", "INVALID_NEAR"),
        ("near=95,4.8&radius_m=100", "INVALID_NEAR"),
        ("near=abc,4.8&radius_m=100", "INVALID_NEAR"),
        ("radius_m=-5&near=45,4", "VALIDATION_FAILED"),
        ("status=vip", "VALIDATION_FAILED"),
        ("limit=0", "VALIDATION_FAILED"),
        ("limit=100000", "VALIDATION_FAILED"),
        ("cursor=!!notbase64!!", "INVALID_CURSOR"),
        ("unknown_filter=1", "VALIDATION_FAILED"),
    ],
)
def test_bad_list_parameters_are_4xx(client, as_user, query, code):
    response = client.get(f"/api/v1/customers?{query}", headers=as_user("admin_a"))
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "query", ["lat=91&lon=4", "lat=45&lon=-181", "lat=nan&lon=4", "lat=45", "lat=45&lon=4&limit=0"]
)
def test_bad_nearest_parameters_are_422(client, as_user, query):
    response = client.get(f"/api/v1/customers/nearest?{query}", headers=as_user("admin_a"))
    assert response.status_code == 422


def test_invalid_phone_is_422_and_writes_nothing(client, as_user, db, world):
    response = client.patch(
        f"/api/v1/customers/{world.c1}", json={"phone": "call me maybe"}, headers=as_user("admin_a")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_PHONE"
    assert db.get(Customer, world.c1).phone is None


def test_self_intersecting_territory_is_422(client, as_user):
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client.post("/api/v1/territories", json={"name": "Bow", "geometry": bow_tie}, headers=as_user("admin_a"))
    assert response.status_code == 422
    assert response.json()["code"] == "SELF_INTERSECTION"


def test_unclosed_ring_is_422(client, as_user):
    ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    response = client.post("/api/v1/territories", json={"name": "Open", "geometry": ring}, headers=as_user("admin_a"))
    assert (response.status_code, response.json()["code"]) == (422, "UNCLOSED_RING")


def test_duplicate_client_id_is_409(client, as_user, world):
    response = client.post("/api/v1/customers", json={"id": str(world.c1), "name": "Again"}, headers=as_user("admin_a"))
    assert response.status_code == 409
    assert response.json()["code"] == "ID_CONFLICT"


def test_duplicate_email_is_409(client, as_user, world):
    response = client.post(
        "/api/v1/users",
        headers=as_user("admin_a"),
        json={"email": world.email("r1"), "password": "long-enough-pw", "role": "rep"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "CONSTRAINT_VIOLATION"


def test_unknown_route_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
