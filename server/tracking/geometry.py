"""Track geometry on the Earth, in metres (never Cartesian degrees): simplification,
distance travelled, stops, and GPX 1.1."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from shared.geo import EARTH_RADIUS_M, haversine_m


@dataclass(frozen=True, slots=True)
class Fix:
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    altitude_m: float | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    lat: float
    lon: float
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def distance_m(fixes: Sequence[Fix]) -> float:
    return sum(haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(fixes))


def _project(fixes: Sequence[Fix]) -> tuple[list[float], list[float]]:
    """Metres east and north in an equirectangular projection around the track's mean latitude:
    exact to well under a metre at city scale, and a few multiplications per point."""
    lat0 = math.radians(sum(f.lat for f in fixes) / len(fixes))
    kx = math.cos(lat0) * math.pi / 180 * EARTH_RADIUS_M
    ky = math.pi / 180 * EARTH_RADIUS_M
    return [f.lon * kx for f in fixes], [f.lat * ky for f in fixes]


def simplify(fixes: Sequence[Fix], tolerance_m: float) -> list[Fix]:
    """Douglas-Peucker with a tolerance in metres (iterative: a day of 2,880 fixes never recurses)."""
    if len(fixes) <= 2 or tolerance_m <= 0:
        return list(fixes)
    xs, ys = _project(fixes)
    keep = [False] * len(fixes)
    keep[0] = keep[-1] = True
    stack = [(0, len(fixes) - 1)]
    while stack:
        first, last = stack.pop()
        ax, ay, bx, by = xs[first], ys[first], xs[last], ys[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        worst, worst_index = -1.0, -1
        for i in range(first + 1, last):
            px, py = xs[i] - ax, ys[i] - ay
            if length2 == 0:
                d2 = px * px + py * py
            else:
                t = max(0.0, min(1.0, (px * dx + py * dy) / length2))
                ex, ey = px - t * dx, py - t * dy
                d2 = ex * ex + ey * ey
            if d2 > worst:
                worst, worst_index = d2, i
        if worst_index >= 0 and worst > tolerance_m * tolerance_m:
            keep[worst_index] = True
            stack.append((first, worst_index))
            stack.append((worst_index, last))
    return [fix for fix, kept in zip(fixes, keep, strict=True) if kept]


def stops(fixes: Sequence[Fix], *, radius_m: float, min_minutes: float) -> list[Stop]:
    """Places where the track stayed within `radius_m` of where it arrived for at least `min_minutes`."""
    if not fixes:
        return []
    xs, ys = _project(fixes)
    radius2 = radius_m * radius_m
    found: list[Stop] = []
    i, count = 0, len(fixes)
    while i < count:
        ax, ay = xs[i], ys[i]
        j = i + 1
        while j < count and (xs[j] - ax) ** 2 + (ys[j] - ay) ** 2 <= radius2:
            j += 1
        anchor, last = fixes[i], fixes[j - 1]
        if (last.time - anchor.time).total_seconds() >= min_minutes * 60:
            group = fixes[i:j]
            found.append(
                Stop(
                    lat=sum(f.lat for f in group) / len(group),
                    lon=sum(f.lon for f in group) / len(group),
                    start=anchor.time,
                    end=last.time,
                )
            )
            i = j
        else:
            i += 1
    return found


def longest_dwell_minutes(fixes: Sequence[Fix], lat: float, lon: float, radius_m: float) -> float:
    """The longest unbroken run of fixes within `radius_m` of a point, in minutes."""
    best = 0.0
    run_start: datetime | None = None
    previous: datetime | None = None
    for fix in fixes:
        if haversine_m(lat, lon, fix.lat, fix.lon) <= radius_m:
            run_start = run_start or fix.time
            previous = fix.time
            best = max(best, (previous - run_start).total_seconds() / 60)
        else:
            run_start = previous = None
    return best


def gpx(fixes: Sequence[Fix], *, name: str) -> str:
    """A GPX 1.1 document with one track segment."""
    points = []
    for fix in fixes:
        extra = f"<ele>{fix.altitude_m:.1f}</ele>" if fix.altitude_m is not None else ""
        points.append(
            f'<trkpt lat="{fix.lat:.7f}" lon="{fix.lon:.7f}">{extra}'
            f"<time>{fix.time.isoformat().replace('+00:00', 'Z')}</time></trkpt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="FieldForce" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<trk><name>{escape(name)}</name><trkseg>\n" + "\n".join(points) + "\n</trkseg></trk>\n</gpx>\n"
    )
