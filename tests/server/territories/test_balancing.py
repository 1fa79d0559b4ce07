"""Balancing: a proposal that evens reps' monthly workloads, then applied through the customer resource."""

from __future__ import annotations

from server.models import Customer
from tests.server.territories.shapes import territory_of
from tests.server.world import WORLD as W


def test_balance_proposal_then_apply(client, as_user, db):
    """r1 gets six more customers on t1's eastern edge: the proposal moves some to r2 (t2, next door),
    nothing changes until it is applied, and a stale proposal is refused."""
    import uuid as uuid_module

    for k in range(6):
        db.add(
            Customer(
                id=uuid_module.uuid4(),
                org_id=W.org_a,
                name=f"Edge {k}",
                territory_id=W.t1,
                location=f"SRID=4326;POINT({4.8095} {45.751 + 0.001 * k})",
            )
        )
    db.flush()
    proposal = client.post("/api/v1/territories/balance", json={"time_limit_s": 5}, headers=as_user("m1")).json()
    assert proposal["within_tolerance"], proposal
    before = {r["rep_id"]: r for r in proposal["reps"]}
    assert before[str(W.r1)]["customers_before"] == 7 and before[str(W.r2)]["customers_before"] == 1
    assert proposal["moves"] and {m["to_territory_id"] for m in proposal["moves"]} == {str(W.t2)}
    moved = [m["customer_id"] for m in proposal["moves"]]
    assert all(territory_of(db, uuid_module.UUID(c)) == W.t1 for c in moved)  # a proposal changes nothing
    body = {"moves": [{k: m[k] for k in ("customer_id", "to_territory_id", "row_version")} for m in proposal["moves"]]}
    assert client.post("/api/v1/territories/balance/apply", json=body, headers=as_user("m1")).json() == {
        "applied": len(moved)
    }
    assert all(territory_of(db, uuid_module.UUID(c)) == W.t2 for c in moved)
    stale = client.post("/api/v1/territories/balance/apply", json=body, headers=as_user("m1"))
    assert (stale.status_code, stale.json()["code"]) == (412, "ROW_VERSION_MISMATCH")
