"""Storing reported positions: validate each point, insert idempotently, keep the last fix, notify.

Both entry points (the app's batches and tracker apps) end here. A point is
identified by (device, device time): a re-sent batch stores nothing twice.
Out-of-order points are fine; the last position only moves forward in device
time. One NOTIFY per batch tells every server process (and so every live-map
subscriber) where the rep is now.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.db import rows_affected
from server.models import Device

MAX_BATCH = 1_000
MAX_FUTURE = timedelta(hours=24)
LIVE_CHANNEL = "ff_positions"


class PointInvalid(ValueError):
    """One point's problem, as a sentence for the client."""


@dataclass(frozen=True, slots=True)
class PositionIn:
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    charging: bool | None = None
    activity: str | None = None
    # False: the device said the fix is not valid (kept, flagged, never used as a position).
    valid: bool = True


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def parse_time(value: Any, *, now: datetime | None = None) -> datetime:
    """Unix seconds or milliseconds (number or digits), or ISO-8601 with a zone."""
    now = now or datetime.now(UTC)
    if isinstance(value, bool) or value is None:
        raise PointInvalid("time is missing")
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        number = float(value)
        if not math.isfinite(number):
            raise PointInvalid("time is not a finite number")
        seconds = number / 1000 if number >= 2**31 else number  # the tracker convention: ms past 2038
        moment = datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            raise PointInvalid(f"time {value!r} is neither unix time nor ISO-8601") from None
        if moment.tzinfo is None:
            raise PointInvalid(f"time {value!r} has no time zone")
    else:
        raise PointInvalid("time must be unix seconds, milliseconds or ISO-8601")
    if moment > now + MAX_FUTURE:
        raise PointInvalid(f"time {moment.isoformat()} is more than 24 h in the future")
    if moment.year < 2000:
        raise PointInvalid(f"time {moment.isoformat()} is before 2000")
    return moment.astimezone(UTC)


def bounded_number(raw: dict[str, Any], key: str, low: float, high: float, *, required: bool = False) -> float | None:
    """raw[key] as a finite number in [low, high], None when absent; a sentence for the client otherwise."""
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise PointInvalid(f"{key} is missing")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PointInvalid(f"{key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise PointInvalid(f"{key} is not a finite number")
    if not low <= number <= high:
        hint = " (latitude and longitude swapped?)" if key == "lat" and -180 <= number <= 180 else ""
        raise PointInvalid(f"{key} {number} is outside [{low:g}, {high:g}]{hint}")
    return number


def point_from_app(raw: Any, now: datetime | None = None) -> PositionIn:
    """One point of the app's batch: {time, lat, lon, accuracy, speed (m/s), heading, altitude, battery (%),
    charging, activity}."""
    if not isinstance(raw, dict):
        raise PointInvalid("a point is an object")
    lat = bounded_number(raw, "lat", -90, 90, required=True)
    lon = bounded_number(raw, "lon", -180, 180, required=True)
    assert lat is not None and lon is not None
    activity = raw.get("activity")
    charging = raw.get("charging")
    return PositionIn(
        time=parse_time(raw.get("time"), now=now),
        lat=lat,
        lon=lon,
        accuracy_m=bounded_number(raw, "accuracy", 0, 100_000),
        speed_mps=bounded_number(raw, "speed", 0, 1_000),
        heading=bounded_number(raw, "heading", 0, 360),
        altitude_m=bounded_number(raw, "altitude", -1_000, 20_000),
        battery_pct=bounded_number(raw, "battery", 0, 100),
        charging=charging if isinstance(charging, bool) else None,
        activity=str(activity)[:32] if activity is not None else None,
    )


_INSERT = text(
    """
    INSERT INTO positions (org_id, device_id, user_id, device_time, lat, lon, accuracy_m, speed_mps, heading,
                           altitude_m, battery_pct, charging, activity, valid)
    SELECT :org_id, :device_id, :user_id, p.*
      FROM unnest(CAST(:times AS timestamptz[]), CAST(:lats AS float8[]), CAST(:lons AS float8[]),
                  CAST(:accuracies AS float8[]), CAST(:speeds AS float8[]), CAST(:headings AS float8[]),
                  CAST(:altitudes AS float8[]), CAST(:batteries AS float8[]), CAST(:charging AS boolean[]),
                  CAST(:activities AS text[]), CAST(:valid AS boolean[])) AS p
    ON CONFLICT (device_id, device_time) DO NOTHING
    """
)
_LAST = text(
    """
    INSERT INTO last_positions (user_id, org_id, device_id, device_time, lat, lon, accuracy_m, speed_mps, battery_pct)
    VALUES (:user_id, :org_id, :device_id, :time, :lat, :lon, :accuracy, :speed, :battery)
    ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, device_time = excluded.device_time,
        lat = excluded.lat, lon = excluded.lon, accuracy_m = excluded.accuracy_m,
        speed_mps = excluded.speed_mps, battery_pct = excluded.battery_pct
     WHERE last_positions.device_time < excluded.device_time
    RETURNING user_id
    """
)


def store_positions(session: Session, device: Device, points: list[PositionIn]) -> tuple[int, int]:
    """Insert what is new; returns (stored, duplicates)."""
    if not points:
        return 0, 0
    # One row per device time within the batch too (the first wins, like a re-send).
    unique: dict[datetime, PositionIn] = {}
    for point in points:
        unique.setdefault(point.time, point)
    rows = list(unique.values())
    result = session.execute(
        _INSERT,
        {
            "org_id": device.org_id,
            "device_id": device.id,
            "user_id": device.user_id,
            "times": [p.time for p in rows],
            "lats": [p.lat for p in rows],
            "lons": [p.lon for p in rows],
            "accuracies": [p.accuracy_m for p in rows],
            "speeds": [p.speed_mps for p in rows],
            "headings": [p.heading for p in rows],
            "altitudes": [p.altitude_m for p in rows],
            "batteries": [p.battery_pct for p in rows],
            "charging": [p.charging for p in rows],
            "activities": [p.activity for p in rows],
            "valid": [p.valid for p in rows],
        },
    )
    stored = rows_affected(result)
    usable = [p for p in rows if p.valid]
    if not usable:
        return stored, len(points) - stored  # flagged fixes never move the last position
    newest = max(usable, key=lambda p: p.time)
    moved = session.execute(
        _LAST,
        {
            "user_id": device.user_id,
            "org_id": device.org_id,
            "device_id": device.id,
            "time": newest.time,
            "lat": newest.lat,
            "lon": newest.lon,
            "accuracy": newest.accuracy_m,
            "speed": newest.speed_mps,
            "battery": newest.battery_pct,
        },
    ).first()
    if moved is not None:
        payload = {
            "org_id": str(device.org_id),
            "user_id": str(device.user_id),
            "time": newest.time.isoformat(),
            "lat": newest.lat,
            "lon": newest.lon,
            "accuracy_m": newest.accuracy_m,
            "speed_mps": newest.speed_mps,
            "battery_pct": newest.battery_pct,
        }
        # Delivered to listeners when (and only if) this transaction commits.
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": LIVE_CHANNEL, "payload": json.dumps(payload)}
        )
    return stored, len(points) - stored
