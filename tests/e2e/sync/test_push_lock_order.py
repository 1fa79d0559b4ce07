"""Concurrent pushes that edit the same rows in opposite orders: each batch locks its rows in
one global order first, so the second waits instead of deadlocking (which PostgreSQL breaks
by failing one of them: a 503 and a retry for that phone)."""

from __future__ import annotations

import threading
import uuid

from shared.sync.hlc import wall_clock_ms
from tests.e2e.sync.harness import SyncOrg
from tests.e2e.sync.test_scenarios import mutation, raw_push


def test_opposite_orders_never_deadlock(sync_server, org: SyncOrg):
    rep = org.reps[0]
    customers = [str(c) for c in org.customers[org.territories[0]]]  # three, in the rep's territory
    clients = [str(uuid.uuid4()), str(uuid.uuid4())]
    statuses: list[int] = []
    lock = threading.Lock()
    for round_ in range(8):
        barrier = threading.Barrier(2)

        def push(index: int, round_: int = round_, barrier: threading.Barrier = barrier) -> None:
            order = customers if index == 0 else list(reversed(customers))
            hlc = (wall_clock_ms() << 16) + round_
            batch = [
                mutation(
                    round_ * 3 + k + 1, "update", "customer", customer, {"notes": f"r{round_} d{index} {k}"}, hlc=hlc
                )
                for k, customer in enumerate(order)
            ]
            barrier.wait()
            answer = raw_push(sync_server, org, rep, clients[index], batch)
            with lock:
                statuses.append(answer.status_code)

        threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses == [200] * 16, statuses
