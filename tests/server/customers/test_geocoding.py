"""Addresses without coordinates, geocoded on import through a local server that speaks
Nominatim's and Photon's documented search formats: cached, with a per-row accuracy, and a
row that cannot be geocoded reported with its line (imported without a location)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from server.customers.geocoding import HttpGeocoder, address_query
from server.customers.importer import GeocoderFailed, import_customers
from server.geo import point_out
from server.models import Customer
from tests.net import free_port
from tests.server.world import WORLD as W

# What the fake knows: query text (lower case) -> (lat, lon, Nominatim place_rank/addresstype, Photon type)
PLACES = {
    "12 rue de la république, 69002, lyon": (45.7621, 4.8357, 30, "house", "house"),
    "rue de la république, lyon": (45.7605, 4.8360, 26, "road", "street"),
    "69003, lyon": (45.7589, 4.8497, 21, "postcode", "postcode"),
    "villeurbanne": (45.7719, 4.8902, 16, "city", "city"),
}


class FakeGeocoder:
    """Answers /search?format=jsonv2 (Nominatim) and /api (Photon GeoJSON), and counts requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.user_agents: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query).get("q", [""])[0].lower()
                outer.requests.append(query)
                outer.user_agents.append(self.headers.get("User-Agent", ""))
                hit = PLACES.get(query)
                if parts.path == "/search":
                    body: Any = (
                        [
                            {
                                "lat": str(hit[0]),
                                "lon": str(hit[1]),
                                "place_rank": hit[2],
                                "addresstype": hit[3],
                                "display_name": query,
                            }
                        ]
                        if hit
                        else []
                    )
                elif parts.path == "/api":
                    body = {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [hit[1], hit[0]]},
                                "properties": {"type": hit[4], "countrycode": "FR"},
                            }
                        ]
                        if hit
                        else [],
                    }
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake() -> Iterator[FakeGeocoder]:
    made = FakeGeocoder()
    yield made
    made.close()


CSV = """name,street,postal code,city,country,latitude,longitude
House,12 rue de la République,69002,Lyon,FR,,
Street,rue de la République,,Lyon,FR,,
Postcode,,69003,Lyon,FR,,
Town,,,Villeurbanne,FR,,
Nowhere,1 Impasse Inconnue,99999,Atlantis,FR,,
Own coordinates,5 place Bellecour,69002,Lyon,FR,45.7578,4.8320
No address,,,,,,
"""


@pytest.mark.parametrize("kind", ["nominatim", "photon"])
def test_import_geocodes_caches_and_reports_what_it_could_not(db, fake, tmp_path: Path, kind: str):
    csv = tmp_path / "crm.csv"
    csv.write_text(CSV, encoding="utf-8")
    geocoder = HttpGeocoder(fake.url, kind)
    seen: list[tuple[int, int]] = []
    report = import_customers(db, W.org_a, csv, geocoder=geocoder, geocode_progress=lambda d, t: seen.append((d, t)))
    assert report.created == 7 and report.geocoded == 4
    assert [(e.line, e.reason) for e in report.not_geocoded] == [
        (6, "address not found: 1 Impasse Inconnue, 99999, Atlantis")
    ]
    assert seen[-1] == (5, 5)  # a progress step per address asked
    rows = {c.name: c for c in db.scalars(select(Customer).where(Customer.org_id == W.org_a))}
    accuracy = {name: rows[name].geocode_accuracy.value for name in ("House", "Street", "Postcode", "Town")}
    assert accuracy == {"House": "rooftop", "Street": "street", "Postcode": "postal_code", "Town": "city"}
    assert point_out(rows["House"].location) == {"lat": 45.7621, "lon": 4.8357}
    assert rows["Nowhere"].location is None and rows["No address"].location is None
    assert rows["Own coordinates"].geocode_accuracy.value == "manual"
    assert all(agent.startswith("FieldForce/") for agent in fake.user_agents)

    # A second import of the same addresses asks the server nothing (not-found answers too).
    asked = len(fake.requests)
    again = tmp_path / "again.csv"
    again.write_text(CSV.replace("House,", "House again,"), encoding="utf-8")
    second = import_customers(db, W.org_a, again, geocoder=geocoder)
    assert len(fake.requests) == asked and second.geocoded == 4


def test_a_geocoder_that_cannot_be_reached_imports_nothing(db, tmp_path: Path):
    csv = tmp_path / "crm.csv"
    csv.write_text(CSV, encoding="utf-8")
    before = len(list(db.scalars(select(Customer.id).where(Customer.org_id == W.org_a))))
    down = HttpGeocoder(f"http://127.0.0.1:{free_port()}", "nominatim", timeout_s=1)
    with pytest.raises(GeocoderFailed) as failed:
        import_customers(db, W.org_a, csv, geocoder=down)
    assert failed.value.code == "GEOCODER_UNAVAILABLE" and "line 2" in failed.value.detail
    db.rollback()
    assert len(list(db.scalars(select(Customer.id).where(Customer.org_id == W.org_a)))) == before


def test_what_counts_as_an_address():
    assert address_query({"street": "1 Main St", "city": "Lyon"}) == "1 Main St, Lyon"
    assert address_query({"postal_code": "69003"}) == "69003"
    assert address_query({"street": "1 Main St"}) is None  # a street alone is anywhere
    assert address_query({}) is None
