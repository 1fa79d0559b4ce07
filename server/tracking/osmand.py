"""The OsmAnd / Traccar Client protocol, so any phone running those apps can report.

Two shapes reach the same endpoint:
- query or form parameters: `id` or `deviceid`; `lat` and `lon`, or
  `location=lat,lon`; `timestamp` (unix seconds, milliseconds, ISO-8601 with
  a zone, or "yyyy-MM-dd HH:mm:ss" in UTC); `speed` in knots; `bearing` or
  `heading`; `altitude`, `accuracy`, `hdop`, `batt` (%), `charge`, `valid`;
- the JSON that Traccar Client 9+ posts: `{"device_id", "location": {"timestamp",
  "coords": {latitude, longitude, accuracy, speed (m/s, -1 unknown), heading,
  altitude}, "is_moving", "battery": {"level" 0..1, "is_charging"}, "activity":
  {"type"}}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.tracking.ingest import PointInvalid, PositionIn, bounded_number, parse_time

KNOT_MPS = 0.514444


@dataclass(frozen=True)
class TrackerReport:
    """A report; `point` is None for a heartbeat or status report without coordinates
    (its battery and charging are still kept on the device)."""

    identifier: str
    token: str | None
    point: PositionIn | None
    time: datetime
    battery_pct: float | None = None
    charging: bool | None = None


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).strip().lower() in ("1", "true", "yes")


def _time(value: Any) -> datetime:
    if value is None or value == "":
        return datetime.now(UTC)  # the protocol allows it: the server's clock stands in
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        value = value + "+00:00"
    return parse_time(value)


def from_parameters(params: Mapping[str, str]) -> TrackerReport:
    identifier = params.get("id") or params.get("deviceid")
    if not identifier:
        raise PointInvalid("id (or deviceid) is missing")
    values: dict[str, Any] = dict(params)
    if "location" in params and "lat" not in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise PointInvalid("location must be 'lat,lon'")
        values["lat"], values["lon"] = parts[0].strip(), parts[1].strip()
    moment = _time(values.get("timestamp"))
    battery = bounded_number(values, "batt", 0, 100)
    charging = _flag(values.get("charge"))
    token = params.get("token")
    if _no_coordinates(values.get("lat"), values.get("lon")):
        return TrackerReport(str(identifier)[:100], token, None, moment, battery, charging)
    speed_knots = bounded_number(values, "speed", 0, 2_000)
    heading_key = "bearing" if "bearing" in values else "heading"
    heading = bounded_number(values, heading_key, 0, 360)
    lat = bounded_number(values, "lat", -90, 90, required=True)
    lon = bounded_number(values, "lon", -180, 180, required=True)
    assert lat is not None and lon is not None
    accuracy = bounded_number(values, "accuracy", 0, 100_000)
    if accuracy is None and values.get("hdop"):
        hdop = bounded_number(values, "hdop", 0, 100)
        accuracy = hdop * 5 if hdop is not None else None  # ~5 m per unit of HDOP for phone GNSS
    point = PositionIn(
        time=moment,
        lat=lat,
        lon=lon,
        accuracy_m=accuracy,
        speed_mps=speed_knots * KNOT_MPS if speed_knots is not None else None,
        heading=heading,
        altitude_m=bounded_number(values, "altitude", -1_000, 20_000),
        battery_pct=battery,
        charging=charging,
        valid=_flag(values.get("valid")) is not False,
    )
    return TrackerReport(str(identifier)[:100], token, point, moment, battery, charging)


def _no_coordinates(lat: Any, lon: Any) -> bool:
    """Neither coordinate: a heartbeat. One without the other is a malformed report."""
    return (lat is None or lat == "") and (lon is None or lon == "")


def from_json(body: Any) -> TrackerReport:
    if not isinstance(body, dict):
        raise PointInvalid("the body must be a JSON object")
    identifier = body.get("device_id") or body.get("id")
    location = body.get("location")
    if not identifier:
        raise PointInvalid("device_id is missing")
    if location is None:
        location = {}
    if not isinstance(location, dict):
        raise PointInvalid("location must be an object")
    raw_coords = location.get("coords")
    if raw_coords is not None and not isinstance(raw_coords, dict):
        raise PointInvalid("location.coords must be an object")
    coords: dict[str, Any] = raw_coords or {}
    values = {
        "lat": coords.get("latitude"),
        "lon": coords.get("longitude"),
        "accuracy": coords.get("accuracy"),
        # -1 means "unknown" in this format
        "speed": None if _negative(coords.get("speed")) else coords.get("speed"),
        "heading": None if _negative(coords.get("heading")) else coords.get("heading"),
        "altitude": coords.get("altitude"),
    }
    raw_battery, raw_activity = location.get("battery"), location.get("activity")
    battery: dict[str, Any] = raw_battery if isinstance(raw_battery, dict) else {}
    level = battery.get("level")
    values["batt"] = level * 100 if isinstance(level, int | float) and level >= 0 else None
    activity: dict[str, Any] = raw_activity if isinstance(raw_activity, dict) else {}
    token = body.get("token")
    moment = _time(location.get("timestamp"))
    battery_pct = bounded_number(values, "batt", 0, 100)
    charging = battery.get("is_charging") if isinstance(battery.get("is_charging"), bool) else None
    if _no_coordinates(values["lat"], values["lon"]):
        return TrackerReport(str(identifier)[:100], str(token) if token else None, None, moment, battery_pct, charging)
    lat = bounded_number(values, "lat", -90, 90, required=True)
    lon = bounded_number(values, "lon", -180, 180, required=True)
    assert lat is not None and lon is not None
    point = PositionIn(
        time=moment,
        lat=lat,
        lon=lon,
        accuracy_m=bounded_number(values, "accuracy", 0, 100_000),
        speed_mps=bounded_number(values, "speed", 0, 1_000),
        heading=bounded_number(values, "heading", 0, 360),
        altitude_m=bounded_number(values, "altitude", -1_000, 20_000),
        battery_pct=battery_pct,
        charging=charging,
        activity=str(activity.get("type"))[:32] if activity.get("type") else None,
        # Traccar Client's JSON has no validity flag of its own; `location.valid` if sent
        valid=location.get("valid") is not False,
    )
    return TrackerReport(str(identifier)[:100], str(token) if token else None, point, moment, battery_pct, charging)


def _negative(value: Any) -> bool:
    return isinstance(value, int | float) and value < 0
