"""Every scenario of SYNC.md, end to end: real server, real PostGIS, real SQLite clients."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from mobile.core.store import LocalStore
from server.db import libpq_url
from server.models import Contact, Customer, SyncClient, SyncConflict, SyncRejection, Task, Visit
from shared.sync.hlc import wall_clock_ms
from shared.sync.protocol import Entity, Mutation, MutationType, payload_hash
from tests.e2e.sync.harness import (
    ManualClock,
    SyncOrg,
    WebEditor,
    assert_converged,
    assert_every_write_accounted,
    bearer,
    make_device,
    sync_until_quiet,
)


def first_customer(org: SyncOrg, rep_index: int = 0) -> str:
    return str(org.customers[org.territories[rep_index]][0])


def server_customer(engine: Engine, customer_id: str) -> Customer:
    with Session(engine) as session:
        customer = session.get(Customer, uuid.UUID(customer_id))
        assert customer is not None
        session.expunge(customer)
        return customer


def raw_push(base_url: str, org: SyncOrg, user: uuid.UUID, client_id: str, mutations: list[Mutation]) -> httpx.Response:
    body = {
        "protocol": 1,
        "schema_version": 1,
        "app_version": "test",
        "client_id": client_id,
        "mutations": [dataclasses.asdict(m) for m in mutations],
    }
    return httpx.post(f"{base_url}/api/v1/sync/push", json=body, headers=bearer(org, user), timeout=30)


def mutation(
    mid: int, kind: str, entity: str, entity_id: str, data: dict, base: int | None = None, hlc: int = 1 << 40
) -> Mutation:
    return Mutation(mid, hlc, kind, entity, entity_id, data, base, payload_hash(kind, entity, entity_id, base, data))


def test_first_sync_brings_territory_and_personal_scopes(devices, engine, org):
    """A fresh device pulls its territory's customers with their records, and its own visits and tasks."""
    rep = devices["rep0"]
    rep.sync()
    assert rep.store.count(Entity.customer) == 3
    assert rep.store.count(Entity.contact) == 3
    assert rep.store.count(Entity.task) == 3
    assert len(rep.app.today_visits()) == 3
    assert_converged(engine, org, rep)


def test_lost_push_response_is_retried_and_applied_once(devices, engine, org):
    """The server commits, the answer is lost: the automatic retry gets the stored answer (duplicate)."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    note_id = rep.app.add_note(customer, "Met the buyer")
    rep.transport.add("/sync/push", "drop_response")
    report = rep.sync()
    assert ("drop_response", "/api/v1/sync/push") in rep.transport.injected
    assert report.attempts == 2
    assert [r.outcome for r in report.results] == ["duplicate"]
    assert report.results[0].original_outcome == "applied"
    with Session(engine) as session:
        count = session.scalar(text("SELECT count(*) FROM notes WHERE id = :id"), {"id": note_id})
    assert count == 1
    assert_converged(engine, org, rep)


def test_mutation_gap_is_refused_then_fixed(devices, engine, org, sync_server):
    """A mid past last_mid + 1 gets 409 MUTATION_GAP and nothing applies; the client renumbers and converges."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    client_id = rep.store.client_id
    response = raw_push(
        sync_server, org, rep.user, client_id, [mutation(3, "update", "customer", customer, {"notes": "gap"}, base=1)]
    )
    assert response.status_code == 409
    assert response.json()["code"] == "MUTATION_GAP"
    assert response.json()["expected_mid"] == 1
    assert server_customer(engine, customer).notes is None
    # The device lost its counter (restored settings): its next mids start past the gap.
    rep.store.set_state("next_mid", "7")
    rep.app.edit_customer(customer, notes="after the gap")
    report = rep.sync()
    assert [r.mid for r in report.results] == [1]
    assert server_customer(engine, customer).notes == "after the gap"
    assert_converged(engine, org, rep)


def test_poison_mutation_is_stored_and_the_queue_moves_on(devices, engine, org):
    """A permanently bad mutation is rejected and stored with its payload; the others apply."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    rep.app.edit_customer(customer, notes="first")
    rep.store.record_mutation(
        MutationType.update, Entity.customer, customer, {"email": "not-an-email"}, rep.client.next_hlc()
    )
    rep.app.edit_customer(customer, website="https://example.com")
    report = rep.sync()
    assert [r.outcome for r in report.results] == ["applied", "rejected", "applied"]
    assert report.results[1].code == "VALIDATION_FAILED" and report.results[1].fields == ["email"]
    stored = server_customer(engine, customer)
    assert (stored.notes, stored.website) == ("first", "https://example.com")
    with Session(engine) as session:
        rejection = session.scalar(select(SyncRejection).where(SyncRejection.entity_id == uuid.UUID(customer)))
        assert rejection is not None and rejection.mutation["data"] == {"email": "not-an-email"}
        assert session.get(SyncClient, uuid.UUID(rep.store.client_id)).last_mid == 3
    assert [item["outcome"] for item in rep.app.review_items()] == ["rejected"]
    assert_converged(engine, org, rep)
    assert_every_write_accounted(engine, [rep])


def test_late_commit_during_a_pull_is_never_skipped(devices, engine, org, database_url):
    """A transaction that started first but commits last delays the pull; its change still arrives."""
    rep = devices["rep0"]
    rep.sync()
    early, late = org.customers[org.territories[0]][:2]
    slow = psycopg.connect(libpq_url(database_url))
    try:
        slow.execute("UPDATE customers SET notes = 'early writer' WHERE id = %s", (early,))  # takes its xid now
        with psycopg.connect(libpq_url(database_url), autocommit=True) as fast:
            fast.execute("UPDATE customers SET notes = 'late writer' WHERE id = %s", (late,))
        rep.sync()
        # The late writer committed, but it is above the horizon the open transaction holds.
        assert rep.store.get(Entity.customer, str(late))["notes"] is None
        slow.commit()
    finally:
        slow.close()
    rep.sync()
    assert rep.store.get(Entity.customer, str(early))["notes"] == "early writer"
    assert rep.store.get(Entity.customer, str(late))["notes"] == "late writer"
    assert_converged(engine, org, rep)


def test_concurrent_writers_while_a_client_pages(devices, engine, org, sync_server):
    """Pages of 2 while a web editor keeps writing: the device still converges."""
    rep = devices["rep0"]
    rep.client.page_limit = 2
    editor = WebEditor(sync_server, org, org.manager)
    stop = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            for customer in org.customers[org.territories[0]]:
                editor.patch("customers", customer, notes=f"edit {n}")
                n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        for _ in range(5):
            rep.sync()
    finally:
        stop.set()
        writer.join()
        editor.close()
    sync_until_quiet([rep])
    assert_converged(engine, org, rep)


def test_own_write_echo_and_quick_delete(devices, engine, org):
    """A contact created and deleted before a sync ends deleted everywhere; an echo of an own edit
    never hides a newer pending edit."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    lead = rep.app.add_contact(customer, "Temporary buyer", phone="04 78 00 00 00")
    rep.app.delete_contact(lead)
    rep.app.edit_customer(customer, notes="v1")
    rep.client.push_all()
    rep.app.edit_customer(customer, notes="v2")  # pending while the echo of v1 arrives
    rep.client.pull_all()
    assert rep.store.get(Entity.customer, customer)["notes"] == "v2"
    assert rep.store.get(Entity.contact, lead) is None
    rep.sync()
    with Session(engine) as session:
        assert session.get(Contact, uuid.UUID(lead)).deleted_at is not None
    assert rep.store.get(Entity.contact, lead) is None
    assert server_customer(engine, customer).notes == "v2"
    assert_converged(engine, org, rep)


def test_scope_isolation_and_foreign_client_id(devices, engine, org, sync_server):
    """Another rep's territory is refused, a client_id bound to someone else is refused, and an edit
    of a customer outside the caller's scope is quarantined, not applied."""
    rep0, rep1 = devices["rep0"], devices["rep1"]
    rep0.sync()
    rep0.app.edit_customer(first_customer(org), notes="binds the client_id to rep0")
    rep0.sync()
    rep1.sync()
    other_scope = f"territory:{org.territories[1]}"
    response = httpx.get(
        f"{sync_server}/api/v1/sync/pull", params={"scope": other_scope, "protocol": 1}, headers=bearer(org, rep0.user)
    )
    assert (response.status_code, response.json()["code"]) == (403, "SCOPE_FORBIDDEN")
    stolen = raw_push(sync_server, org, rep1.user, rep0.store.client_id, [])
    assert (stolen.status_code, stolen.json()["code"]) == (403, "CLIENT_ID_FOREIGN")
    foreign_customer = first_customer(org, 1)
    rep0.store.record_mutation(
        MutationType.update, Entity.customer, foreign_customer, {"notes": "not mine"}, rep0.client.next_hlc()
    )
    report = rep0.sync()
    assert [(r.outcome, r.code) for r in report.results] == [("quarantined", "OUT_OF_SCOPE")]
    assert server_customer(engine, foreign_customer).notes is None
    assert rep0.store.get(Entity.customer, foreign_customer) is None
    for device in (rep0, rep1):
        assert_converged(engine, org, device)


def test_two_clients_edit_different_fields_and_both_are_kept(devices, engine, org):
    rep, manager = devices["rep0"], devices["manager"]
    sync_until_quiet([rep, manager])
    customer = first_customer(org)
    rep.app.edit_customer(customer, phone="+33478112233")
    manager.app.edit_customer(customer, website="https://bakery.example")
    manager.sync()
    report = rep.sync()
    assert [r.outcome for r in report.results] == ["applied"]
    stored = server_customer(engine, customer)
    assert (stored.phone, stored.website) == ("+33478112233", "https://bakery.example")
    sync_until_quiet([rep, manager])
    for device in (rep, manager):
        assert_converged(engine, org, device)


def test_same_field_the_later_edit_wins_even_when_it_arrives_first(sync_server, tmp_path, engine, org):
    """Two offline edits of one field: the later HLC wins whatever the arrival order; the loser is logged."""
    base = wall_clock_ms() - 600_000  # both edits ten minutes ago, a minute apart
    early_clock, late_clock = ManualClock(base), ManualClock(base + 60_000)
    early = make_device(sync_server, tmp_path, "early", org, org.reps[0], clock=early_clock)
    late = make_device(sync_server, tmp_path, "late", org, org.manager, clock=late_clock)
    try:
        sync_until_quiet([early, late])
        customer = first_customer(org)
        early.app.edit_customer(customer, notes="written at 10:00")
        late.app.edit_customer(customer, notes="written at 10:01")
        late.sync()
        report = early.sync()
        assert [r.outcome for r in report.results] == ["applied_with_conflicts"]
        assert report.results[0].fields == ["notes"]
        assert server_customer(engine, customer).notes == "written at 10:01"
        with Session(engine) as session:
            conflict = session.scalar(select(SyncConflict).where(SyncConflict.entity_id == uuid.UUID(customer)))
            assert conflict is not None and conflict.reason == "lost_to_later_edit"
            assert conflict.lost_value == {"notes": "written at 10:00"}
            assert conflict.kept_value == {"notes": "written at 10:01"}
        sync_until_quiet([early, late])
        assert_converged(engine, org, early)
        assert_every_write_accounted(engine, [early, late])
    finally:
        early.close()
        late.close()


def test_clock_turned_back_between_own_edits(sync_server, tmp_path, engine, org):
    """The device clock jumps an hour back between two edits of one field: the second still wins."""
    clock = ManualClock()
    rep = make_device(sync_server, tmp_path, "rewound", org, org.reps[0], clock=clock)
    try:
        rep.sync()
        customer = first_customer(org)
        rep.app.edit_customer(customer, notes="first")
        rep.sync()  # the first edit is applied with the original clock
        clock.advance(-3_600_000)
        rep.app.edit_customer(customer, notes="second, after the clock went back")
        report = rep.sync()
        assert [(r.outcome, r.clock_skew_clamped) for r in report.results] == [("applied", False)]
        assert server_customer(engine, customer).notes == "second, after the clock went back"
        assert_converged(engine, org, rep)
    finally:
        rep.close()


def test_a_clock_far_ahead_is_clamped(sync_server, tmp_path, engine, org):
    """A device a day ahead cannot win every merge for a day: its HLC is clamped and it is told."""
    ahead = make_device(
        sync_server, tmp_path, "ahead", org, org.reps[0], clock=ManualClock(wall_clock_ms() + 86_400_000)
    )
    web = WebEditor(sync_server, org, org.manager)
    try:
        ahead.sync()
        customer = first_customer(org)
        ahead.app.edit_customer(customer, notes="from the future")
        report = ahead.sync()
        assert [(r.outcome, r.clock_skew_clamped) for r in report.results] == [("applied", True)]
        web.patch("customers", customer, notes="a minute later, on the web")
        ahead.sync()
        assert ahead.store.get(Entity.customer, customer)["notes"] == "a minute later, on the web"
    finally:
        ahead.close()
        web.close()


def test_duplicate_visit_resend_and_id_collision(devices, engine, org, sync_server):
    """The same visit sent again (another mid) is a duplicate_entity; other content under its id is refused."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    now = datetime.now(UTC)
    visit_id = rep.app.log_visit(customer, check_in=(45.71, 4.81, now), check_out=(45.71, 4.81, now), outcome="order")
    rep.sync()
    assert rep.store.pending() == []
    sent = {
        "customer_id": customer,
        "status": "completed",
        "check_in_at": now.isoformat(),
        "check_in_location": {"lat": 45.71, "lon": 4.81},
        "check_out_at": now.isoformat(),
        "check_out_location": {"lat": 45.71, "lon": 4.81},
        "outcome": "order",
    }
    again = rep.store.record_mutation(MutationType.insert, Entity.visit, visit_id, sent, rep.client.next_hlc())
    collision = rep.store.record_mutation(
        MutationType.insert, Entity.visit, visit_id, {**sent, "outcome": "other"}, rep.client.next_hlc()
    )
    report = rep.sync()
    outcomes = {r.mid: (r.outcome, r.code) for r in report.results}
    assert outcomes[again] == ("duplicate_entity", None)
    assert outcomes[collision] == ("rejected", "ID_COLLISION")
    with Session(engine) as session:
        assert session.scalar(select(text("count(*)")).select_from(Visit).where(Visit.id == uuid.UUID(visit_id))) == 1
    assert_converged(engine, org, rep)


def test_server_delete_wins_over_an_offline_edit(devices, engine, org, sync_server):
    """A manager deletes on the web while a rep edits offline: the delete wins, the edit is kept for review."""
    rep = devices["rep0"]
    rep.sync()
    customer = first_customer(org)
    rep.app.edit_customer(customer, notes="edited offline")
    editor = WebEditor(sync_server, org, org.manager)
    editor.delete("customers", customer)
    editor.close()
    report = rep.sync()
    assert [r.outcome for r in report.results] == ["applied_to_tombstone"]
    stored = server_customer(engine, customer)
    assert stored.deleted_at is not None and stored.notes is None
    with Session(engine) as session:
        conflict = session.scalar(select(SyncConflict).where(SyncConflict.entity_id == uuid.UUID(customer)))
        assert conflict is not None and conflict.reason == "edited_after_delete"
        assert conflict.lost_value == {"notes": "edited offline"}
    assert rep.store.get(Entity.customer, customer) is None  # not resurrected
    assert rep.store.get(Entity.customer, customer, include_deleted=True) is not None
    assert_converged(engine, org, rep)


def test_customer_moved_to_another_territory_while_both_reps_are_offline(devices, engine, org, sync_server):
    """The move revokes the customer (and its records) from the old territory and grants them to the new one."""
    rep0, rep1 = devices["rep0"], devices["rep1"]
    sync_until_quiet([rep0, rep1])
    customer = first_customer(org, 0)
    rep0.app.edit_customer(customer, notes="rep0 offline edit")
    rep1.app.edit_customer(first_customer(org, 1), notes="rep1 offline edit")
    editor = WebEditor(sync_server, org, org.manager)
    editor.patch("customers", customer, territory_id=str(org.territories[1]))
    editor.close()
    report0 = rep0.sync()
    rep1.sync()
    assert [(r.outcome, r.code) for r in report0.results] == [("quarantined", "OUT_OF_SCOPE")]
    assert rep0.store.get(Entity.customer, customer) is None
    assert rep0.store.query(Entity.contact, "customer_id = ?", (customer,)) == []
    assert rep1.store.get(Entity.customer, customer) is not None
    assert len(rep1.store.query(Entity.contact, "customer_id = ?", (customer,))) == 1
    with Session(engine) as session:
        kept = session.scalar(select(SyncRejection).where(SyncRejection.entity_id == uuid.UUID(customer)))
        assert kept is not None and kept.mutation["data"] == {"notes": "rep0 offline edit"}
    for device in (rep0, rep1):
        assert_converged(engine, org, device)
    assert_every_write_accounted(engine, [rep0, rep1])


def test_task_status_lattice_and_reopen(devices, engine, org, sync_server):
    """A rep's done beats a stale in_progress; after a manager reopens, the rep's old-generation edit loses."""
    rep = devices["rep0"]
    rep.sync()
    task = rep.store.query(Entity.task)[0]["id"]
    rep.app.complete_task(task)
    rep.sync()
    editor = WebEditor(sync_server, org, org.manager)
    editor.patch("tasks", task, status="open")  # reopen: a new generation
    editor.close()
    rep.store.record_mutation(
        MutationType.update, Entity.task, task, {"status": "in_progress", "generation": 0}, rep.client.next_hlc()
    )
    report = rep.sync()
    assert [r.outcome for r in report.results] == ["applied_with_conflicts"]
    with Session(engine) as session:
        stored = session.get(Task, uuid.UUID(task))
        assert (stored.status, stored.generation) == ("open", 1)
    rep.app.complete_task(task)  # names generation 1 now
    rep.sync()
    with Session(engine) as session:
        assert session.get(Task, uuid.UUID(task)).status == "done"
    assert_converged(engine, org, rep)


def test_tags_are_an_add_remove_set(devices, engine, org):
    rep, manager = devices["rep0"], devices["manager"]
    sync_until_quiet([rep, manager])
    customer = first_customer(org)
    rep.app.tag_customer(customer, add=["vip"], remove=["new"])
    manager.app.tag_customer(customer, add=["north"])
    rep.sync()
    manager.sync()
    assert sorted(server_customer(engine, customer).tags) == ["north", "vip"]
    sync_until_quiet([rep, manager])
    assert_converged(engine, org, rep)


def test_restored_device_gets_a_new_client_id(sync_server, tmp_path, engine, org):
    """Two installs share a client_id (a backup restored on a new phone): the second gets
    CLIENT_ID_CONFLICT, takes a new client_id and its edits still apply once."""
    original = make_device(sync_server, tmp_path, "original", org, org.reps[0])
    clone = make_device(sync_server, tmp_path, "clone", org, org.reps[0])
    try:
        original.sync()
        clone.sync()
        clone.store.set_state("client_id", original.store.client_id)
        customer = first_customer(org)
        original.app.edit_customer(customer, notes="from the original")
        original.sync()
        clone.app.edit_customer(customer, website="https://clone.example")
        clone.sync()
        assert clone.store.client_id != original.store.client_id
        stored = server_customer(engine, customer)
        assert (stored.notes, stored.website) == ("from the original", "https://clone.example")
        sync_until_quiet([original, clone])
        assert_converged(engine, org, clone)
    finally:
        original.close()
        clone.close()


def test_unsupported_protocol_gets_426_and_the_device_keeps_everything(devices, org, sync_server):
    rep = devices["rep0"]
    rep.sync()
    rep.app.edit_customer(first_customer(org), notes="kept")
    rep.client.protocol = 0
    from mobile.core.sync_client import UpgradeRequired

    with pytest.raises(UpgradeRequired):
        rep.sync()
    assert rep.store.pending_count() == 1
    assert rep.store.get(Entity.customer, first_customer(org))["notes"] == "kept"


def test_transient_errors_back_off_and_retry_by_themselves(devices, engine, org):
    """503s and refused connections are retried with backoff, without a new local write."""
    rep = devices["rep0"]
    rep.sync()
    rep.app.edit_customer(first_customer(org), notes="eventually")
    rep.transport.add("/sync/push", "unavailable", times=2)
    rep.transport.add("/sync/scopes", "refuse")
    report = rep.sync()
    assert report.attempts == 4
    assert server_customer(engine, first_customer(org)).notes == "eventually"
    assert_converged(engine, org, rep)


def test_refresh_token_is_used_when_the_access_token_expires(sync_server, tmp_path, engine, org):
    rep = make_device(sync_server, tmp_path, "login", org, org.reps[0])
    try:
        rep.client.login(org.emails[org.reps[0]], "sync-harness-password")
        rep.store.set_state("access_token", "expired.token.value")
        rep.sync()
        assert rep.store.count(Entity.customer) == 3
    finally:
        rep.close()


def test_plans_are_read_only_for_reps(devices, engine, org):
    from datetime import date

    from server.models import Plan

    rep = devices["rep0"]
    with Session(engine) as session, session.begin():
        session.add(Plan(id=uuid.uuid4(), org_id=org.id, rep_id=org.reps[0], plan_date=date.today(), stops=[]))
    rep.sync()
    plans = rep.store.query(Entity.plan)
    assert len(plans) == 1
    rep.store.record_mutation(
        MutationType.update, Entity.plan, plans[0]["id"], {"distance_m": 1.0}, rep.client.next_hlc()
    )
    report = rep.sync()
    assert [(r.outcome, r.code) for r in report.results] == [("rejected", "ROLE_FORBIDDEN")]
    assert_converged(engine, org, rep)


def test_a_week_offline_with_10000_pending_mutations(sync_server, tmp_path, engine, org):
    """10,000 edits queued offline all push and converge, with the client's memory bounded."""
    from tests.e2e.sync.harness import measure_peak_memory

    rep = make_device(sync_server, tmp_path, "week", org, org.reps[0])
    try:
        rep.sync()
        customers = [str(c) for c in org.customers[org.territories[0]]]
        for n in range(10_000):
            rep.app.edit_customer(customers[n % len(customers)], notes=f"day {n // 2000}, edit {n}")
        assert rep.store.pending_count() == 10_000
        began = time.perf_counter()
        report, peak = measure_peak_memory(rep.sync)
        elapsed = time.perf_counter() - began
        assert report.pushed == 10_000
        assert rep.store.pending_count() == 0
        assert peak < 100 * 1024 * 1024, f"client peak {peak / 1e6:.0f} MB"
        print(f"10,000 mutations converged in {elapsed:.1f} s, client peak {peak / 1e6:.1f} MB")
        for n, customer in enumerate(customers):
            last = max(k for k in range(10_000) if k % len(customers) == n)
            assert server_customer(engine, customer).notes == f"day {last // 2000}, edit {last}"
        assert_converged(engine, org, rep)
    finally:
        rep.close()


def test_store_migrates_step_by_step(tmp_path):
    """An empty file becomes the current schema; reopening runs nothing again and keeps the data."""
    from mobile.core.store import SCHEMA_STEPS

    path = tmp_path / "phone.sqlite"
    store = LocalStore(path)
    assert store.schema_version == len(SCHEMA_STEPS)
    store.set_state("client_id", "kept")
    store.close()
    again = LocalStore(path)
    assert again.schema_version == len(SCHEMA_STEPS)
    assert again.get_state("client_id") == "kept"
    again.close()
