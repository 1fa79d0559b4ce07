"""The phone's store without a server: a write and its outbox entry are one, pulled
rows only move forward, pending edits stay on top of pulled rows, and a store
written by an older app version opens in the new one with nothing lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mobile.core.field_work import FieldWork
from mobile.core.store import SCHEMA_STEPS, LocalStore, StorageFull
from shared.sync.protocol import Entity, MutationType

DATA = Path(__file__).parent / "data"
CLIENT = "00000000-0000-0000-0000-0000000000c1"
SCOPE = "territory:00000000-0000-0000-0000-0000000000f1"
CUSTOMER = "00000000-0000-0000-0000-00000000c001"
TASK = "00000000-0000-0000-0000-00000000d001"


def customer_page(row_version: int, **fields: object) -> dict[str, object]:
    data = {"id": CUSTOMER, "name": "Boulangerie Martin", "location": {"lat": 45.76, "lon": 4.84}, **fields}
    record = {"entity": "customer", "id": CUSTOMER, "kind": "upsert", "row_version": row_version, "data": data}
    return {"scope": SCOPE, "cursor": f"c{row_version}", "last_mid": None, "records": [record]}


def fresh_store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store.sqlite")
    store.set_state("client_id", CLIENT)
    store.set_scopes([SCOPE])
    return store


def test_a_local_edit_is_shown_and_queued_together(tmp_path: Path) -> None:
    """The screen never shows an edit that is not queued, nor queues one it does not show."""
    store = fresh_store(tmp_path)
    store.apply_page(customer_page(2, phone="+33478000001"), CLIENT)
    mid = store.record_mutation(MutationType.update, Entity.customer, CUSTOMER, {"phone": "+33478000009"}, 1 << 40)
    assert (mid, store.pending_count()) == (1, 1)
    assert store.get(Entity.customer, CUSTOMER)["phone"] == "+33478000009"  # type: ignore[index]
    [entry] = store.pending()
    assert (entry.entity, entry.entity_id, entry.base_row_version, entry.data) == (
        "customer",
        CUSTOMER,
        2,
        {"phone": "+33478000009"},
    )


def test_pulled_rows_never_move_back_and_pending_edits_stay_on_top(tmp_path: Path) -> None:
    store = fresh_store(tmp_path)
    store.apply_page(customer_page(5, name="Newer"), CLIENT)
    store.apply_page(customer_page(4, name="Older"), CLIENT)  # a late, repeated delivery
    assert store.row_version(Entity.customer, CUSTOMER) == 5
    assert store.get(Entity.customer, CUSTOMER)["name"] == "Newer"  # type: ignore[index]
    store.record_mutation(MutationType.update, Entity.customer, CUSTOMER, {"name": "Mine"}, 1 << 40)
    store.apply_page(customer_page(6, name="Server"), CLIENT)
    assert store.get(Entity.customer, CUSTOMER)["name"] == "Mine"  # type: ignore[index]  # the rep's pending edit, until it is pushed


def test_a_revoked_scope_takes_its_rows_away(tmp_path: Path) -> None:
    store = fresh_store(tmp_path)
    store.apply_page(customer_page(1), CLIENT)
    revoke = {"entity": "customer", "id": CUSTOMER, "kind": "revoke", "row_version": 2, "data": None}
    store.apply_page({"scope": SCOPE, "cursor": "c2", "last_mid": None, "records": [revoke]}, CLIENT)
    assert store.get(Entity.customer, CUSTOMER) is None


def test_a_store_of_schema_version_1_opens_with_its_rows_and_outbox(tmp_path: Path) -> None:
    """`data/store-v1.sqlite` was written by the app at schema version 1 (a customer and a
    task pulled, two edits pending). Each later schema step must carry it forward."""
    copy = tmp_path / "store-v1.sqlite"
    shutil.copy(DATA / "store-v1.sqlite", copy)
    store = LocalStore(copy)
    assert store.schema_version == len(SCHEMA_STEPS)
    assert store.client_id == CLIENT
    assert store.get(Entity.customer, CUSTOMER)["phone"] == "+33478000002"  # type: ignore[index]
    assert [(e.mid, e.entity) for e in store.pending()] == [(1, "customer"), (2, "task")]
    work = FieldWork(store, lambda: 1 << 40)
    assert work.customer_detail(CUSTOMER)["open_tasks"] == []  # type: ignore[index]  # done, pending
    assert store.get(Entity.task, TASK)["status"] == "done"  # type: ignore[index]
    # Schema 2 brought absences: their table, and every scope pulled again from the start
    # (the server never sent a schema-1 store the absences it now receives).
    assert store.query(Entity.absence) == []
    assert set(store.cursors().values()) <= {None}


def test_field_work_completes_a_task_offline(tmp_path: Path) -> None:
    """The screens' API writes through the store: the task reads done at once and one mutation waits."""
    store = fresh_store(tmp_path)
    store.set_state("user_id", "00000000-0000-0000-0000-0000000000a1")
    task = {
        "id": TASK,
        "customer_id": CUSTOMER,
        "title": "Call",
        "status": "open",
        "due_at": "2026-12-03T09:00:00+00:00",
    }
    record = {"entity": "task", "id": TASK, "kind": "upsert", "row_version": 1, "data": task}
    store.apply_page({"scope": SCOPE, "cursor": "t1", "last_mid": None, "records": [record]}, CLIENT)
    work = FieldWork(store, lambda: 1 << 40)
    work.complete_task(TASK)
    assert store.get(Entity.task, TASK)["status"] == "done"  # type: ignore[index]
    assert work.pending_changes() == 1


def test_a_full_storage_refuses_the_whole_write_and_keeps_everything_before(tmp_path: Path) -> None:
    """SQLite's own size limit stands in for a full disk: it fails the same way (SQLITE_FULL)."""
    store = fresh_store(tmp_path)
    hlc = iter(range(1 << 40, 1 << 41, 1 << 16))
    work = FieldWork(store, lambda: next(hlc))
    lead = work.create_lead("Boulangerie Martin")
    work.add_note(lead, "first")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageFull):
        for _ in range(100):
            work.add_note(lead, "x" * 4000)
    notes, pending = len(store.query(Entity.note)), store.pending_count()
    assert pending == notes + 1  # every note shown is queued, and none half-written
    # The store stays usable: reads work, and writes do once there is room again.
    assert store.get(Entity.customer, lead) is not None
    store._db.execute("PRAGMA max_page_count = 1000000")
    work.add_note(lead, "after")
    assert (len(store.query(Entity.note)), store.pending_count()) == (notes + 1, pending + 1)
