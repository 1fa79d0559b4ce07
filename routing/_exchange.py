"""Parallel searches share their best routes once, half way through.

`solve` runs one search per core, each in its own process. Run apart to the
end, the better of the two wins, and the time the other spent in a worse part
of the search is lost. At the exchange point each search publishes its best
routes and both carry on from the better of the two, each with its own random
stream, so the second half refines the better start twice. `routing.solve`
sets up an exchange only for time limits where that leaves room
(`EXCHANGE_MIN_SECONDS`), and `_Search.run` never adopts routes that leave a
required visit out.

This module knows nothing of OR-Tools: routes are lists of the adapter's node
numbers, costs whatever the searches compare (they all run on the same
problem, so the same objective).
"""

from __future__ import annotations

import math
import threading
from multiprocessing.context import BaseContext

__all__ = ["EXCHANGE_AT", "BestExchange"]

# Share of the time limit at which the searches exchange their best routes.
EXCHANGE_AT = 0.5


class BestExchange:
    """Shared memory for the best routes of `parties` forked searches.

    Created in the parent before the searches fork, so every child holds the
    same lock, barrier and buffers. `capacity` bounds the number of vehicles
    plus visit nodes of one solution (each route is stored as its length then
    its nodes).
    """

    def __init__(self, context: BaseContext, parties: int, capacity: int) -> None:
        self._lock = context.Lock()
        self._barrier = context.Barrier(parties)
        self._cost = context.Value("d", math.inf, lock=False)
        self._length = context.Value("i", 0, lock=False)
        self._flat = context.Array("q", max(1, capacity), lock=False)

    def swap(self, routes: list[list[int]], cost: float, timeout: float) -> tuple[list[list[int]], float] | None:
        """Publish these routes, wait for the other searches, return the best published if it beats `cost`.

        Returns None when these routes are the best, or when another search
        does not reach the exchange within `timeout` seconds (it may be in a
        long descent, or finished early): a search never waits for longer.
        """
        with self._lock:
            if cost < self._cost.value:
                flat = [value for route in routes for value in (len(route), *route)]
                if len(flat) <= len(self._flat):
                    self._flat[: len(flat)] = flat
                    self._length.value = len(flat)
                    self._cost.value = cost
        try:
            self._barrier.wait(timeout)
        except threading.BrokenBarrierError:
            return None
        with self._lock:
            if not self._cost.value < cost:
                return None
            flat = list(self._flat[: self._length.value])
            best_cost = self._cost.value
        shared: list[list[int]] = []
        at = 0
        while at < len(flat):
            length = flat[at]
            shared.append(flat[at + 1 : at + 1 + length])
            at += 1 + length
        return shared, best_cost
