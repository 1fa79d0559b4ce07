"""Pull pages, compaction and the horizon metric on committed data; the invariant checks can fail."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.models import SyncChange
from server.sync.maintenance import compact
from shared.sync.protocol import ENTITY_ORDER, Entity
from tests.e2e.sync.harness import (
    WebEditor,
    assert_converged,
    assert_every_write_accounted,
    bearer,
    make_device,
)


def test_pages_are_capped_and_parents_come_first(sync_server, org):
    scope = f"territory:{org.territories[0]}"
    cursor, pages, seen = None, 0, []
    while True:
        params = {"scope": scope, "protocol": 1, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{sync_server}/api/v1/sync/pull", params=params, headers=bearer(org, org.reps[0])).json()
        ranks = [ENTITY_ORDER[Entity(r["entity"])] for r in page["records"]]
        assert ranks == sorted(ranks), "a child came before its parent within a page"
        assert len(page["records"]) <= 4
        seen += [r["id"] for r in page["records"]]
        pages += 1
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert pages >= 2
    assert len(set(seen)) == 6  # 3 customers and their 3 contacts


def test_compaction_keeps_tombstones_and_devices_still_converge(sync_server, engine, org, tmp_path):
    web = WebEditor(sync_server, org, org.manager)
    customers = org.customers[org.territories[0]]
    for n in range(5):
        web.patch("customers", customers[0], notes=f"edit {n}")
    contact = None
    with Session(engine) as session:
        contact = session.scalar(text("SELECT id FROM contacts WHERE customer_id = :c"), {"c": customers[1]})
    web.patch("contacts", contact, role="buyer")
    web.delete("contacts", contact)
    web.close()
    with Session(engine) as session:
        before = session.scalar(select(text("count(*)")).select_from(SyncChange).where(SyncChange.org_id == org.id))
    # Only rows superseded below the horizon go; another transaction in the cluster may
    # hold the horizon back for a moment, so compact until the edits are behind it.
    deleted, deadline = 0, time.monotonic() + 10
    while deleted < 5 and time.monotonic() < deadline:
        with Session(engine) as session, session.begin():
            deleted += compact(session)["changes_deleted"]
        time.sleep(0.1)
    with Session(engine) as session:
        after = session.scalar(select(text("count(*)")).select_from(SyncChange).where(SyncChange.org_id == org.id))
        kinds = list(session.scalars(select(SyncChange.kind).where(SyncChange.entity_id == contact)))
    counts = {"changes_deleted": deleted}
    assert counts["changes_deleted"] >= 5 and after < before
    assert kinds == ["delete"]
    device = make_device(sync_server, tmp_path, "fresh", org, org.reps[0])
    try:
        device.sync()
        assert device.store.get(Entity.contact, str(contact)) is None
        assert device.store.get(Entity.customer, str(customers[0]))["notes"] == "edit 4"
        assert_converged(engine, org, device)
    finally:
        device.close()


def test_status_reports_the_horizon(sync_server, org):
    status = httpx.get(f"{sync_server}/api/v1/sync/status", headers=bearer(org, org.admin)).json()
    assert set(status) == {"horizon_lag_xids", "oldest_writer_seconds", "change_rows", "clients"}
    assert status["change_rows"] > 0


def test_the_convergence_check_catches_a_divergent_device(devices, engine, org):
    """The invariant checks are not vacuous: a device that missed a change fails them."""
    rep = devices["rep0"]
    rep.sync()
    assert_converged(engine, org, rep)
    customer = str(org.customers[org.territories[0]][0])
    with rep.store.transaction() as db:
        db.execute("UPDATE customers SET row_version = row_version - 1 WHERE id = ?", (customer,))
    with pytest.raises(AssertionError, match=r"exists only on the device|server"):
        assert_converged(engine, org, rep)
    with rep.store.transaction() as db:
        db.execute("UPDATE customers SET row_version = row_version + 1 WHERE id = ?", (customer,))
        db.execute(
            "INSERT INTO customers (id, row_version, server, local) VALUES (?, 7, '{}', '{}')", (str(uuid.uuid4()),)
        )
    with pytest.raises(AssertionError, match="outside its scopes"):
        assert_converged(engine, org, rep)


def test_the_accounting_check_catches_a_lost_answer(devices, engine, org):
    rep = devices["rep0"]
    rep.sync()
    rep.app.edit_customer(str(org.customers[org.territories[0]][0]), notes="accounted")
    rep.sync()
    assert_every_write_accounted(engine, [rep])
    with Session(engine) as session, session.begin():
        session.execute(
            text("DELETE FROM sync_mutation_results WHERE client_id = :c"), {"c": uuid.UUID(rep.store.client_id)}
        )
    with pytest.raises(AssertionError, match="no server answer"):
        assert_every_write_accounted(engine, [rep])
