"""Live positions as server-sent events, fed by PostgreSQL LISTEN/NOTIFY.

Ingest in any server process NOTIFYs on commit; each subscriber holds one
LISTEN connection and forwards the updates the caller may see: their org,
their team (or themselves), and for someone else's rep only while that rep's
positions may be shared (working hours, a started day; re-checked at most
once a minute per rep).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import psycopg
from starlette.concurrency import run_in_threadpool

from server.access.actor import Actor
from server.access.visibility import may_see_person
from server.tracking.ingest import LIVE_CHANNEL
from server.tracking.privacy import SharingWindow

HEARTBEAT_SECONDS = 15.0
WINDOW_TTL_SECONDS = 60.0


async def position_events(
    dsn: str,
    actor: Actor,
    window_of: Callable[[uuid.UUID, datetime], SharingWindow],
    disconnected: Callable[[], object],
) -> AsyncIterator[str]:
    windows: dict[uuid.UUID, tuple[float, SharingWindow]] = {}
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute(f"LISTEN {LIVE_CHANNEL}")
        yield ": connected\n\n"
        while True:
            async for notice in connection.notifies(timeout=HEARTBEAT_SECONDS):
                update = json.loads(notice.payload)
                if update.get("org_id") != str(actor.org_id):
                    continue
                user_id = uuid.UUID(update["user_id"])
                if not may_see_person(actor, user_id):
                    continue
                if user_id != actor.user_id:
                    moment = datetime.fromisoformat(update["time"])
                    cached = windows.get(user_id)
                    if cached is None or time.monotonic() - cached[0] > WINDOW_TTL_SECONDS:
                        cached = (time.monotonic(), await run_in_threadpool(window_of, user_id, moment))
                        windows[user_id] = cached
                    if not cached[1].allows(moment):
                        continue
                update.pop("org_id", None)
                yield f"event: position\ndata: {json.dumps(update)}\n\n"
            if await disconnected():  # type: ignore[misc]
                return
            yield ": keepalive\n\n"
