"""A rep skips a visit (status `skipped`, the reason in the outcome); their manager sees it."""

from __future__ import annotations

from tests.server.world import WORLD as W


def test_a_skipped_visit_is_accepted_and_listed_for_the_manager(client, as_user) -> None:
    visit_id = W.child("visit", W.c1)
    skipped = client.patch(
        f"/api/v1/visits/{visit_id}",
        json={"status": "skipped", "outcome": "closed for inventory"},
        headers=as_user("r1"),
    )
    assert skipped.status_code == 200, skipped.text
    listed = client.get("/api/v1/visits", params={"status": "skipped"}, headers=as_user("m1")).json()["items"]
    assert [(v["id"], v["outcome"]) for v in listed] == [(str(visit_id), "closed for inventory")]
    assert client.get("/api/v1/visits", params={"status": "skipped"}, headers=as_user("m2")).json()["items"] == []
