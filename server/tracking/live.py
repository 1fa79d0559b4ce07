"""Live positions as server-sent events, fed by PostgreSQL LISTEN/NOTIFY.

Ingest in any server process NOTIFYs on commit. In each server process one `LiveHub`
holds the one LISTEN connection and fans every update out to its subscribers' queues, so
a hundred open live maps cost one database connection, not a hundred. Each stream
forwards the updates its caller may see: their org, their team (or themselves), and for
someone else's rep only while that rep's positions may be shared (working hours, a
started day; re-checked at most once a minute per rep).

A stream outlives no session: every `RECHECK_SECONDS` the caller is looked up again,
and a deactivation, a deletion or a password change (a new auth generation) ends it
with an `end` event. A user may hold at most `MAX_STREAMS_PER_USER` streams per process
(429 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import psycopg
from starlette.concurrency import run_in_threadpool

from server.access.actor import Actor
from server.access.visibility import may_see_person
from server.errors import TooManyRequests
from server.tracking.ingest import LIVE_CHANNEL
from server.tracking.privacy import SharingWindow

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
WINDOW_TTL_SECONDS = 60.0
RECHECK_SECONDS = 60.0
MAX_STREAMS_PER_USER = 5
QUEUE_SIZE = 1_000  # per subscriber; a reader this far behind loses the oldest updates
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


class LiveHub:
    """One LISTEN connection per process, its updates copied to every subscriber's queue."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._queues: dict[asyncio.Queue[dict[str, Any]], uuid.UUID] = {}
        self._per_user: Counter[uuid.UUID] = Counter()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def subscribe(self, user_id: uuid.UUID) -> asyncio.Queue[dict[str, Any]]:
        if self._per_user[user_id] >= MAX_STREAMS_PER_USER:
            raise TooManyRequests(
                f"At most {MAX_STREAMS_PER_USER} live streams at once; close one first",
                code="LIVE_STREAM_LIMIT",
                headers={"Retry-After": "5"},
            )
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[queue] = user_id
        self._per_user[user_id] += 1
        if self._task is None or self._task.done():
            self.listening.clear()
            self._task = asyncio.get_running_loop().create_task(self._listen())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        user_id = self._queues.pop(queue, None)
        if user_id is not None:
            self._per_user[user_id] -= 1
            if self._per_user[user_id] <= 0:
                del self._per_user[user_id]

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {LIVE_CHANNEL}")
                    self.listening.set()
                    failures = 0
                    async for notice in connection.notifies():
                        self._fan_out(json.loads(notice.payload))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database restarted or went away: listen again
                self.listening.clear()
                wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                logger.warning("live positions: LISTEN lost (%s); again in %.1f s", error, wait)
                await asyncio.sleep(wait)

    def _fan_out(self, update: dict[str, Any]) -> None:
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(update)


def hub_of(state: Any, dsn: str) -> LiveHub:
    """The app's hub (made on first use, in the event loop that serves the streams)."""
    hub: LiveHub | None = getattr(state, "live_hub", None)
    if hub is None:
        hub = LiveHub(dsn)
        state.live_hub = hub
    return hub


async def position_events(
    hub: LiveHub,
    queue: asyncio.Queue[dict[str, Any]],
    actor: Actor,
    window_of: Callable[[uuid.UUID, datetime], SharingWindow],
    disconnected: Callable[[], object],
    still_allowed: Callable[[], bool],
) -> AsyncIterator[str]:
    windows: dict[uuid.UUID, tuple[float, SharingWindow]] = {}
    checked = time.monotonic()
    try:
        yield ": connected\n\n"
        while True:
            try:
                update: dict[str, Any] | None = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                update = None
            if time.monotonic() - checked >= RECHECK_SECONDS:
                checked = time.monotonic()
                if not await run_in_threadpool(still_allowed):
                    yield 'event: end\ndata: {"reason": "signed out"}\n\n'
                    return
            if update is None:
                if await disconnected():  # type: ignore[misc]
                    return
                yield ": keepalive\n\n"
                continue
            forwarded = await _visible(update, actor, windows, window_of)
            if forwarded is not None:
                yield f"event: position\ndata: {json.dumps(forwarded)}\n\n"
    finally:
        hub.unsubscribe(queue)


async def _visible(
    update: dict[str, Any],
    actor: Actor,
    windows: dict[uuid.UUID, tuple[float, SharingWindow]],
    window_of: Callable[[uuid.UUID, datetime], SharingWindow],
) -> dict[str, Any] | None:
    if update.get("org_id") != str(actor.org_id):
        return None
    user_id = uuid.UUID(update["user_id"])
    if not may_see_person(actor, user_id):
        return None
    if user_id != actor.user_id:
        moment = datetime.fromisoformat(update["time"])
        cached = windows.get(user_id)
        if cached is None or time.monotonic() - cached[0] > WINDOW_TTL_SECONDS:
            cached = (time.monotonic(), await run_in_threadpool(window_of, user_id, moment))
            windows[user_id] = cached
        if not cached[1].allows(moment):
            return None
    return {key: value for key, value in update.items() if key != "org_id"}
