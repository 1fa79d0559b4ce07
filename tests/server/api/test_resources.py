"""Behaviour shared by resources, and the rules each role lives by."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.models import Customer
from tests.server.world import WORLD as W


def test_rep_creates_a_lead_they_own_in_the_territory_containing_it(client, as_user, world):
    response = client.post(
        "/api/v1/customers",
        headers=as_user("r1"),
        json={"name": "Corner shop", "location": {"lat": 45.755, "lon": 4.805}, "phone": "04 72 12 34 56"},
    )
    assert response.status_code == 201, response.text
    lead = response.json()
    assert (lead["status"], lead["owner_id"], lead["territory_id"]) == ("lead", str(world.r1), str(world.t1))
    assert lead["phone"] == "+33472123456"
    assert response.headers["Location"] == f"/api/v1/customers/{lead['id']}"


def test_rep_cannot_set_manager_only_fields(client, as_user, world):
    for body in (
        {"name": "x", "tier": "A"},
        {"name": "x", "status": "customer"},
        {"name": "x", "territory_id": str(world.t1)},
    ):
        response = client.post("/api/v1/customers", headers=as_user("r1"), json=body)
        assert response.status_code == 403
        assert response.json()["code"] == "FIELD_NOT_ALLOWED"
    response = client.patch(f"/api/v1/customers/{world.c1}", headers=as_user("r1"), json={"owner_id": str(world.r1)})
    assert response.status_code == 403
    assert response.json()["fields"] == ["owner_id"]


def test_client_supplied_id_is_kept(client, as_user):
    chosen = "018f3f5e-1c2b-7a00-8000-000000000001"
    response = client.post("/api/v1/customers", headers=as_user("r1"), json={"id": chosen, "name": "Offline lead"})
    assert response.status_code == 201
    assert client.get(f"/api/v1/customers/{chosen}", headers=as_user("r1")).status_code == 200


def test_row_version_moves_and_if_match_guards_updates(client, as_user, world):
    url = f"/api/v1/customers/{world.c1}"
    before = client.get(url, headers=as_user("m1")).json()["row_version"]
    first = client.patch(url, headers={**as_user("m1"), "If-Match": f'"{before}"'}, json={"notes": "one"})
    assert first.status_code == 200
    assert first.json()["row_version"] == before + 1
    assert first.headers["ETag"] == f'"{before + 1}"'
    stale = client.patch(url, headers={**as_user("m1"), "If-Match": f'"{before}"'}, json={"notes": "two"})
    assert stale.status_code == 412
    assert stale.json()["code"] == "ROW_VERSION_MISMATCH"
    assert client.get(url, headers=as_user("m1")).json()["notes"] == "one"


def test_soft_delete_hides_but_keeps_the_row(client, as_user, db, world):
    assert client.delete(f"/api/v1/customers/{world.c2}", headers=as_user("m1")).status_code == 204
    assert client.get(f"/api/v1/customers/{world.c2}", headers=as_user("m1")).status_code == 404
    row = db.scalar(select(Customer).where(Customer.id == world.c2))
    assert row is not None and row.deleted_at is not None


def test_manager_cannot_assign_reps_or_territories_outside_the_team(client, as_user, world):
    response = client.patch(f"/api/v1/customers/{world.c1}", headers=as_user("m1"), json={"owner_id": str(world.r3)})
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REFERENCE"
    response = client.patch(
        f"/api/v1/customers/{world.c1}", headers=as_user("m1"), json={"territory_id": str(world.t3)}
    )
    assert response.status_code == 422


def test_rep_moves_tasks_forward_only(client, as_user, world):
    url = f"/api/v1/tasks/{world.child('task', world.c1)}"
    assert client.patch(url, headers=as_user("r1"), json={"status": "done"}).status_code == 200
    back = client.patch(url, headers=as_user("r1"), json={"status": "open"})
    assert back.status_code == 403
    assert back.json()["code"] == "STATUS_TRANSITION_FORBIDDEN"
    assert client.patch(url, headers=as_user("m1"), json={"status": "open"}).status_code == 200


def test_completed_visit_moves_last_visit_forward(client, as_user, world):
    response = client.post(
        "/api/v1/visits",
        headers=as_user("r1"),
        json={
            "customer_id": str(world.c1),
            "status": "completed",
            "check_in_at": "2026-11-20T09:00:00+01:00",
            "check_out_at": "2026-11-20T09:30:00+01:00",
            "check_in_location": {"lat": 45.755, "lon": 4.805},
        },
    )
    assert response.status_code == 201, response.text
    customer = client.get(f"/api/v1/customers/{world.c1}", headers=as_user("r1")).json()
    assert customer["last_visit_at"] == "2026-11-20T08:30:00Z"


def test_check_out_before_check_in_is_refused(client, as_user, world):
    response = client.post(
        "/api/v1/visits",
        headers=as_user("r1"),
        json={
            "customer_id": str(world.c1),
            "check_in_at": "2026-11-20T10:00:00Z",
            "check_out_at": "2026-11-20T09:00:00Z",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_TIME_RANGE"


def test_rep_visit_for_someone_else_is_refused(client, as_user, world):
    response = client.post(
        "/api/v1/visits", headers=as_user("r1"), json={"customer_id": str(world.c1), "rep_id": str(world.r2)}
    )
    assert response.status_code == 403


def test_filters_and_text_search(client, as_user, world):
    items = client.get("/api/v1/customers?q=2001", headers=as_user("admin_a")).json()["items"]
    assert [c["id"] for c in items] == [str(world.c1)]
    items = client.get(f"/api/v1/customers?territory_id={world.t2}", headers=as_user("admin_a")).json()["items"]
    assert [c["id"] for c in items] == [str(world.c2)]
    items = client.get("/api/v1/customers?q=%25", headers=as_user("admin_a")).json()["items"]
    assert items == []  # % is a literal, not a wildcard


def test_territory_geojson_round_trip_and_reps(client, as_user, world):
    area = {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [[4.9, 45.8], [4.92, 45.8], [4.92, 45.82], [4.9, 45.82], [4.9, 45.8]],
                [[4.905, 45.805], [4.906, 45.805], [4.906, 45.806], [4.905, 45.805]],
            ],
        ],
    }
    created = client.post(
        "/api/v1/territories",
        headers=as_user("m1"),
        json={"name": "East", "geometry": area, "rep_ids": [str(world.r1), str(world.r2)]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["geometry"]["type"] == "MultiPolygon"
    assert len(body["geometry"]["coordinates"][0]) == 2  # the hole survived
    assert sorted(body["rep_ids"]) == sorted([str(world.r1), str(world.r2)])
    assert client.get(f"/api/v1/territories/{body['id']}", headers=as_user("r2")).status_code == 200


def test_a_geojson_point_is_accepted_wherever_a_position_is(client, as_user):
    """{"lat", "lon"} or a GeoJSON Point ([lon, lat], RFC 7946): the same place either way."""
    point = {"type": "Point", "coordinates": [4.805, 45.755]}
    made = client.post("/api/v1/customers", json={"name": "GeoJSON shop", "location": point}, headers=as_user("m1"))
    assert made.status_code == 201, made.text
    assert made.json()["location"] == {"lat": 45.755, "lon": 4.805}
    assert made.json()["territory_id"] == str(W.t1)
    for bad in (
        {"type": "Point", "coordinates": [4.8]},
        {"type": "LineString", "coordinates": [[4.8, 45.7], [4.9, 45.8]]},
        {"type": "Point", "coordinates": [45.755, 200]},
    ):
        refused = client.post("/api/v1/customers", json={"name": "x", "location": bad}, headers=as_user("m1"))
        assert refused.status_code == 422, bad
    near = client.get(
        "/api/v1/customers/nearest", params={"lat": 45.755, "lon": 4.805, "limit": 1}, headers=as_user("m1")
    )
    assert near.status_code == 200


def test_list_pages_skip_validation_and_give_the_same_bytes(db, world):
    """List pages go straight from the resource's rows to JSON (router_factory.page_json): for
    every resource, as an admin and as a rep, the bytes are those the validated path gives."""
    from pydantic import TypeAdapter, create_model

    from server.absences.resources import absence_resource
    from server.access.actor import load_actor
    from server.api.router_factory import page_json
    from server.crm.resources import contact_resource, note_resource, opportunity_resource, order_resource
    from server.customers.resources import customer_resource
    from server.models import User
    from server.planning.resources import plan_resource
    from server.tasks.resources import task_resource
    from server.territories.resources import territory_resource
    from server.tracking.devices import device_resource
    from server.users.resources import user_resource
    from server.visits.resources import visit_resource

    specs = [
        absence_resource,
        contact_resource,
        note_resource,
        opportunity_resource,
        order_resource,
        customer_resource,
        plan_resource,
        task_resource,
        territory_resource,
        device_resource,
        user_resource,
        visit_resource,
    ]
    for who in (W.admin_a, W.r1):
        actor = load_actor(db, db.get(User, who))
        for spec in specs:
            page = spec.list_page(db, actor, spec.list_query())
            model = create_model("Page", items=(list[spec.read_schema], ...), next_cursor=(str | None, None))
            adapter: TypeAdapter[Any] = TypeAdapter(model)
            assert page_json(spec, page) == adapter.dump_json(adapter.validate_python(page)), spec.name
