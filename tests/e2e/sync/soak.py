"""The randomized soak: several devices, random edits, offline periods and faults.

`run_soak` is shared by the test suite (short budget) and `bench/sync_soak.py`
(long budget). Every run prints its seed; the same seed replays the same
choices (timings of the server may still differ).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mobile.core.sync_client import SyncError
from server.models import Contact, Customer
from shared.sync.protocol import Entity
from tests.e2e.sync.harness import (
    Device,
    SyncOrg,
    WebEditor,
    assert_converged,
    assert_every_write_accounted,
    build_org,
    make_device,
    measure_peak_memory,
    random_phone,
    sync_until_quiet,
)


@dataclass
class SoakReport:
    seed: int
    clients: int
    operations: int
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)
    faults: int = 0
    peak_client_bytes: int = 0

    def summary(self) -> str:
        top = ", ".join(f"{name} {count}" for name, count in self.counts.most_common())
        return (
            f"soak seed={self.seed}: {self.clients} clients, {self.operations} operations in {self.seconds:.1f} s, "
            f"{self.faults} injected faults, client peak {self.peak_client_bytes / 1e6:.1f} MB; {top}"
        )


def run_soak(
    base_url: str,
    engine: Engine,
    directory: Path,
    *,
    clients: int = 5,
    operations: int = 2_000,
    seed: int | None = None,
    fault_rate: float = 0.15,
    log: bool = True,
) -> SoakReport:
    seed = random.randrange(1 << 30) if seed is None else seed
    if log:
        print(f"soak seed={seed} (replay with SYNC_SOAK_SEED={seed})", flush=True)
    rng = random.Random(seed)
    org = build_org(engine, reps=clients - 1, customers_per_territory=6)
    devices = [make_device(base_url, directory, f"rep{k}", org, rep) for k, rep in enumerate(org.reps)]
    devices.append(make_device(base_url, directory, "manager", org, org.manager))
    web = WebEditor(base_url, org, org.manager)
    online = {device.name: True for device in devices}
    report = SoakReport(seed, clients, operations, 0.0)
    deleted_by_server: set[tuple[Entity, str]] = set()
    began = time.perf_counter()
    try:
        for device in devices:
            device.sync()
        for _ in range(operations):
            device = rng.choice(devices)
            roll = rng.random()
            if roll < 0.05:
                online[device.name] = not online[device.name]
                report.counts["offline toggle"] += 1
            elif roll < 0.20:
                if online[device.name]:
                    report.faults += _inject_faults(rng, device, fault_rate)
                    try:
                        device.sync()
                        report.counts["sync"] += 1
                    except SyncError:
                        report.counts["sync gave up (retried later)"] += 1
            elif roll < 0.24:
                report.counts[_web_edit(rng, org, web, engine, deleted_by_server)] += 1
            else:
                report.counts[_device_edit(rng, device)] += 1
        for device in devices:
            device.transport.faults.clear()
        sync_until_quiet(devices, rounds=3)
        for device in devices:
            _, peak = measure_peak_memory(device.sync)
            report.peak_client_bytes = max(report.peak_client_bytes, peak)
        report.seconds = time.perf_counter() - began
        for device in devices:
            assert_converged(engine, org, device)
        assert_every_write_accounted(engine, devices)
        _assert_no_resurrection(engine, deleted_by_server)
    finally:
        web.close()
        for device in devices:
            device.close()
    if log:
        print(report.summary(), flush=True)
    return report


def _inject_faults(rng: random.Random, device: Device, rate: float) -> int:
    injected = 0
    for path, kind in (
        ("/sync/push", "drop_response"),
        ("/sync/pull", "refuse"),
        ("/sync/push", "unavailable"),
        ("/sync/scopes", "refuse"),
    ):
        if rng.random() < rate / 2:
            device.transport.add(path, kind)
            injected += 1
    return injected


def _device_edit(rng: random.Random, device: Device) -> str:
    app, store = device.app, device.store
    customers = store.query(Entity.customer)
    if not customers:
        return "nothing to edit"
    customer = rng.choice(customers)
    cid = customer["id"]
    roll = rng.random()
    now = datetime.now(UTC)
    if roll < 0.25:
        field_name = rng.choice(["notes", "phone", "website", "name"])
        value = {
            "notes": f"note {rng.randrange(10**6)}",
            "phone": random_phone(rng),
            "website": f"https://shop{rng.randrange(1000)}.example",
            "name": f"Customer {rng.randrange(10**4)}",
        }[field_name]
        app.edit_customer(cid, **{field_name: value})
        return f"edit {field_name}"
    if roll < 0.32:
        spot = customer.get("location") or {"lat": 45.71, "lon": 4.81}
        app.edit_customer(
            cid,
            street=f"{rng.randrange(1, 200)} rue de la République",
            city="Lyon",
            location={"lat": spot["lat"] + rng.uniform(-1e-4, 1e-4), "lon": spot["lon"] + rng.uniform(-1e-4, 1e-4)},
            geocode_accuracy="manual",
        )
        return "edit address"
    if roll < 0.44:
        tag = rng.choice(["vip", "north", "new", "late-payer", "bio"])
        if rng.random() < 0.5:
            app.tag_customer(cid, add=[tag])
        else:
            app.tag_customer(cid, remove=[tag])
        return "tag"
    if roll < 0.56:
        app.add_note(cid, f"Visit report {rng.randrange(10**6)}")
        return "note"
    if roll < 0.66:
        contacts = store.query(Entity.contact, "customer_id = ?", (cid,))
        if contacts and rng.random() < 0.3:
            app.delete_contact(rng.choice(contacts)["id"])
            return "delete contact"
        if contacts and rng.random() < 0.6:
            app.edit_contact(rng.choice(contacts)["id"], role=rng.choice(["buyer", "owner", "manager"]))
            return "edit contact"
        app.add_contact(cid, f"Person {rng.randrange(10**4)}", phone=random_phone(rng))
        return "add contact"
    if roll < 0.74:
        tasks = [t for t in store.query(Entity.task) if t.get("status") in ("open", "in_progress")]
        if tasks:
            app.complete_task(rng.choice(tasks)["id"])
            return "complete task"
        return "no open task"
    if roll < 0.86:
        visits = [
            v for v in store.query(Entity.visit, "rep_id = ?", (str(device.user),)) if v.get("status") == "planned"
        ]
        spot = customer.get("location") or {"lat": 45.71, "lon": 4.81}
        if visits:
            visit = rng.choice(visits)
            app.check_in(visit["id"], spot["lat"], spot["lon"], at=now)
            app.check_out(visit["id"], spot["lat"], spot["lon"], outcome="order", at=now + timedelta(minutes=20))
            return "check in and out"
        app.log_visit(cid, check_in=(spot["lat"], spot["lon"], now), check_out=(spot["lat"], spot["lon"], now))
        return "log visit"
    if roll < 0.92:
        spot = customer.get("location") or {"lat": 45.71, "lon": 4.81}
        app.create_lead(f"Lead {rng.randrange(10**5)}", location={"lat": spot["lat"], "lon": spot["lon"]})
        return "create lead"
    app.edit_customer(cid, notes=f"quick {rng.randrange(100)}")
    return "edit notes"


def _web_edit(
    rng: random.Random, org: SyncOrg, web: WebEditor, engine: Engine, deleted: set[tuple[Entity, str]]
) -> str:
    """The manager on the web: field edits, territory moves, contact deletes, task reopen."""
    territory = rng.choice(org.territories)
    customers = org.customers[territory]
    with Session(engine) as session:
        live = list(
            session.scalars(select(Customer.id).where(Customer.id.in_(customers), Customer.deleted_at.is_(None)))
        )
        if not live:
            return "web: nothing to edit"
        customer = rng.choice(live)
        roll = rng.random()
        if roll < 0.5:
            web.patch("customers", customer, notes=f"manager note {rng.randrange(10**6)}")
            return "web: edit notes"
        if roll < 0.7:
            target = rng.choice(org.territories)
            web.patch("customers", customer, territory_id=str(target))
            return "web: move territory"
        if roll < 0.85:
            contact = session.scalar(
                select(Contact.id).where(Contact.customer_id == customer, Contact.deleted_at.is_(None)).limit(1)
            )
            if contact is None:
                return "web: no contact"
            web.delete("contacts", contact)
            deleted.add((Entity.contact, str(contact)))
            return "web: delete contact"
        web.patch("customers", customer, phone=f"+3347{rng.randrange(10**7):07d}")
        return "web: edit phone"


def _assert_no_resurrection(engine: Engine, deleted: set[tuple[Entity, str]]) -> None:
    """I4: what the server deleted stays deleted (the soak issues no restore)."""
    with Session(engine) as session:
        for entity, entity_id in deleted:
            assert entity is Entity.contact
            row = session.get(Contact, uuid.UUID(entity_id))
            assert row is not None and row.deleted_at is not None, f"contact {entity_id} came back"
