"""Absences reach the phones: a rep's own days off in their scope, the organisation's
holidays in the `organisation` scope, and never to an app built before schema 2;
orders (schema 3) with their customer.
(A pull serves committed changes only, so absences written during a test are
pulled in tests/server/planning/test_runs_http.py, on committed data.)"""

from __future__ import annotations

from typing import Any

from tests.server.world import WORLD as W


def pulled(client: Any, headers: dict[str, str], scope: str, schema_version: int | None) -> dict[str, str]:
    params: dict[str, Any] = {"scope": scope, "protocol": 1}
    if schema_version is not None:
        params["schema_version"] = schema_version
    response = client.get("/api/v1/sync/pull", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {record["id"]: record["entity"] for record in response.json()["records"]}


def test_a_rep_pulls_their_days_off_and_the_holidays(client, as_user) -> None:
    r1 = as_user("r1")
    assert "organisation" in client.get("/api/v1/sync/scopes", headers=r1).json()["scopes"]
    assert pulled(client, r1, f"user:{W.r1}", 2)[str(W.r1_day_off)] == "absence"
    assert pulled(client, r1, "organisation", 2) == {str(W.holiday_a): "absence"}
    # r1's manager receives them in r1's scope; another rep may not pull it
    assert pulled(client, as_user("m1"), f"user:{W.r1}", 2)[str(W.r1_day_off)] == "absence"
    other = client.get("/api/v1/sync/pull", params={"scope": f"user:{W.r1}", "protocol": 1}, headers=as_user("r3"))
    assert other.status_code == 403


def test_an_app_built_for_schema_1_is_never_sent_absences(client, as_user) -> None:
    r1 = as_user("r1")
    for schema_version in (None, 1):
        assert "absence" not in pulled(client, r1, f"user:{W.r1}", schema_version).values()
        assert pulled(client, r1, "organisation", schema_version) == {}
    too_new = client.get(
        "/api/v1/sync/pull", params={"scope": "organisation", "protocol": 1, "schema_version": 99}, headers=r1
    )
    assert too_new.status_code == 422


def test_orders_reach_an_app_built_for_schema_3_only(client, as_user) -> None:
    """Orders came with schema 3: read-only on the phone, with their customer's scope."""
    r1 = as_user("r1")
    order = str(W.child("order", W.c1))
    assert pulled(client, r1, f"territory:{W.t1}", 3)[order] == "order"
    assert order not in pulled(client, r1, f"territory:{W.t1}", 2)
    assert order not in pulled(client, r1, f"territory:{W.t1}", None)
