"""Map tiles for kivy-garden mapview: the organisation's tile server, a disk cache, a
User-Agent that names the app, and no network call while the app is offline.

mapview's own downloader sends its library name as User-Agent and cannot be told the
app is offline, so `CachedTileSource.fill_tile` replaces it: a cached tile is shown at
once; a missing one is fetched on a small thread pool only while `is_online()`; a failed
fetch pauses fetching for `PAUSE_AFTER_FAILURE_S` (the vector drawing stays underneath,
so a missing tile only means less background).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from random import choice
from typing import Any

import httpx
from kivy.clock import Clock
from kivy_garden.mapview import MapSource

from mobile.core.sync_client import APP_VERSION

__all__ = ["USER_AGENT", "CachedTileSource", "TileCache", "TileFetcher"]

logger = logging.getLogger(__name__)
# The OpenStreetMap tile policy asks for an identifying User-Agent.
USER_AGENT = f"{APP_VERSION} (FieldForce field force app; https://github.com/fieldforce)"
PAUSE_AFTER_FAILURE_S = 60.0
MAX_CACHE_BYTES = 150 * 1024 * 1024
MAX_TILE_BYTES = 2 * 1024 * 1024


class TileCache:
    """Tiles on disk under `folder`, one subfolder per tile source; the oldest go first
    when the cache outgrows `max_bytes`."""

    def __init__(self, folder: Path, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def path(self, url_template: str, zoom: int, x: int, y: int) -> Path:
        source = hashlib.sha256(url_template.encode()).hexdigest()[:12]
        return self.folder / source / f"{zoom}-{x}-{y}.png"

    def size(self) -> tuple[int, int]:
        """(tiles, bytes) on disk."""
        files = [p for p in self.folder.rglob("*.png")] if self.folder.exists() else []
        return len(files), sum(p.stat().st_size for p in files)

    def prune(self) -> int:
        """Delete the least recently written tiles beyond `max_bytes`; how many went."""
        if not self.folder.exists():
            return 0
        files = sorted(self.folder.rglob("*.png"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        removed = 0
        for path in files:
            if total <= self.max_bytes:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def clear(self) -> None:
        for path in self.folder.rglob("*.png") if self.folder.exists() else []:
            path.unlink(missing_ok=True)


class TileFetcher:
    """Downloads tiles on two threads (tile servers ask apps to stay gentle)."""

    def __init__(self, is_online: Callable[[], bool], timeout: float = 10.0) -> None:
        self.is_online = is_online
        self._client = httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout, follow_redirects=True)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tiles")
        self._wanted: set[Path] = set()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.fetched = 0
        self.failed = 0

    def busy(self) -> bool:
        with self._lock:
            return bool(self._wanted)

    def may_fetch(self) -> bool:
        return self.is_online() and time.monotonic() >= self._paused_until

    def fetch(self, url: str, target: Path, done: Callable[[Path], None]) -> None:
        """Fetch `url` into `target`, then `done(target)` on the UI thread; a tile already on
        its way is not asked for twice."""
        with self._lock:
            if target in self._wanted:
                return
            self._wanted.add(target)
        self._pool.submit(self._fetch, url, target, done)

    def _fetch(self, url: str, target: Path, done: Callable[[Path], None]) -> None:
        try:
            if not self.may_fetch():
                return  # went offline while it waited in the queue
            response = self._client.get(url)
            response.raise_for_status()
            if not response.headers.get("content-type", "image/").startswith("image/"):
                raise ValueError(f"not an image: {response.headers.get('content-type')}")
            if len(response.content) > MAX_TILE_BYTES:
                raise ValueError("tile too large")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(response.content)
            os.replace(partial, target)  # a half-written tile is never shown
            self.fetched += 1
            Clock.schedule_once(lambda _dt: done(target))
        except (httpx.HTTPError, OSError, ValueError) as problem:
            self.failed += 1
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            logger.info("tile %s not fetched (%s); tiles paused for %.0f s", url, problem, PAUSE_AFTER_FAILURE_S)
        finally:
            with self._lock:
                self._wanted.discard(target)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()


class CachedTileSource(MapSource):  # mapview ships no type hints
    """A mapview source for a {z}/{x}/{y} URL template served from `cache` or `fetcher`."""

    def __init__(self, url: str, attribution: str, cache: TileCache, fetcher: TileFetcher, **kwargs: Any) -> None:
        subdomains = ["a", "b", "c"] if "{s}" in url else [""]
        super().__init__(url=url, attribution=attribution, subdomains=subdomains, cache_dir=str(cache.folder), **kwargs)
        self.cache = cache
        self.fetcher = fetcher
        # False until the map has been framed: the tiles of mapview's first view (the whole
        # world at zoom 0) are never wanted, so not fetched.
        self.framed = False

    def fill_tile(self, tile: Any) -> None:
        if tile.state == "done" or not self.framed:
            return
        zoom, x = int(tile.zoom), int(tile.tile_x)
        y = self.get_row_count(zoom) - int(tile.tile_y) - 1  # mapview counts rows from the bottom
        path = self.cache.path(self.url, zoom, x, y)
        if path.exists():
            tile.set_source(str(path))
        elif self.fetcher.may_fetch():
            url = self.url.format(z=zoom, x=x, y=y, s=choice(self.subdomains))
            self.fetcher.fetch(url, path, lambda fetched: tile.set_source(str(fetched)))
