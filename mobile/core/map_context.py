"""What the route map needs besides the day's visits: the organisation's tile source and
attribution, and the outline of the rep's territory.

Both are fetched while online (`refresh`, at most every `REFRESH_EVERY_S`) and kept in
the store's state, so the map draws them offline too. Pure Python, no Kivy.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient

__all__ = [
    "MAP_SOURCE_TILES",
    "MAP_SOURCE_VECTORS",
    "REFRESH_EVERY_S",
    "MapContext",
    "load",
    "refresh",
    "territory_rings",
]

REFRESH_EVERY_S = 1800
# The rep's choice in Settings: the organisation's tiles, or vector drawings only (no
# tile is ever downloaded: for metered data plans).
MAP_SOURCE_TILES = "tiles"
MAP_SOURCE_VECTORS = "vectors"

Ring = list[tuple[float, float]]  # (lat, lon) pairs, closed


@dataclass(frozen=True)
class MapContext:
    tile_url: str  # a {z}/{x}/{y} template; "" means vectors only (the organisation's choice)
    attribution: str
    territory_rings: list[Ring]
    map_source: str  # MAP_SOURCE_TILES or MAP_SOURCE_VECTORS (the rep's choice)

    @property
    def uses_tiles(self) -> bool:
        return bool(self.tile_url) and self.map_source == MAP_SOURCE_TILES


def load(store: LocalStore) -> MapContext:
    try:
        stored = json.loads(store.get_state("territory_rings") or "[]")
        rings = [[(float(lat), float(lon)) for lat, lon in ring] for ring in stored]
    except (ValueError, TypeError):
        rings = []  # a damaged value only costs the outline until the next refresh
    return MapContext(
        tile_url=store.get_state("map_tile_url") or "",
        attribution=store.get_state("map_attribution") or "",
        territory_rings=rings,
        map_source=store.get_state("map_source") or MAP_SOURCE_TILES,
    )


def refresh(client: SyncClient, store: LocalStore, now: float | None = None, force: bool = False) -> bool:
    """Fetch the tile settings and the territory outline when they are older than
    `REFRESH_EVERY_S`; True when fetched. Network errors propagate (the caller is the sync
    runner, which reports them); what was stored before stays."""
    now = time.time() if now is None else now
    fetched_at = store.get_state("map_context_at")
    if not force and fetched_at is not None and now - float(fetched_at) < REFRESH_EVERY_S:
        return False
    settings = client.call("GET", "/api/v1/organizations/me/settings")
    settings.raise_for_status()
    territories = client.call("GET", "/api/v1/territories/export")
    territories.raise_for_status()
    body = settings.json()
    store.set_state("map_tile_url", str(body.get("map_tile_url") or ""))
    store.set_state("map_attribution", str(body.get("map_attribution") or ""))
    store.set_state("territory_rings", json.dumps(territory_rings(territories.json(), store.user_id)))
    store.set_state("map_context_at", str(now))
    return True


def territory_rings(collection: dict[str, Any], user_id: str | None) -> list[Ring]:
    """The outer rings of the territories this rep works (all the rep may see when none
    names them), as (lat, lon); GeoJSON keeps (lon, lat)."""
    features = [f for f in collection.get("features", []) if isinstance(f, dict)]
    mine = [f for f in features if user_id and user_id in (f.get("properties") or {}).get("rep_ids", [])]
    rings: list[Ring] = []
    for feature in mine or features:
        geometry = feature.get("geometry") or {}
        polygons = (
            [geometry.get("coordinates", [])] if geometry.get("type") == "Polygon" else geometry.get("coordinates", [])
        )
        for polygon in polygons:
            if polygon:
                rings.append([(float(point[1]), float(point[0])) for point in polygon[0]])
    return rings
