"""Failed tracker tokens, counted per device and per client address in this process.

Tracker apps report without a login; a wrong token is answered cheaply (a keyed hash),
and past `LIMIT` failures in `WINDOW_S` the device, or the address sending them, gets
429 with Retry-After before anything is checked. In memory on purpose: counting in the
database would turn each bad request into a write. Memory is bounded (`MAX_KEYS`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

LIMIT = 10
WINDOW_S = 60.0
MAX_KEYS = 50_000


class FailureThrottle:
    def __init__(self, limit: int = LIMIT, window_s: float = WINDOW_S, max_keys: int = MAX_KEYS) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and now - found[0] > self.window_s:
            found.popleft()
        return found

    def retry_after(self, keys: list[str], now: float | None = None) -> int | None:
        """Seconds until one of these keys may try again, or None when none is blocked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [
                self.window_s - (now - recent[0]) for key in keys if len(recent := self._recent(key, now)) >= self.limit
            ]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                recent.append(now)
                self._failures[key] = recent
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()


tracker_failures = FailureThrottle()
