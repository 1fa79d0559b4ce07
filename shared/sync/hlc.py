"""Hybrid logical clock: a 64-bit integer `(physical_ms << 16) | counter`.

It only orders concurrent edits of one field (ties broken by client_id); it
never drives a pull cursor. A client corrects its physical part by the offset
to the server measured on each request, folds in every HLC it receives, and
persists the last value so it never goes backwards across restarts or clock
changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["COUNTER_BITS", "HybridLogicalClock", "hlc_pack", "hlc_physical_ms"]

COUNTER_BITS = 16
_COUNTER_MASK = (1 << COUNTER_BITS) - 1


def hlc_pack(physical_ms: int, counter: int = 0) -> int:
    if physical_ms < 0 or not 0 <= counter <= _COUNTER_MASK:
        raise ValueError(f"HLC parts out of range: physical_ms={physical_ms}, counter={counter}")
    return (physical_ms << COUNTER_BITS) | counter


def hlc_physical_ms(hlc: int) -> int:
    return hlc >> COUNTER_BITS


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridLogicalClock:
    """`now()` for a local event, `observe(remote)` for a received HLC."""

    def __init__(self, last: int = 0, *, clock: Callable[[], int] = wall_clock_ms, offset_ms: int = 0) -> None:
        self.last = last
        self.clock = clock
        # server time minus local time, measured per request; applied to physical time
        self.offset_ms = offset_ms

    def physical_now(self) -> int:
        return max(0, self.clock() + self.offset_ms)

    def now(self) -> int:
        """A new HLC greater than every one issued or observed before."""
        physical = self.physical_now()
        if physical > hlc_physical_ms(self.last):
            self.last = hlc_pack(physical)
        else:
            self.last = self._successor(self.last)
        return self.last

    def observe(self, remote: int) -> int:
        """Fold in a received HLC so later local events order after it."""
        if remote > self.last:
            self.last = remote
        return self.last

    def measure_offset(self, server_time_ms: int, sent_at_ms: int, received_at_ms: int) -> None:
        """Offset from one request: the server's time against the request's midpoint."""
        self.offset_ms = server_time_ms - (sent_at_ms + received_at_ms) // 2

    @staticmethod
    def _successor(hlc: int) -> int:
        physical, counter = hlc_physical_ms(hlc), hlc & _COUNTER_MASK
        if counter == _COUNTER_MASK:  # 65,536 events in one millisecond: borrow the next one
            return hlc_pack(physical + 1)
        return hlc_pack(physical, counter + 1)
