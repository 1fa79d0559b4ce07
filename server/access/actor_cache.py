"""The caller, remembered per access token for a few seconds.

Resolving a caller costs two or three queries (the user, their team, their territories) on
every request; a phone or a dashboard sends many requests with one token. The actor is
kept for `ttl` seconds per token in this process. A password change or a deactivation
forgets the user's entries at once in the process that made it; other processes notice
within `ttl` (ACTOR_CACHE_SECONDS, 0 turns the cache off).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict

from server.access.actor import Actor

MAX_ENTRIES = 20_000


class ActorCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()  # tokens are not kept in memory as such

    def get(self, token: str) -> Actor | None:
        key = self._key(token)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            return found[1]

    def put(self, token: str, actor: Actor, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._entries[self._key(token)] = (time.monotonic() + ttl, actor)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_user(self, user_id: uuid.UUID) -> None:
        with self._lock:
            for key in [k for k, (_, actor) in self._entries.items() if actor.user_id == user_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


actor_cache = ActorCache()
