"""The working day and the GPS buffer (APP.md, "GPS").

Between the start and the end of the working day, every fix goes to disk
first (the store's `positions` table, in the same SQLite file as the rest),
then to the server in batches (`POST /api/v1/tracking/positions`). Outside
the day nothing is recorded: the rep's evenings stay private. The start and
end taps are kept too and sent with the time they happened
(`/tracking/workday/start|end` with `{"at"}`), so a rep who starts the day in
a car park without signal loses neither the start nor the track.

A batch is deleted from the buffer only once the server has answered 200
for it: a crash or a lost connection mid-upload sends it again, and the
server stores each (device, time) once. Points the server refuses as invalid
are dropped (they would be refused forever) and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient, SyncError, TransientSyncError

__all__ = ["Fix", "UploadReport", "WorkdayTracker"]

# A day of fixes every 10 s is ~5,000; this keeps a week offline and bounds the disk used.
MAX_BUFFERED = 60_000
BATCH = 500


@dataclass(frozen=True)
class Fix:
    """One GPS fix as the location provider gives it."""

    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    charging: bool | None = None


@dataclass
class UploadReport:
    marks_sent: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)  # why the server refused points (they are dropped)


class WorkdayTracker:
    def __init__(self, store: LocalStore, device_identifier: str, device_name: str = "FieldForce app") -> None:
        self.store = store
        self.device_identifier = device_identifier
        self.device_name = device_name

    # ---- the day -----------------------------------------------------------------------------

    @property
    def is_on(self) -> bool:
        return self.store.get_state("workday_on") == "1"

    @property
    def started_at(self) -> datetime | None:
        value = self.store.get_state("workday_started_at")
        return datetime.fromisoformat(value) if value and self.is_on else None

    def start_day(self, at: datetime | None = None) -> None:
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        with self.store.transaction() as db:
            db.execute("INSERT INTO workday_marks (kind, at) VALUES ('start', ?)", (moment.isoformat(),))
            self.store.set_state("workday_on", "1")
            self.store.set_state("workday_started_at", moment.isoformat())

    def end_day(self, at: datetime | None = None) -> None:
        if not self.is_on:
            raise ValueError("the working day has not started")
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        with self.store.transaction() as db:
            db.execute("INSERT INTO workday_marks (kind, at) VALUES ('end', ?)", (moment.isoformat(),))
            self.store.set_state("workday_on", "0")

    # ---- the buffer --------------------------------------------------------------------------

    def record(self, fix: Fix) -> bool:
        """Keep a fix on disk when the day is on (False otherwise: nothing is recorded off duty).
        When the buffer is full the oldest fixes make room: the newest position matters most."""
        if not self.is_on:
            return False
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO positions (time, lat, lon, accuracy, speed, heading, altitude, battery, charging) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fix.time.astimezone(UTC).isoformat(),
                    fix.lat,
                    fix.lon,
                    fix.accuracy_m,
                    fix.speed_mps,
                    fix.heading,
                    fix.altitude_m,
                    fix.battery_pct,
                    None if fix.charging is None else int(fix.charging),
                ),
            )
            db.execute("DELETE FROM positions WHERE seq <= (SELECT max(seq) FROM positions) - ?", (MAX_BUFFERED,))
        return True

    def buffered(self) -> int:
        with self.store.transaction() as db:
            return int(db.execute("SELECT count(*) FROM positions").fetchone()[0])

    def pending_marks(self) -> int:
        with self.store.transaction() as db:
            return int(db.execute("SELECT count(*) FROM workday_marks").fetchone()[0])

    # ---- sending -----------------------------------------------------------------------------

    def upload(self, client: SyncClient, batch: int = BATCH) -> UploadReport:
        """Register this device once, send the day's marks in order, then the buffered fixes in
        batches. Raises `TransientSyncError` when the server cannot be reached (nothing is lost)."""
        report = UploadReport()
        self._register_device(client)
        while (mark := self._next_mark()) is not None:
            seq, kind, at = mark
            response = client.call("POST", f"/api/v1/tracking/workday/{kind}", json={"at": at})
            # Any other answer is final: a mark the server will never take (too old, an end
            # without a start) is dropped rather than blocking every later one.
            with self.store.transaction() as db:
                db.execute("DELETE FROM workday_marks WHERE seq = ?", (seq,))
            report.marks_sent += 1
        while rows := self._next_batch(batch):
            response = client.call(
                "POST",
                "/api/v1/tracking/positions",
                json={"device": self.device_identifier, "positions": [_point(row) for row in rows]},
            )
            if response.status_code == 429:
                raise TransientSyncError(f"positions: the server answered {response.status_code}")
            if response.status_code != 200:
                raise SyncError(f"positions refused: {response.status_code} {response.text[:200]}")
            answer = response.json()
            report.stored += int(answer["stored"])
            report.duplicates += int(answer["duplicates"])
            report.refused += [str(item["reason"]) for item in answer["rejected"]]
            with self.store.transaction() as db:
                db.execute("DELETE FROM positions WHERE seq <= ?", (rows[-1]["seq"],))
        return report

    def _register_device(self, client: SyncClient) -> None:
        if self.store.get_state("device_registered") == self.device_identifier:
            return
        response = client.call(
            "POST", "/api/v1/devices", json={"identifier": self.device_identifier, "name": self.device_name}
        )
        # 409: registered before (by this install, or before a reinstall).
        if response.status_code not in (201, 409):
            raise SyncError(f"this device could not be registered: {response.status_code} {response.text[:200]}")
        self.store.set_state("device_registered", self.device_identifier)

    def _next_mark(self) -> tuple[int, str, str] | None:
        with self.store.transaction() as db:
            row = db.execute("SELECT seq, kind, at FROM workday_marks ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def _next_batch(self, size: int) -> list[dict[str, Any]]:
        with self.store.transaction() as db:
            return [dict(row) for row in db.execute("SELECT * FROM positions ORDER BY seq LIMIT ?", (size,))]


def _point(row: dict[str, Any]) -> dict[str, Any]:
    point: dict[str, Any] = {"time": row["time"], "lat": row["lat"], "lon": row["lon"]}
    for name in ("accuracy", "speed", "heading", "altitude", "battery"):
        if row[name] is not None:
            point[name] = row[name]
    if row["charging"] is not None:
        point["charging"] = bool(row["charging"])
    return point
