"""The sync soak with a long budget (the test suite runs a short one).

    python -m bench.sync_soak [--clients 10] [--operations 20000] [--seed N] [--fault-rate 0.15]

Builds a fresh database `fieldforce_bench_soak`, serves it in this process on a
free port, runs N devices through random edits, offline periods and injected
faults, and checks the invariants I1-I7 at the end (an AssertionError names the
broken one). Prints the seed, so a failing run can be replayed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from server.app import create_app
from server.config import Environment, Settings
from server.migrate import upgrade_to_head
from tests.conftest import create_fresh_database
from tests.e2e.sync.harness import TEST_SECRET
from tests.e2e.sync.soak import run_soak
from tests.server.conftest import serving

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--operations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.15)
    args = parser.parse_args(argv)
    url = create_fresh_database("fieldforce_bench_soak")
    upgrade_to_head(url)
    engine = create_engine(url)
    app = create_app(Settings(FIELDFORCE_ENV=Environment.test, DATABASE_URL=url, SECRET_KEY=TEST_SECRET))
    try:
        with serving(app) as base, tempfile.TemporaryDirectory() as directory:
            report = run_soak(
                base,
                engine,
                Path(directory),
                clients=args.clients,
                operations=args.operations,
                seed=args.seed,
                fault_rate=args.fault_rate,
            )
    finally:
        engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"sync_soak-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": "python -m bench.sync_soak " + " ".join(argv if argv is not None else sys.argv[1:]),
                "seed": report.seed,
                "clients": report.clients,
                "operations": report.operations,
                "seconds": report.seconds,
                "faults": report.faults,
                "peak_client_mb": report.peak_client_bytes / 1e6,
                "counts": dict(report.counts),
                "invariants": "I1-I7 held",
            },
            indent=2,
        )
    )
    print(f"invariants held; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
