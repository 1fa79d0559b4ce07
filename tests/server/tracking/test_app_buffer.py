"""The phone's GPS buffer and working day (mobile.core.tracking) against the live server:
nothing recorded off duty, nothing lost offline, every fix stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient, TransientSyncError
from mobile.core.tracking import Fix, WorkdayTracker
from server.models import Device, Position, Workday
from tests.net import free_port
from tests.server.conftest import token_for
from tests.server.world import WORLD as W


def phone(store: LocalStore, base_url: str) -> SyncClient:
    client = SyncClient(store, base_url, backoff_base=0.01, max_attempts=1)
    client.use_tokens(token_for(W, "r1"), user_id=str(W.r1))
    return client


def test_a_day_tracked_offline_reaches_the_server_once_back_online(live_server, connection, db, tmp_path: Path):
    store = LocalStore(tmp_path / "phone.sqlite")
    tracker = WorkdayTracker(store, "r1-tablet", "r1's tablet")
    now = datetime.now(UTC).replace(microsecond=0)
    before_the_day = Fix(now - timedelta(minutes=40), 45.755, 4.805)
    assert tracker.record(before_the_day) is False  # off duty: not recorded

    tracker.start_day(now - timedelta(minutes=30))
    fixes = [
        Fix(now - timedelta(minutes=m), 45.755 + m * 1e-4, 4.805, accuracy_m=8.0, battery_pct=80) for m in (20, 10, 5)
    ]
    for fix in fixes:
        assert tracker.record(fix) is True
    tracker.record(Fix(now - timedelta(minutes=4), 95.0, 4.805))  # a broken fix: the server refuses it
    assert (tracker.buffered(), tracker.pending_marks()) == (4, 1)

    offline = phone(store, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(TransientSyncError):
        tracker.upload(offline)
    assert (tracker.buffered(), tracker.pending_marks()) == (4, 1)  # all kept

    report = tracker.upload(phone(store, live_server))
    assert (report.marks_sent, report.stored, report.duplicates, len(report.refused)) == (1, 3, 0, 1)
    assert (tracker.buffered(), tracker.pending_marks()) == (0, 0)
    device = db.scalar(select(Device).where(Device.identifier == "r1-tablet"))
    assert device is not None and device.user_id == W.r1 and device.name == "r1's tablet"
    stored = db.scalars(
        select(Position.device_time).where(Position.device_id == device.id).order_by(Position.device_time)
    )
    assert list(stored) == [fix.time for fix in fixes]
    workday = db.scalar(select(Workday).where(Workday.user_id == W.r1).order_by(Workday.day.desc()))
    assert workday is not None and workday.started_at == now - timedelta(minutes=30) and workday.ended_at is None

    tracker.end_day(now - timedelta(minutes=1))
    assert tracker.record(Fix(now, 45.76, 4.81)) is False  # the day is over
    assert tracker.upload(phone(store, live_server)).marks_sent == 1
    db.expire_all()
    workday = db.get(Workday, workday.id)
    assert workday is not None and workday.ended_at == now - timedelta(minutes=1)
    with pytest.raises(ValueError, match="not started"):
        tracker.end_day()
