"""Live positions: a subscriber gets a posted position within a second (committed data:
NOTIFY is delivered on commit, across server processes)."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.models import Device, User, Workday
from server.tracking import live
from tests.e2e.sync.harness import SyncOrg, bearer


class Subscription:
    """A live-stream reader in a thread; `close()` ends the stream (and so the server's generator)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue = queue.Queue()
        self.stopped = threading.Event()
        self.http = httpx.Client(base_url=base, timeout=httpx.Timeout(30))
        self.thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self.thread.start()

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self.http.stream("GET", "/api/v1/tracking/live", headers=headers) as response:
                self.events.put(("status", response.status_code))
                for line in response.iter_lines():  # a heartbeat comment at least every HEARTBEAT_SECONDS
                    if self.stopped.is_set():
                        return
                    if line.startswith("data: "):
                        self.events.put(("data", json.loads(line[len("data: ") :]), time.monotonic()))
        except (httpx.HTTPError, RuntimeError):
            return  # closed by the test

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.http.close()


def add_phone(engine, org: SyncOrg, rep: uuid.UUID) -> str:
    identifier = f"phone-{uuid.uuid4().hex[:12]}"
    with Session(engine) as session, session.begin():
        session.add(Device(org_id=org.id, user_id=rep, identifier=identifier))
    return identifier


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server runs in this process: a short heartbeat lets readers stop promptly."""
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)


def start_listening(base: str, headers: dict[str, str]) -> Subscription:
    subscription = Subscription(base, headers)
    assert subscription.events.get(timeout=10) == ("status", 200)
    time.sleep(0.3)  # the LISTEN is in place once the stream's first bytes went out
    return subscription


def report(base: str, org: SyncOrg, rep: uuid.UUID, identifier: str, lat: float) -> float:
    posted = time.monotonic()
    body = {"device": identifier, "positions": [{"time": datetime.now(UTC).isoformat(), "lat": lat, "lon": 4.85}]}
    response = httpx.post(f"{base}/api/v1/tracking/positions", json=body, headers=bearer(org, rep))
    assert response.status_code == 200 and response.json()["stored"] == 1
    return posted


def test_a_subscriber_receives_a_posted_position_within_a_second(sync_server, engine, org):
    rep = org.reps[0]
    identifier = add_phone(engine, org, rep)
    with Session(engine) as session, session.begin():  # the rep started the day and is in working hours
        session.add(
            Workday(
                org_id=org.id,
                user_id=rep,
                day=datetime.now(UTC).date(),
                started_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
        session.execute(
            update(User)
            .where(User.id == rep)
            .values(working_hours={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        )
    manager = start_listening(sync_server, bearer(org, org.manager))
    try:
        posted = report(sync_server, org, rep, identifier, 45.7512)
        kind, update_, received = manager.events.get(timeout=5)
        assert kind == "data" and update_["user_id"] == str(rep) and update_["lat"] == 45.7512
        assert received - posted < 1.0, f"{received - posted:.2f} s"
    finally:
        manager.close()


def test_the_stream_respects_privacy_and_team(sync_server, engine, org):
    """No started day: the manager's stream stays silent; the rep's own stream shows it."""
    rep = org.reps[1]
    identifier = add_phone(engine, org, rep)
    manager = start_listening(sync_server, bearer(org, org.manager))
    own = start_listening(sync_server, bearer(org, rep))
    other_rep = start_listening(sync_server, bearer(org, org.reps[0]))
    try:
        report(sync_server, org, rep, identifier, 45.7601)
        kind, mine, _ = own.events.get(timeout=5)
        assert kind == "data" and mine["lat"] == 45.7601
        time.sleep(0.5)
        assert manager.events.empty() and other_rep.events.empty()
    finally:
        for subscription in (manager, own, other_rep):
            subscription.close()


def test_anonymous_callers_get_401(sync_server):
    assert httpx.get(f"{sync_server}/api/v1/tracking/live").status_code == 401


class EndingSubscription(Subscription):
    """Also records `event:` lines (the stream's own `end`)."""

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self.http.stream("GET", "/api/v1/tracking/live", headers=headers) as response:
                self.events.put(("status", response.status_code))
                for line in response.iter_lines():
                    if self.stopped.is_set():
                        return
                    if line.startswith("event: "):
                        self.events.put(("event", line[len("event: ") :]))
                self.events.put(("closed", None))
        except (httpx.HTTPError, RuntimeError):
            return


def listening_connections(engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN ff_positions' AND state = 'idle'"
            ).scalar()
        )


def test_streams_share_one_listen_connection_and_are_capped_per_user(sync_server, engine, org, monkeypatch):
    before = listening_connections(engine)
    streams = [start_listening(sync_server, bearer(org, org.manager)) for _ in range(live.MAX_STREAMS_PER_USER)]
    try:
        rep_stream = start_listening(sync_server, bearer(org, org.reps[0]))
        # Six streams, one LISTEN connection in this server process (none more than before).
        assert listening_connections(engine) <= max(before, 1)
        over = httpx.get(f"{sync_server}/api/v1/tracking/live", headers=bearer(org, org.manager), timeout=10)
        assert over.status_code == 429 and over.json()["code"] == "LIVE_STREAM_LIMIT"
        rep_stream.close()
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.parametrize("change", ["deactivated", "new password"])
def test_a_stream_ends_when_its_session_does(sync_server, engine, org, monkeypatch, change):
    """Re-checked every RECHECK_SECONDS: a deactivation or a password change ends the stream."""
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.3)
    manager = EndingSubscription(sync_server, bearer(org, org.manager))
    assert manager.events.get(timeout=10) == ("status", 200)
    try:
        values = {"active": False} if change == "deactivated" else {"auth_generation": User.auth_generation + 1}
        with Session(engine) as session, session.begin():
            session.execute(update(User).where(User.id == org.manager).values(**values))
        started = time.monotonic()
        assert manager.events.get(timeout=5) == ("event", "end")
        assert manager.events.get(timeout=5) == ("closed", None)
        assert time.monotonic() - started < 3
    finally:
        manager.close()
        with Session(engine) as session, session.begin():
            session.execute(update(User).where(User.id == org.manager).values(active=True))
