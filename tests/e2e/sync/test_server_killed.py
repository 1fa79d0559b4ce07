"""The server process dies in the middle of a push: nothing of the batch remains, the retry applies once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mobile.core.sync_client import TransientSyncError
from server.db import libpq_url
from server.models import Customer, Note, SyncClient
from tests.e2e.sync.harness import ServerProcess, assert_converged, build_org, make_device


@pytest.fixture
def server_process(database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_server_killed_mid_push_rolls_back_the_batch(server_process, engine: Engine, database_url, tmp_path):
    org = build_org(engine)
    first, second, third = (str(c) for c in org.customers[org.territories[0]])
    device = make_device(server_process.url, tmp_path, "rep", org, org.reps[0], max_attempts=1)
    device.sync()
    note = device.app.add_note(first, "written before the crash")
    device.app.edit_customer(second, notes="second")
    device.app.edit_customer(third, notes="third")

    dsn = libpq_url(database_url)
    locker = psycopg.connect(dsn)
    watcher = psycopg.connect(dsn, autocommit=True)
    # Hold the second customer's row: the push applies its first mutation, then waits here.
    locker.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (second,))
    failures: list[BaseException] = []

    def push() -> None:
        try:
            device.client.push_all()
        except BaseException as error:
            failures.append(error)

    pusher = threading.Thread(target=push)
    pusher.start()
    blocked_pid: list[int] = []

    def push_is_blocked() -> bool:
        row = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%customers%'"
        ).fetchone()
        if row:
            blocked_pid.append(row[0])
        return bool(row)

    _wait_for(push_is_blocked)
    server_process.kill()  # SIGKILL while the batch's transaction is open
    locker.rollback()
    locker.close()
    pusher.join(timeout=30)
    assert failures and isinstance(failures[0], TransientSyncError)
    # The orphaned backend notices its client is gone and aborts the transaction.
    _wait_for(
        lambda: watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (blocked_pid[0],)).fetchone() is None
    )
    watcher.close()
    with Session(engine) as session:
        assert session.get(Note, uuid.UUID(note)) is None
        assert session.scalar(select(Customer.notes).where(Customer.id == uuid.UUID(third))) is None
        client = session.get(SyncClient, uuid.UUID(device.store.client_id))
        assert client is None or client.last_mid == 0
    assert device.store.pending_count() == 3

    server_process.start()
    device.client.max_attempts = 5
    report = device.sync()
    assert [r.outcome for r in report.results] == ["applied", "applied", "applied"]
    with Session(engine) as session:
        assert session.get(Note, uuid.UUID(note)) is not None
        assert session.scalar(select(Customer.notes).where(Customer.id == uuid.UUID(third))) == "third"
    assert_converged(engine, org, device)
    device.close()
