"""A fixed visit (an appointment agreed with the customer) is set by a manager, or by the rep
on their own visits, over HTTP or from the phone; it is never nulled."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.sync.phone import mutation, now_hlc, push
from tests.server.world import WORLD as W

VISIT = W.child("visit", W.c1)  # r1's visit at c1


def test_a_new_visit_is_not_fixed_unless_said(client: Any, as_user: Any) -> None:
    body = {"customer_id": str(W.c1), "planned_start": "2026-12-03T10:00:00+01:00"}
    plain = client.post("/api/v1/visits", json=body, headers=as_user("r1")).json()
    agreed = client.post("/api/v1/visits", json={**body, "fixed": True}, headers=as_user("r1")).json()
    assert (plain["fixed"], agreed["fixed"]) == (False, True)


def test_the_rep_and_their_manager_fix_and_unfix_the_reps_visit(client: Any, as_user: Any) -> None:
    fixed = client.patch(f"/api/v1/visits/{VISIT}", json={"fixed": True}, headers=as_user("r1"))
    assert (fixed.status_code, fixed.json()["fixed"]) == (200, True)
    unfixed = client.patch(f"/api/v1/visits/{VISIT}", json={"fixed": False}, headers=as_user("m1"))
    assert (unfixed.status_code, unfixed.json()["fixed"]) == (200, False)
    other_team = client.patch(f"/api/v1/visits/{VISIT}", json={"fixed": True}, headers=as_user("m2"))
    assert other_team.status_code == 404  # m2 does not see r1's visits
    nulled = client.patch(f"/api/v1/visits/{VISIT}", json={"fixed": None}, headers=as_user("m1"))
    assert (nulled.status_code, nulled.json()["code"]) == (422, "INVALID_INPUT")


def test_a_phone_fixes_a_visit_and_the_server_keeps_it(client: Any, as_user: Any) -> None:
    [result] = push(
        client,
        as_user("r1"),
        str(uuid.uuid4()),
        [mutation(1, "update", "visit", VISIT, {"fixed": True}, hlc=now_hlc(), base_row_version=1)],
    )
    assert result["outcome"] == "applied", result
    assert client.get(f"/api/v1/visits/{VISIT}", headers=as_user("m1")).json()["fixed"] is True
