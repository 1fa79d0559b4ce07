from __future__ import annotations


def test_health_reports_database_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_rep_lists_only_their_territorys_customers(client, as_user, world):
    response = client.get("/api/v1/customers", headers=as_user("r1"))
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [str(world.c1)]
