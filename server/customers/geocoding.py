"""Addresses to coordinates, through a Nominatim or Photon server (most CRM exports have
addresses and no coordinates).

- `GEOCODER_URL` names the server; `GEOCODER_KIND` says which protocol it speaks
  (`nominatim`: `/search?format=jsonv2&q=...&limit=1`; `photon`: `/api?q=...&limit=1`,
  GeoJSON). Self-hosted servers have no quota; `GEOCODER_MIN_INTERVAL_S` spaces requests
  for a shared one (the public Nominatim asks for one a second, and a real User-Agent).
- Every answer (found or not) is cached in `geocode_cache`, keyed by the normalised
  address: a re-import asks the server nothing.
- Each result carries its accuracy (`geocode_accuracy`): rooftop (a house number),
  street, postal_code or city, from the server's own classification.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.models import GeocodeCache
from shared.enums import GeocodeAccuracy

USER_AGENT = "FieldForce/1 (field force automation; customer import)"


@dataclass(frozen=True)
class Geocoded:
    lat: float
    lon: float
    accuracy: GeocodeAccuracy


class GeocoderUnavailable(RuntimeError):
    """The server could not be asked (down, refused, timed out): not the address's fault."""


class Geocoder(Protocol):
    provider: str

    def lookup(self, query: str, country: str | None) -> Geocoded | None: ...


def address_query(values: dict[str, Any]) -> str | None:
    """The one-line address of a row's values, or None when it has none worth asking."""
    parts = [values.get(key) for key in ("street", "postal_code", "city", "region")]
    words = [str(part).strip() for part in parts if part and str(part).strip()]
    if not words or not (values.get("city") or values.get("postal_code")):
        return None
    return ", ".join(words)


def _key(provider: str, query: str, country: str | None) -> str:
    normalised = " ".join(query.lower().split())
    return hashlib.sha256(f"{provider}|{country or ''}|{normalised}".encode()).hexdigest()


class HttpGeocoder:
    """Nominatim or Photon over HTTP, with the database cache in front."""

    def __init__(
        self,
        url: str,
        kind: str,
        *,
        min_interval_s: float = 0.0,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        if kind not in ("nominatim", "photon"):
            raise ValueError("GEOCODER_KIND is nominatim or photon")
        self.base = url.rstrip("/")
        self.provider = kind
        self.min_interval_s = min_interval_s
        self._client = client or httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT})
        self._last_request = 0.0

    def lookup(self, query: str, country: str | None) -> Geocoded | None:
        wait = self.min_interval_s - (time.monotonic() - self._last_request)
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()
        try:
            if self.provider == "nominatim":
                params: dict[str, Any] = {"q": query, "format": "jsonv2", "limit": 1, "addressdetails": 0}
                if country:
                    params["countrycodes"] = country.lower()
                response = self._client.get(f"{self.base}/search", params=params)
            else:
                response = self._client.get(f"{self.base}/api", params={"q": query, "limit": 1})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise GeocoderUnavailable(f"{self.provider} at {self.base}: {error}") from error
        return _nominatim(body) if self.provider == "nominatim" else _photon(body, country)


def _nominatim(body: Any) -> Geocoded | None:
    if not isinstance(body, list) or not body:
        return None
    hit = body[0]
    rank = int(hit.get("place_rank") or 0)
    kind = str(hit.get("addresstype") or hit.get("type") or "")
    if kind == "postcode":
        accuracy = GeocodeAccuracy.postal_code
    elif rank >= 30 or kind in ("house", "building"):
        accuracy = GeocodeAccuracy.rooftop
    elif rank >= 26:
        accuracy = GeocodeAccuracy.street
    else:
        accuracy = GeocodeAccuracy.city
    return Geocoded(float(hit["lat"]), float(hit["lon"]), accuracy)


def _photon(body: Any, country: str | None) -> Geocoded | None:
    features = body.get("features") if isinstance(body, dict) else None
    if not features:
        return None
    for feature in features:
        properties = feature.get("properties") or {}
        if country and properties.get("countrycode") and str(properties["countrycode"]).upper() != country.upper():
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        kind = str(properties.get("type") or "")
        accuracy = {
            "house": GeocodeAccuracy.rooftop,
            "street": GeocodeAccuracy.street,
            "postcode": GeocodeAccuracy.postal_code,
        }.get(kind, GeocodeAccuracy.rooftop if properties.get("housenumber") else GeocodeAccuracy.city)
        return Geocoded(float(lat), float(lon), accuracy)
    return None


def geocode(session: Session, geocoder: Geocoder, query: str, country: str | None) -> Geocoded | None:
    """Cached first; a miss asks the server and remembers the answer (not-found too)."""
    key = _key(geocoder.provider, query, country)
    cached = session.get(GeocodeCache, key)
    if cached is not None:
        if cached.lat is None or cached.lon is None:
            return None
        return Geocoded(cached.lat, cached.lon, GeocodeAccuracy(cached.accuracy))
    found = geocoder.lookup(query, country)
    session.execute(
        insert(GeocodeCache)
        .values(
            key=key,
            provider=geocoder.provider,
            query=query[:500],
            lat=found.lat if found else None,
            lon=found.lon if found else None,
            accuracy=found.accuracy.value if found else GeocodeAccuracy.unknown.value,
        )
        .on_conflict_do_nothing()
    )
    return found


def geocoder_from_settings(settings: Any) -> HttpGeocoder | None:
    """The configured geocoder, or None when GEOCODER_URL is not set."""
    if not settings.geocoder_url:
        return None
    return HttpGeocoder(settings.geocoder_url, settings.geocoder_kind, min_interval_s=settings.geocoder_min_interval_s)
