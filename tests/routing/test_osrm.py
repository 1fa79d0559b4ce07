"""The OSRM /table/v1 client against a local server that answers in OSRM's documented format.

A mock is acceptable here: no routing server can run in this environment. The
mock implements the documented request (coordinates path, `sources`,
`destinations`, `annotations`) and response (`code`, `durations`,
`distances`, null for unroutable pairs).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from routing.travel import UNREACHABLE, OsrmError, OsrmTravel
from shared.geo import haversine_m

POINTS = [(4.80 + 0.01 * i, 45.75 + 0.005 * (i % 3)) for i in range(7)]
ISLAND = 6  # no road reaches it


class TableHandler(BaseHTTPRequestHandler):
    requests: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)  # not urlparse: it would cut the path at ';'
        parts = url.path.split("/")
        if parts[1:4] != ["table", "v1", "driving"]:
            self._send(400, {"code": "InvalidUrl", "message": "expected /table/v1/driving/..."})
            return
        coordinates = [tuple(map(float, p.split(","))) for p in parts[4].split(";")]
        query = parse_qs(url.query)
        sources = [int(s) for s in query["sources"][0].split(";")]
        destinations = [int(d) for d in query["destinations"][0].split(";")]
        TableHandler.requests.append({"n": len(coordinates), "annotations": query["annotations"][0]})
        if len(sources) > 4 or len(destinations) > 4:
            self._send(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return

        def metres(a: int, b: int) -> float | None:
            pa, pb = coordinates[a], coordinates[b]
            if a != b and ISLAND_POINT in (pa, pb):
                return None
            return round(haversine_m(pa[1], pa[0], pb[1], pb[0]) * 1.25, 1)

        distances = [[metres(s, d) for d in destinations] for s in sources]
        durations = [[None if m is None else round(m / 10, 1) for m in row] for row in distances]
        self._send(200, {"code": "Ok", "durations": durations, "distances": distances})

    def _send(self, status: int, body: dict[str, object]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


ISLAND_POINT = (round(POINTS[ISLAND][0], 6), round(POINTS[ISLAND][1], 6))


@pytest.fixture
def osrm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TableHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    TableHandler.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_table_is_fetched_in_blocks_and_assembled(osrm):
    travel = OsrmTravel(osrm, POINTS, max_table_size=8)  # blocks of 4 x 4
    assert travel.size == len(POINTS)
    assert len(TableHandler.requests) == 4  # 2 source blocks x 2 destination blocks
    assert all(r["annotations"] == "duration,distance" for r in TableHandler.requests)
    expected = haversine_m(POINTS[0][1], POINTS[0][0], POINTS[5][1], POINTS[5][0]) * 1.25
    assert travel.distance(0, 5) == pytest.approx(expected, abs=0.1)
    assert travel.duration(5, 0) == pytest.approx(expected / 10, abs=0.1)
    assert travel.distance(3, 3) == 0


def test_unroutable_pairs_cost_unreachable(osrm):
    travel = OsrmTravel(osrm, POINTS, max_table_size=8)
    assert travel.duration(0, ISLAND) == UNREACHABLE
    assert travel.distance(ISLAND, 2) == UNREACHABLE


def test_server_errors_are_reported(osrm):
    with pytest.raises(OsrmError, match="Too many table coordinates"):
        OsrmTravel(osrm, POINTS, max_table_size=100)
    with pytest.raises(OsrmError, match="unreachable"):
        OsrmTravel("http://127.0.0.1:9", POINTS[:2], timeout=2)
