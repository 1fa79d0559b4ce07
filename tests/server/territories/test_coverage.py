"""Coverage of a territory: its customers by tier, the visits due and done in a period."""

from __future__ import annotations

from sqlalchemy import text

from tests.server.world import WORLD as W


def test_coverage_counts_customers_and_visits(client, as_user, db):
    db.execute(text("UPDATE customers SET tier = 'A', last_visit_at = NULL WHERE id = :c"), {"c": W.c1})
    db.execute(
        text("UPDATE visits SET status = 'completed', check_out_at = now() WHERE id = :v"),
        {"v": W.child("visit", W.c1)},
    )
    body = client.get(f"/api/v1/territories/{W.t1}/coverage", headers=as_user("m1")).json()
    assert body["customers"] == {"A": 1, "B": 0, "C": 0}
    assert body["visits_due"]["A"] == 1
    assert body["customers_visited"]["A"] == 1


# ---- balancing -------------------------------------------------------------------------------
