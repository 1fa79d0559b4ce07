"""The phone's map context (mobile.core.map_context) against the live server: the tile
source and the rep's own territory outline are fetched while online and kept for offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from mobile.core import map_context
from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient, TransientSyncError
from server.models import Organization
from tests.net import free_port
from tests.server.conftest import token_for
from tests.server.world import WORLD as W


def phone(store: LocalStore, base_url: str, who: str = "r1") -> SyncClient:
    client = SyncClient(store, base_url, backoff_base=0.01, max_attempts=1)
    client.use_tokens(token_for(W, who), user_id=str(getattr(W, who)))
    return client


def test_a_rep_gets_the_tile_source_and_only_their_territory(live_server, connection, db, tmp_path: Path):
    db.execute(
        update(Organization)
        .where(Organization.id == W.org_a)
        .values(map_tile_url="https://tiles.example.org/{z}/{x}/{y}.png", map_attribution="© Example tiles")
    )
    db.flush()
    store = LocalStore(tmp_path / "phone.sqlite")
    store.set_state("user_id", str(W.r1))
    assert map_context.load(store) == map_context.MapContext("", "", [], map_context.MAP_SOURCE_TILES)

    assert map_context.refresh(phone(store, live_server), store, now=1000.0) is True
    context = map_context.load(store)
    assert (context.tile_url, context.attribution) == ("https://tiles.example.org/{z}/{x}/{y}.png", "© Example tiles")
    assert context.uses_tiles
    # r1 works t1 only: one square ring around (45.75, 4.80..4.81), in (lat, lon) and closed.
    assert len(context.territory_rings) == 1
    ring = context.territory_rings[0]
    assert ring[0] == ring[-1] and len(ring) == 5
    assert all(45.74 < lat < 45.77 and 4.7 < lon < 4.9 for lat, lon in ring)

    # Not asked again within the refresh interval, and what is kept survives being offline.
    offline = phone(store, f"http://127.0.0.1:{free_port()}")
    assert map_context.refresh(offline, store, now=1000.0 + map_context.REFRESH_EVERY_S - 1) is False
    with pytest.raises(TransientSyncError):
        map_context.refresh(offline, store, now=1000.0 + map_context.REFRESH_EVERY_S)
    assert map_context.load(store) == context

    # The rep may choose a drawn map only; the organisation may have no tiles at all.
    store.set_state("map_source", map_context.MAP_SOURCE_VECTORS)
    assert not map_context.load(store).uses_tiles
    store.set_state("map_source", map_context.MAP_SOURCE_TILES)
    db.execute(update(Organization).where(Organization.id == W.org_a).values(map_tile_url="", map_attribution=""))
    db.flush()
    map_context.refresh(phone(store, live_server), store, force=True)
    assert not map_context.load(store).uses_tiles


def test_a_damaged_stored_outline_costs_only_the_outline(tmp_path: Path):
    store = LocalStore(tmp_path / "phone.sqlite")
    store.set_state("territory_rings", "{not json")
    store.set_state("map_tile_url", "https://tiles.example.org/{z}/{x}/{y}.png")
    context = map_context.load(store)
    assert context.territory_rings == [] and context.uses_tiles


def test_outlines_of_multipolygons_and_of_territories_without_the_rep():
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [[[4.0, 45.0], [4.1, 45.0], [4.1, 45.1], [4.0, 45.0]]],
                        [[[5.0, 46.0], [5.1, 46.0], [5.1, 46.1], [5.0, 46.0]]],
                    ],
                },
                "properties": {"rep_ids": ["someone-else"]},
            }
        ],
    }
    # None of them names this rep: all the rep may see are drawn (e.g. a manager's outline).
    rings = map_context.territory_rings(collection, "me")
    assert [ring[0] for ring in rings] == [(45.0, 4.0), (46.0, 5.0)]
