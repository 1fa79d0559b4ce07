"""The randomized soak in CI: 5 clients, 2,000 operations, faults; invariants I1-I7 at the end."""

from __future__ import annotations

import os

from tests.e2e.sync.soak import run_soak


def test_randomized_soak(sync_server, engine, tmp_path):
    seed = int(os.environ["SYNC_SOAK_SEED"]) if "SYNC_SOAK_SEED" in os.environ else None
    report = run_soak(sync_server, engine, tmp_path, clients=5, operations=2_000, seed=seed)
    assert report.operations == 2_000 and report.clients == 5
    assert report.counts["sync"] > 50, report.summary()
    assert report.faults > 0, report.summary()
    assert report.peak_client_bytes < 150 * 1024 * 1024, report.summary()  # I7, client side
