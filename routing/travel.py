"""Travel between locations: durations (seconds) and distances (metres).

Three sources behind one interface:
- `HaversineTravel`: great-circle distance times a circuity factor, at a speed
  (defaults 1.3 and 35 km/h: typical for city driving);
- `ExplicitTravel`: matrices given by the caller (or a benchmark);
- `OsrmTravel`: an OSRM `/table/v1` server (Valhalla answers the same format
  with `format=osrm`), fetched in blocks the server accepts.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from shared.geo import haversine_m

__all__ = [
    "UNREACHABLE",
    "ExplicitTravel",
    "HaversineTravel",
    "OsrmError",
    "OsrmTravel",
    "TravelMatrix",
]

# What an unroutable pair costs: far beyond any working day or city.
UNREACHABLE = 10_000_000.0


class TravelMatrix:
    """Dense duration and distance matrices over `size` locations."""

    size: int
    durations: list[list[float]]
    distances: list[list[float]]

    def duration(self, origin: int, destination: int) -> float:
        return self.durations[origin][destination]

    def distance(self, origin: int, destination: int) -> float:
        return self.distances[origin][destination]


def _check_square(matrix: Sequence[Sequence[float]], what: str) -> list[list[float]]:
    size = len(matrix)
    rows: list[list[float]] = []
    for index, row in enumerate(matrix):
        if len(row) != size:
            raise ValueError(f"{what} must be square: row {index} has {len(row)} entries, expected {size}")
        values = [float(v) for v in row]
        for value in values:
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{what} row {index} has {value!r}; entries must be finite and non-negative")
        rows.append(values)
    return rows


class ExplicitTravel(TravelMatrix):
    """Matrices given as they are. Distances default to the durations."""

    def __init__(self, durations: Sequence[Sequence[float]], distances: Sequence[Sequence[float]] | None = None):
        self.durations = _check_square(durations, "durations")
        self.distances = _check_square(distances, "distances") if distances is not None else self.durations
        if len(self.distances) != len(self.durations):
            raise ValueError("durations and distances must have the same size")
        self.size = len(self.durations)


@dataclass(frozen=True)
class Speed:
    kmh: float = 35.0
    circuity: float = 1.3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.kmh) and self.kmh > 0):
            raise ValueError(f"speed must be a positive number of km/h, got {self.kmh}")
        if not (math.isfinite(self.circuity) and self.circuity >= 1):
            raise ValueError(
                f"circuity must be at least 1 (roads are never shorter than the crow flies), got {self.circuity}"
            )


class HaversineTravel(TravelMatrix):
    """Crow-flies distance x circuity, driven at a constant speed."""

    def __init__(self, locations: Sequence[tuple[float, float]], speed_kmh: float = 35.0, circuity: float = 1.3):
        speed = Speed(speed_kmh, circuity)
        for index, (lon, lat) in enumerate(locations):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"location {index} [{lon}, {lat}] is not [lon, lat] in degrees")
        metres_per_second = speed.kmh / 3.6
        self.size = len(locations)
        self.distances = [
            [haversine_m(lat1, lon1, lat2, lon2) * speed.circuity for lon2, lat2 in locations]
            for lon1, lat1 in locations
        ]
        self.durations = [[d / metres_per_second for d in row] for row in self.distances]


class OsrmError(RuntimeError):
    """The routing server could not be reached or answered with an error."""


class OsrmTravel(TravelMatrix):
    """Durations and distances from an OSRM-compatible `/table/v1` service.

    The table is requested in blocks of at most `max_table_size` sources and
    destinations (OSRM's default limit is 100). Pairs the server cannot route
    (null) cost `UNREACHABLE`.
    """

    def __init__(
        self,
        base_url: str,
        locations: Sequence[tuple[float, float]],
        profile: str = "driving",
        max_table_size: int = 100,
        timeout: float = 30.0,
    ):
        if max_table_size < 2:
            raise ValueError("max_table_size must be at least 2")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = timeout
        self.size = len(locations)
        self.durations = [[0.0] * self.size for _ in range(self.size)]
        self.distances = [[0.0] * self.size for _ in range(self.size)]
        block = max(1, max_table_size // 2)
        for source_start in range(0, self.size, block):
            sources = list(range(source_start, min(self.size, source_start + block)))
            for destination_start in range(0, self.size, block):
                destinations = list(range(destination_start, min(self.size, destination_start + block)))
                self._fetch_block(locations, sources, destinations)

    def _fetch_block(
        self, locations: Sequence[tuple[float, float]], sources: list[int], destinations: list[int]
    ) -> None:
        points = sorted(set(sources) | set(destinations))
        position = {location: i for i, location in enumerate(points)}
        coordinates = ";".join(f"{locations[p][0]:.6f},{locations[p][1]:.6f}" for p in points)
        query = urllib.parse.urlencode(
            {
                "sources": ";".join(str(position[s]) for s in sources),
                "destinations": ";".join(str(position[d]) for d in destinations),
                "annotations": "duration,distance",
            }
        )
        url = f"{self.base_url}/table/v1/{self.profile}/{coordinates}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise OsrmError(f"routing server answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise OsrmError(f"routing server at {self.base_url} is unreachable or answered garbage: {exc}") from exc
        if payload.get("code") != "Ok":
            raise OsrmError(f"routing server refused the table: {payload.get('code')}: {payload.get('message', '')}")
        durations = payload.get("durations")
        distances = payload.get("distances")
        if durations is None or distances is None:
            raise OsrmError("the routing server did not return both durations and distances")
        for row_index, source in enumerate(sources):
            for column_index, destination in enumerate(destinations):
                duration = durations[row_index][column_index]
                distance = distances[row_index][column_index]
                self.durations[source][destination] = UNREACHABLE if duration is None else float(duration)
                self.distances[source][destination] = UNREACHABLE if distance is None else float(distance)
