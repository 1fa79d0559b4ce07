"""End-to-end sync harness: a committed world, devices, injected faults, invariants.

Sync needs real commits (the pull fence reads transaction ids), so these tests
do not use the per-test rollback: each test builds its own organisation with
fresh ids in the shared test database and talks to a server whose sessions
commit for real. The benchmark (`bench/sync_load.py`) drives the same harness
with larger numbers.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import Engine, func, literal_column, select
from sqlalchemy.orm import Session

from mobile.core.field_work import FieldWork
from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient
from server.access.credentials import AccessClaims, create_access_token, hash_password
from server.models import (
    Contact,
    Customer,
    Organization,
    SyncConflict,
    SyncMutationResult,
    SyncRejection,
    Task,
    Territory,
    TerritoryRep,
    User,
    Visit,
)
from server.sync.entities import SYNCED
from shared.enums import Role
from shared.sync.hlc import HybridLogicalClock, wall_clock_ms
from shared.sync.protocol import Entity
from tests.net import free_port

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


PASSWORD = "sync-harness-password"
LYON = (4.80, 45.70)


def square(lon: float, lat: float, size: float = 0.02) -> str:
    ring = f"{lon} {lat}, {lon + size} {lat}, {lon + size} {lat + size}, {lon} {lat + size}, {lon} {lat}"
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


@dataclass
class SyncOrg:
    """A committed organisation: one manager, reps each with a territory of customers."""

    id: uuid.UUID
    slug: str
    admin: uuid.UUID
    manager: uuid.UUID
    reps: list[uuid.UUID]
    territories: list[uuid.UUID]
    customers: dict[uuid.UUID, list[uuid.UUID]]  # territory -> customers
    emails: dict[uuid.UUID, str]

    def role(self, user: uuid.UUID) -> Role:
        if user == self.admin:
            return Role.admin
        return Role.manager if user == self.manager else Role.rep


def build_org(
    engine: Engine, *, reps: int = 2, customers_per_territory: int = 3, today: datetime | None = None
) -> SyncOrg:
    today = today or datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    tag = uuid.uuid4().hex[:10]
    org_id = uuid.uuid4()
    password_hash = hash_password(PASSWORD)
    admin, manager = uuid.uuid4(), uuid.uuid4()
    rep_ids = [uuid.uuid4() for _ in range(reps)]
    emails = {admin: f"admin-{tag}@sync.test", manager: f"manager-{tag}@sync.test"}
    emails.update({rep: f"rep{k}-{tag}@sync.test" for k, rep in enumerate(rep_ids)})
    territories = [uuid.uuid4() for _ in range(reps)]
    customers: dict[uuid.UUID, list[uuid.UUID]] = {}
    with Session(engine) as session, session.begin():
        session.add(Organization(id=org_id, name=f"Sync {tag}", slug=f"sync-{tag}", default_country="FR"))
        session.flush()
        session.add(User(id=admin, org_id=org_id, email=emails[admin], password_hash=password_hash, role=Role.admin))
        session.add(
            User(id=manager, org_id=org_id, email=emails[manager], password_hash=password_hash, role=Role.manager)
        )
        session.flush()
        for rep in rep_ids:
            session.add(
                User(
                    id=rep,
                    org_id=org_id,
                    email=emails[rep],
                    password_hash=password_hash,
                    role=Role.rep,
                    manager_id=manager,
                )
            )
        session.flush()
        for k, (territory, rep) in enumerate(zip(territories, rep_ids, strict=True)):
            lon, lat = LYON[0] + 0.03 * k, LYON[1]
            session.add(Territory(id=territory, org_id=org_id, name=f"T{k}", geometry=square(lon, lat)))
            session.flush()
            session.add(TerritoryRep(org_id=org_id, territory_id=territory, user_id=rep))
            customers[territory] = []
            for n in range(customers_per_territory):
                customer = uuid.uuid4()
                customers[territory].append(customer)
                spot = (lon + 0.002 + 0.016 * (n + 1) / (customers_per_territory + 1), lat + 0.01)
                session.add(
                    Customer(
                        id=customer,
                        org_id=org_id,
                        name=f"Customer {k}-{n}",
                        territory_id=territory,
                        location=f"SRID=4326;POINT({spot[0]} {spot[1]})",
                        tags=["new"],
                    )
                )
                session.flush()
                session.add(Contact(id=uuid.uuid4(), org_id=org_id, customer_id=customer, name=f"Contact {k}-{n}"))
                session.add(
                    Task(
                        id=uuid.uuid4(),
                        org_id=org_id,
                        customer_id=customer,
                        assignee_id=rep,
                        title=f"Follow up {k}-{n}",
                    )
                )
                start = today + timedelta(minutes=45 * n)
                session.add(
                    Visit(
                        id=uuid.uuid4(),
                        org_id=org_id,
                        customer_id=customer,
                        rep_id=rep,
                        planned_start=start,
                        planned_end=start + timedelta(minutes=30),
                    )
                )
    return SyncOrg(org_id, f"sync-{tag}", admin, manager, rep_ids, territories, customers, emails)


def token(org: SyncOrg, user: uuid.UUID, minutes: int = 120) -> str:
    return create_access_token(AccessClaims(user, org.id, org.role(user), 0), TEST_SECRET, minutes)


def bearer(org: SyncOrg, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(org, user)}"}


class ServerProcess:
    """The real server as its own process (uvicorn), so a test can kill it or a benchmark load it."""

    def __init__(self, database_url: str, *, workers: int = 1, secret: str = TEST_SECRET) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret, "FIELDFORCE_ENV": "test"}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server.app:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, open transactions left to the database."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


# ---- faults -----------------------------------------------------------------------------------


@dataclass
class Fault:
    path: str
    kind: str  # refuse | drop_response | unavailable | delay
    method: str | None = None
    times: int = 1
    delay: float = 0.0


class FaultyTransport(httpx.BaseTransport):
    """A real HTTP transport with faults injected on chosen requests.

    - refuse: the request never leaves (connection refused)
    - drop_response: the server handles the request (and commits), then the
      connection drops before the client reads the answer
    - unavailable: a 503 with Retry-After, as a proxy in front of a busy server answers
    - delay: the request waits before it is sent
    """

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.faults: list[Fault] = []
        self.injected: list[tuple[str, str]] = []
        self.requests = 0

    def add(self, path: str, kind: str, *, method: str | None = None, times: int = 1, delay: float = 0.0) -> None:
        self.faults.append(Fault(path, kind, method, times, delay))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        fault = next(
            (
                f
                for f in self.faults
                if f.times > 0 and f.path in request.url.path and f.method in (None, request.method)
            ),
            None,
        )
        if fault is None:
            return self.inner.handle_request(request)
        fault.times -= 1
        self.injected.append((fault.kind, request.url.path))
        if fault.kind == "refuse":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if fault.kind == "unavailable":
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"code": "INJECTED"}, request=request)
        if fault.kind == "delay":
            time.sleep(fault.delay)
            return self.inner.handle_request(request)
        response = self.inner.handle_request(request)
        response.read()
        response.close()
        raise httpx.ReadError("injected: connection lost after the server answered", request=request)

    def close(self) -> None:
        self.inner.close()


class ManualClock:
    """A device's wall clock, in milliseconds, that a test sets (and may turn back)."""

    def __init__(self, ms: int | None = None) -> None:
        self.ms = wall_clock_ms() if ms is None else ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


@dataclass
class Device:
    name: str
    user: uuid.UUID
    store: LocalStore
    client: SyncClient
    app: FieldWork
    transport: FaultyTransport
    clock: ManualClock | Callable[[], int]
    versions: dict[tuple[Entity, str], int] = field(default_factory=dict)

    def sync(self) -> Any:
        report = self.client.sync()
        self.check_monotonic()
        return report

    def check_monotonic(self) -> None:
        """I6: no entity's row_version on this device ever goes down."""
        for entity in Entity:
            for entity_id, (version, _, _) in self.store.server_rows(entity).items():
                before = self.versions.get((entity, entity_id), 0)
                assert version >= before or version == 0, f"{self.name}: {entity} {entity_id} {before} -> {version}"
                self.versions[(entity, entity_id)] = version

    def close(self) -> None:
        self.client.close()
        self.store.close()


def make_device(
    base_url: str,
    directory: Path,
    name: str,
    org: SyncOrg,
    user: uuid.UUID,
    *,
    clock: ManualClock | None = None,
    max_attempts: int = 12,
) -> Device:
    store = LocalStore(directory / f"{name}.sqlite")
    transport = FaultyTransport()
    wall = clock or wall_clock_ms
    client = SyncClient(
        store,
        base_url,
        transport=transport,
        clock=HybridLogicalClock(clock=wall),
        sleep=lambda seconds: time.sleep(min(seconds, 0.05)),
        backoff_base=0.01,
        max_attempts=max_attempts,
    )
    client.use_tokens(token(org, user), user_id=str(user))
    return Device(name, user, store, client, FieldWork(store, client.next_hlc), transport, wall)


def sync_until_quiet(devices: list[Device], *, rounds: int = 3, settle: float = 0.05) -> None:
    """Sync every device, twice over, so each sees what the others pushed."""
    for _ in range(rounds):
        for device in devices:
            device.sync()
        time.sleep(settle)


# ---- invariants ------------------------------------------------------------------------------

_adapters: dict[Entity, TypeAdapter[Any]] = {}


def _dump(session: Session, entity: Entity, obj: Any) -> dict[str, Any]:
    spec = SYNCED[entity]
    adapter = _adapters.setdefault(entity, TypeAdapter(spec.read_schema))
    row: dict[str, Any] = adapter.dump_python(adapter.validate_python(spec.serialize(session, [obj])[0]), mode="json")
    return row


def server_projection(
    engine: Engine, org_id: uuid.UUID, scopes: set[str]
) -> dict[tuple[Entity, str], tuple[int, bool, dict[str, Any]]]:
    """What the server says a device with these scopes should hold: (entity, id) -> (version, deleted, row)."""
    out: dict[tuple[Entity, str], tuple[int, bool, dict[str, Any]]] = {}
    with Session(engine) as session:
        for entity, spec in SYNCED.items():
            table = spec.model.__table__
            row_scopes = func.ff_row_scopes(str(entity), table.c.org_id, func.to_jsonb(literal_column(table.name)))
            stmt = select(spec.model, row_scopes).where(spec.model.org_id == org_id)
            for obj, in_scopes in session.execute(stmt):
                if scopes & set(in_scopes):
                    out[(entity, str(obj.id))] = (
                        obj.row_version,
                        obj.deleted_at is not None,
                        _dump(session, entity, obj),
                    )
    return out


def assert_converged(engine: Engine, org: SyncOrg, device: Device) -> None:
    """I1 convergence and I5 scope isolation, at quiescence."""
    assert device.store.pending_count() == 0, f"{device.name} still has pending mutations"
    scopes = set(device.store.cursors())
    projection = server_projection(engine, org.id, scopes)
    for entity in Entity:
        held = device.store.server_rows(entity)
        for entity_id, (version, data, deleted) in held.items():
            key = (entity, entity_id)
            assert version > 0, f"{device.name}: {entity} {entity_id} exists only on the device"
            assert key in projection, f"{device.name}: holds {entity} {entity_id} outside its scopes (I5)"
            server_version, server_deleted, server_row = projection[key]
            assert version == server_version, (
                f"{device.name}: {entity} {entity_id} at {version}, server {server_version}"
            )
            assert deleted == server_deleted, f"{device.name}: {entity} {entity_id} deleted={deleted}"
            if not deleted:
                assert data == server_row, f"{device.name}: {entity} {entity_id} differs from the server"
        for (kind, entity_id), (_, server_deleted, _) in projection.items():
            if kind is entity and not server_deleted:
                assert entity_id in held, f"{device.name}: misses {entity} {entity_id} (I1)"


def assert_every_write_accounted(engine: Engine, devices: list[Device]) -> None:
    """I2 and I3: each acknowledged (client_id, mid) has exactly one stored answer on the
    server, and every rejection or conflict the device was told of is kept with its payload."""
    with Session(engine) as session:
        for device in devices:
            for result in device.store.results():
                key = (uuid.UUID(result["client_id"]), result["mid"])
                stored = session.get(SyncMutationResult, key)
                assert stored is not None, f"{device.name}: no server answer for {key}"
                assert stored.result["outcome"] == result["outcome"], (device.name, key, stored.result, result)
                if result["outcome"] in ("rejected", "quarantined"):
                    kept = session.scalar(
                        select(SyncRejection).where(SyncRejection.client_id == key[0], SyncRejection.mid == key[1])
                    )
                    assert kept is not None and kept.mutation["mid"] == key[1], f"{device.name}: lost rejection {key}"
                if result["outcome"] in ("applied_with_conflicts", "applied_to_tombstone"):
                    logged = session.scalar(
                        select(SyncConflict).where(SyncConflict.client_id == key[0], SyncConflict.mid == key[1])
                    )
                    assert logged is not None and logged.mutation["mid"] == key[1], (
                        f"{device.name}: lost conflict {key}"
                    )


def measure_peak_memory(action: Callable[[], Any]) -> tuple[Any, int]:
    """(result, peak bytes allocated by Python while it ran) — I7 for a client."""
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# ---- a web editor (the manager's browser) ------------------------------------------------------


class WebEditor:
    def __init__(self, base_url: str, org: SyncOrg, user: uuid.UUID) -> None:
        self.http = httpx.Client(base_url=base_url, headers=bearer(org, user), timeout=30)

    def patch(self, resource: str, item: uuid.UUID | str, **fields: Any) -> httpx.Response:
        response = self.http.patch(f"/api/v1/{resource}/{item}", json=fields)
        assert response.status_code == 200, response.text
        return response

    def delete(self, resource: str, item: uuid.UUID | str) -> None:
        response = self.http.delete(f"/api/v1/{resource}/{item}")
        assert response.status_code == 204, response.text

    def close(self) -> None:
        self.http.close()


def random_phone(rng: random.Random) -> str:
    return f"+3347{rng.randrange(10**7):07d}"
