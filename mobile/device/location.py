"""Where the rep is: `LocationProvider`, with plyer's GPS on Android and `FakeLocation`
replaying a track on the desktop and in tests.

A provider calls `on_fix(Fix)` for every position and `on_status(text)` when the
GPS state changes ("no fix yet", "GPS off"). Calls come from the provider's own
thread (plyer's, or the replay's): the UI schedules its widget updates with
`Clock.schedule_once`, never touching widgets from there.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mobile.core.tracking import Fix

__all__ = ["FakeLocation", "LocationProvider", "PlyerLocation", "read_gpx"]

FixCallback = Callable[[Fix], None]
StatusCallback = Callable[[str], None]


class LocationProvider(Protocol):
    def start(self, on_fix: FixCallback, on_status: StatusCallback) -> None: ...

    def stop(self) -> None: ...

    @property
    def last_fix(self) -> Fix | None: ...


def read_gpx(path: Path) -> list[Fix]:
    """The track points of a GPX 1.1 file (lat, lon, time; elevation when given)."""
    namespace = {"gpx": "http://www.topografix.com/GPX/1/1"}
    fixes = []
    for point in ET.parse(path).getroot().iterfind(".//gpx:trkpt", namespace):
        when = point.findtext("gpx:time", namespaces=namespace)
        elevation = point.findtext("gpx:ele", namespaces=namespace)
        fixes.append(
            Fix(
                time=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else datetime.now(UTC),
                lat=float(point.attrib["lat"]),
                lon=float(point.attrib["lon"]),
                accuracy_m=10.0,
                altitude_m=float(elevation) if elevation else None,
            )
        )
    return fixes


class FakeLocation:
    """Replays fixes (from a GPX file or a list), `speed` times faster than they were recorded,
    re-stamped to the replay's clock so the server sees a track of today. An empty track
    never fixes (the "GPS that never fixes" case)."""

    def __init__(self, fixes: Sequence[Fix], *, speed: float = 60.0, now: Callable[[], datetime] | None = None):
        self._fixes = list(fixes)
        self._speed = max(speed, 0.001)
        self._now = now or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: Fix | None = None

    @classmethod
    def from_gpx(cls, path: Path, **kwargs: Any) -> FakeLocation:
        return cls(read_gpx(path), **kwargs)

    @property
    def last_fix(self) -> Fix | None:
        return self._last

    def start(self, on_fix: FixCallback, on_status: StatusCallback) -> None:
        self.stop()
        self._stop.clear()
        self._thread = threading.Thread(target=self._replay, args=(on_fix, on_status), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _replay(self, on_fix: FixCallback, on_status: StatusCallback) -> None:
        if not self._fixes:
            on_status("no fix yet")
            return
        on_status("on")
        for index, fix in enumerate(self._fixes):
            if index:
                gap = (fix.time - self._fixes[index - 1].time).total_seconds() / self._speed
                if self._stop.wait(max(0.0, gap)):
                    return
            stamped = Fix(
                self._now(),
                fix.lat,
                fix.lon,
                fix.accuracy_m,
                fix.speed_mps,
                fix.heading,
                fix.altitude_m,
                fix.battery_pct,
                fix.charging,
            )
            self._last = stamped
            on_fix(stamped)
        on_status("track ended")


class PlyerLocation:  # pragma: no cover - needs an Android device
    """plyer's GPS (Android's LocationManager), min 5 s or 10 m between fixes."""

    def __init__(self, min_time_ms: int = 5_000, min_distance_m: float = 10.0) -> None:
        self._min_time_ms = min_time_ms
        self._min_distance_m = min_distance_m
        self._last: Fix | None = None

    @property
    def last_fix(self) -> Fix | None:
        return self._last

    def start(self, on_fix: FixCallback, on_status: StatusCallback) -> None:
        from plyer import gps  # imported here: plyer is an Android requirement only

        def location(**values: Any) -> None:
            fix = Fix(
                time=datetime.now(UTC),
                lat=float(values["lat"]),
                lon=float(values["lon"]),
                accuracy_m=_number(values.get("accuracy")),
                speed_mps=_number(values.get("speed")),
                heading=_number(values.get("bearing")),
                altitude_m=_number(values.get("altitude")),
            )
            self._last = fix
            on_fix(fix)

        gps.configure(on_location=location, on_status=lambda kind, message: on_status(f"{kind}: {message}"))
        gps.start(minTime=self._min_time_ms, minDistance=self._min_distance_m)

    def stop(self) -> None:
        from plyer import gps

        gps.stop()


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def fixes_along(points: Sequence[tuple[float, float]], start: datetime, every: timedelta) -> list[Fix]:
    """A track through `points` (lat, lon), one fix every `every` (for demos and tests)."""
    return [Fix(start + every * index, lat, lon, accuracy_m=8.0) for index, (lat, lon) in enumerate(points)]
