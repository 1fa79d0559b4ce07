"""Territories from GeoJSON: each kind of bad area has its code, imports are all or nothing,
overlaps are reported, and customers follow the shapes (in the same transaction)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text

from server.models import SyncChange, Territory
from tests.server.territories.shapes import collection, feature, polygon, square, territory_of
from tests.server.world import WORLD as W

VALID = {
    "simple": polygon(square(5.0, 45.0)),
    "with a hole": polygon(square(5.0, 45.0, 0.1), square(5.02, 45.02, 0.02)),
    "multipolygon": {"type": "MultiPolygon", "coordinates": [[square(5.0, 45.0)], [square(5.2, 45.0)]]},
    "cut at the antimeridian": {
        "type": "MultiPolygon",
        "coordinates": [
            [[[179.5, -17.0], [180.0, -17.0], [180.0, -16.5], [179.5, -16.5], [179.5, -17.0]]],
            [[[-180.0, -17.0], [-179.5, -17.0], [-179.5, -16.5], [-180.0, -16.5], [-180.0, -17.0]]],
        ],
    },
}

INVALID = {
    "bow-tie": (polygon([[5.0, 45.0], [5.01, 45.01], [5.01, 45.0], [5.0, 45.01], [5.0, 45.0]]), "SELF_INTERSECTION"),
    "unclosed ring": (polygon(square(5.0, 45.0)[:-1]), "UNCLOSED_RING"),
    # Sydney with [lat, lon]: a latitude of 151 cannot be (Lyon swapped would still be a place on Earth)
    "swapped coordinates": (polygon([[lat, lon] for lon, lat in square(151.2, -33.9)]), "COORDINATES_OUT_OF_RANGE"),
    "hole outside its shell": (polygon(square(5.0, 45.0), square(6.0, 46.0)), "HOLE_OUTSIDE_SHELL"),
    "across the antimeridian, not cut": (
        polygon([[179.5, -17.0], [-179.5, -17.0], [-179.5, -16.5], [179.5, -16.5], [179.5, -17.0]]),
        "ANTIMERIDIAN_CROSSING",
    ),
    "a point": ({"type": "Point", "coordinates": [5.0, 45.0]}, "UNSUPPORTED_GEOMETRY"),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_areas_import(client, as_user, name):
    response = client.post(
        "/api/v1/territories/import", json=collection(feature(name, VALID[name])), headers=as_user("admin_a")
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["created"]) == 1


@pytest.mark.parametrize("name", INVALID)
def test_each_invalid_area_has_its_code_and_nothing_is_imported(client, as_user, db, name):
    geometry, code = INVALID[name]
    before = db.scalar(select(text("count(*)")).select_from(Territory))
    body = collection(feature("fine", VALID["simple"]), feature(name, geometry))
    response = client.post("/api/v1/territories/import", json=body, headers=as_user("admin_a"))
    assert (response.status_code, response.json()["code"]) == (422, "IMPORT_FAILED")
    assert [(e["index"], e["code"]) for e in response.json()["errors"]] == [(1, code)]
    assert db.scalar(select(text("count(*)")).select_from(Territory)) == before
    # the same check on the plain create
    single = client.post("/api/v1/territories", json={"name": name, "geometry": geometry}, headers=as_user("admin_a"))
    if geometry["type"] != "Point":  # a Point is refused by the schema itself
        assert (single.status_code, single.json()["code"]) == (422, code)


def test_swapped_coordinates_say_so(client, as_user):
    geometry, _ = INVALID["swapped coordinates"]
    response = client.post(
        "/api/v1/territories/import", json=collection(feature("x", geometry)), headers=as_user("admin_a")
    )
    assert "swapped" in response.json()["errors"][0]["detail"]


def test_winding_is_normalised_and_export_round_trips(client, as_user):
    clockwise = polygon(square(5.0, 45.0, clockwise=True), square(5.002, 45.002, 0.002))
    created = client.post(
        "/api/v1/territories/import", json=collection(feature("Wound", clockwise)), headers=as_user("admin_a")
    ).json()["created"][0]
    exported = client.get("/api/v1/territories/export", headers=as_user("admin_a")).json()
    assert exported["type"] == "FeatureCollection"
    mine = next(f for f in exported["features"] if f["id"] == created)
    shell, hole = mine["geometry"]["coordinates"][0]

    def signed_area(ring: list[list[float]]) -> float:
        return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring)) / 2

    assert signed_area(shell) > 0 and signed_area(hole) < 0  # RFC 7946: exterior CCW, holes CW
    again = client.post(
        "/api/v1/territories/import", json=collection(feature("Again", mine["geometry"])), headers=as_user("admin_a")
    )
    assert again.status_code == 201


def test_overlaps_are_reported_in_square_metres(client, as_user):
    body = collection(feature("West", polygon(square(5.0, 45.0))), feature("East", polygon(square(5.005, 45.0))))
    overlaps = client.post("/api/v1/territories/import", json=body, headers=as_user("admin_a")).json()["overlaps"]
    assert len(overlaps) == 1
    # half of a 0.01° square at 45°N: about 0.005 * 78,850 m by 0.01 * 111,130 m
    assert overlaps[0]["area_m2"] == pytest.approx(0.005 * 78_850 * 0.01 * 111_130, rel=0.01)


# ---- assignment by containment ---------------------------------------------------------------


def test_reshaping_a_territory_moves_customers_and_logs_the_move(client, as_user, db):
    """c1 sits in t1; when t1 moves away, c1 has no territory (revoked from t1's scope) until it comes back."""
    assert territory_of(db, W.c1) == W.t1
    elsewhere = polygon(square(4.80, 45.80))  # t1 moves away from c1 (4.805, 45.755)
    response = client.patch(f"/api/v1/territories/{W.t1}", json={"geometry": elsewhere}, headers=as_user("admin_a"))
    assert response.status_code == 200
    assert territory_of(db, W.c1) is None
    kinds = list(
        db.scalars(select(SyncChange.kind).where(SyncChange.entity_id == W.c1, SyncChange.scope == f"territory:{W.t1}"))
    )
    assert kinds[-1] == "revoke"
    unassigned = client.get("/api/v1/territories/unassigned-customers", headers=as_user("admin_a")).json()["items"]
    assert str(W.c1) in [item["id"] for item in unassigned]
    # back again: the customer returns to t1
    client.patch(
        f"/api/v1/territories/{W.t1}", json={"geometry": polygon(square(4.80, 45.75))}, headers=as_user("admin_a")
    )
    assert territory_of(db, W.c1) == W.t1


def test_a_smaller_new_territory_takes_the_customers_it_covers(client, as_user, db):
    small = polygon(square(4.804, 45.754, 0.002))
    created = client.post(
        "/api/v1/territories/import", json=collection(feature("Block", small)), headers=as_user("admin_a")
    ).json()["created"][0]
    assert str(territory_of(db, W.c1)) == created
    client.delete(f"/api/v1/territories/{created}", headers=as_user("admin_a"))
    assert territory_of(db, W.c1) == W.t1  # deleting it hands the customer back


def test_names_from_other_tools_properties_and_which_was_used(client, as_user, db):
    """QGIS exports NAME, uMap title, others an id only; the caller may name the property."""

    def shaped(lon: float, properties: dict, ident: object = None) -> dict:
        made: dict[str, object] = {"type": "Feature", "properties": properties, "geometry": polygon(square(lon, 45.0))}
        if ident is not None:
            made["id"] = ident
        return made

    body = collection(
        shaped(5.0, {"name": "By name"}),
        shaped(5.2, {"NAME": "From QGIS"}),
        shaped(5.4, {"title": "From uMap"}),
        shaped(5.6, {"territory": "From a CRM"}),
        shaped(5.8, {"fill": "#f00"}, ident="north-7"),
    )
    response = client.post("/api/v1/territories/import", json=body, headers=as_user("admin_a"))
    assert response.status_code == 201, response.text
    assert response.json()["names_from"] == {"name": 1, "NAME": 1, "title": 1, "territory": 1, "id": 1}
    names = set(db.scalars(select(Territory.name).where(Territory.id.in_(response.json()["created"]))))
    assert names == {"By name", "From QGIS", "From uMap", "From a CRM", "north-7"}

    named = collection(shaped(6.0, {"SECTEUR": "Secteur 12", "title": "ignored"}))
    chosen = client.post("/api/v1/territories/import?name_property=SECTEUR", json=named, headers=as_user("admin_a"))
    assert chosen.status_code == 201 and chosen.json()["names_from"] == {"SECTEUR": 1}

    nameless = collection(shaped(6.2, {"fill": "#00f"}))
    refused = client.post("/api/v1/territories/import", json=nameless, headers=as_user("admin_a"))
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["code"] == "MISSING_NAME" and "name_property" in error["detail"]
