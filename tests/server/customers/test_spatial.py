"""nearest, bbox and radius filters agree with brute force over a seeded city."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from server.access.credentials import AccessClaims, create_access_token
from server.models import Customer, User
from server.seed.demo import SeedOptions, seed_demo
from shared.enums import Role
from shared.geo import haversine_m
from tests.server.conftest import TEST_SECRET


@pytest.fixture
def seeded(db) -> dict[str, Any]:
    """A 600-customer demo organisation (inside the test's transaction) and its admin's token."""
    report = seed_demo(db, SeedOptions(reps=6, customers=600, seed=7, today=date(2026, 11, 2), slug="spatial"))
    db.flush()
    admin = db.scalar(select(User).where(User.org_id == report.org_id, User.role == Role.admin))
    token = create_access_token(AccessClaims(admin.id, report.org_id, Role.admin, 0), TEST_SECRET, 15)
    rows = db.execute(select(Customer.id, Customer.location).where(Customer.org_id == report.org_id)).all()
    from server.geo import point_out

    points = {str(cid): point_out(loc) for cid, loc in rows}
    return {"headers": {"Authorization": f"Bearer {token}"}, "points": points}


def all_pages(client, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in url else "?"
        page = client.get(f"{url}{sep}limit=500" + (f"&cursor={cursor}" if cursor else ""), headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("probe", range(5))
def test_nearest_matches_brute_force_haversine(client, seeded, probe):
    """The k nearest by the API are the k nearest by haversine, in order, with the same distances."""
    rng = random.Random(probe)
    lat, lon = 45.764 + rng.uniform(-0.05, 0.05), 4.8357 + rng.uniform(-0.07, 0.07)
    response = client.get(f"/api/v1/customers/nearest?lat={lat}&lon={lon}&limit=20", headers=seeded["headers"])
    assert response.status_code == 200
    got = response.json()["items"]
    expected = sorted((haversine_m(lat, lon, p["lat"], p["lon"]), cid) for cid, p in seeded["points"].items())[:20]
    assert [round(item["distance_m"], 3) for item in got] == pytest.approx([round(d, 3) for d, _ in expected], abs=0.01)
    # Same customers; only ties at the 20th distance may differ.
    cutoff = expected[-1][0] - 0.01
    assert {item["customer"]["id"] for item in got if item["distance_m"] < cutoff} == {
        cid for d, cid in expected if d < cutoff
    }


def test_bbox_matches_brute_force(client, seeded):
    box = (4.80, 45.74, 4.86, 45.78)
    got = {c["id"] for c in all_pages(client, "/api/v1/customers?bbox=" + ",".join(map(str, box)), seeded["headers"])}
    expected = {
        cid for cid, p in seeded["points"].items() if box[0] <= p["lon"] <= box[2] and box[1] <= p["lat"] <= box[3]
    }
    assert expected  # the box is not empty
    assert got == expected


def test_radius_matches_brute_force(client, seeded):
    lat, lon, radius = 45.764, 4.8357, 1500.0
    got = {
        c["id"] for c in all_pages(client, f"/api/v1/customers?near={lat},{lon}&radius_m={radius}", seeded["headers"])
    }
    expected = {cid for cid, p in seeded["points"].items() if haversine_m(lat, lon, p["lat"], p["lon"]) <= radius}
    # Points within a millimetre of the edge may fall either way.
    borderline = {
        cid for cid, p in seeded["points"].items() if abs(haversine_m(lat, lon, p["lat"], p["lon"]) - radius) < 0.001
    }
    assert expected
    assert got ^ expected <= borderline


def test_pagination_returns_every_customer_once(client, seeded):
    items = all_pages(client, "/api/v1/customers", seeded["headers"])
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids)) == len(seeded["points"])
