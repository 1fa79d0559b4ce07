"""Offline sync benchmark: the issue's four targets, measured against a real server.

    python -m bench.sync_load [--pending 10000] [--customers 5000] [--visits 20000]
                              [--clients 100] [--server-workers 2]

Builds a fresh database `fieldforce_bench_sync` on the server of DATABASE_URL
(or the project-local cluster), starts uvicorn with `--server-workers`
processes, and runs each client scenario in its own process so "client
memory" is that process's peak RSS:

1. week offline: one device with `--pending` queued edits syncs to convergence;
2. fresh device: pulls a territory of `--customers` customers and `--visits` visits;
3. many devices: `--clients` devices, each with a few edits, sync at the same
   time; push and pull-page latencies are measured per request.

The load generator shares the machine with the server and the database, so
the figures are conservative. Results print as a table and go to
bench/results/sync_load-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.common import record_results
from server.access.credentials import AccessClaims, create_access_token, hash_password
from server.models import Organization, Territory, TerritoryRep, User
from shared.enums import Role
from tests.e2e.sync.harness import ServerProcess

BENCH_DB = "fieldforce_bench_sync"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---- data --------------------------------------------------------------------------------------


def make_org(url: str, *, reps: int, customers_per_rep: int, visits_per_rep: int) -> dict[str, Any]:
    """An organisation with one territory per rep, filled with SQL (the triggers still log every row)."""
    engine = create_engine(url)
    org_id = uuid.uuid4()
    manager = uuid.uuid4()
    rep_ids = [uuid.uuid4() for _ in range(reps)]
    territory_ids = [uuid.uuid4() for _ in range(reps)]
    tag = org_id.hex[:8]
    with Session(engine) as session, session.begin():
        session.add(Organization(id=org_id, name=f"Bench {tag}", slug=f"bench-{tag}", default_country="FR"))
        session.flush()
        password = hash_password("bench-password")
        session.add(
            User(id=manager, org_id=org_id, email=f"m-{tag}@bench.test", password_hash=password, role=Role.manager)
        )
        session.flush()
        for k, (rep, territory) in enumerate(zip(rep_ids, territory_ids, strict=True)):
            session.add(
                User(
                    id=rep,
                    org_id=org_id,
                    email=f"r{k}-{tag}@bench.test",
                    password_hash=password,
                    role=Role.rep,
                    manager_id=manager,
                )
            )
            lon = 4.0 + 0.05 * (k % 40)
            lat = 45.0 + 0.05 * (k // 40)
            ring = f"{lon} {lat}, {lon + 0.05} {lat}, {lon + 0.05} {lat + 0.05}, {lon} {lat + 0.05}, {lon} {lat}"
            session.add(
                Territory(id=territory, org_id=org_id, name=f"T{k}", geometry=f"SRID=4326;MULTIPOLYGON((({ring})))")
            )
            session.flush()
            session.add(TerritoryRep(org_id=org_id, territory_id=territory, user_id=rep))
            session.flush()
            session.execute(
                text(
                    """
                    INSERT INTO customers (id, org_id, name, territory_id, location, city, phone, tags)
                    SELECT gen_random_uuid(), :org, 'Customer ' || n, :territory,
                           ST_SetSRID(ST_MakePoint(:lon + 0.05 * random(), :lat + 0.05 * random()), 4326)::geography,
                           'Lyon', '+33478' || lpad(n::text, 6, '0'), ARRAY['bench']
                      FROM generate_series(1, :n) AS n
                    """
                ),
                {"org": org_id, "territory": territory, "lon": lon, "lat": lat, "n": customers_per_rep},
            )
            session.execute(
                text(
                    """
                    INSERT INTO visits (id, org_id, customer_id, rep_id, planned_start, planned_end, status)
                    SELECT gen_random_uuid(), :org, c.id, :rep,
                           now() - (n % 365) * interval '1 day',
                           now() - (n % 365) * interval '1 day' + interval '30 minutes', 'completed'
                      FROM generate_series(1, :n) AS n
                      JOIN LATERAL (SELECT id FROM customers WHERE territory_id = :territory
                                     ORDER BY id OFFSET (n % :c) LIMIT 1) AS c ON true
                    """
                ),
                {"org": org_id, "rep": rep, "territory": territory, "n": visits_per_rep, "c": customers_per_rep},
            )
    engine.dispose()
    return {
        "org": str(org_id),
        "reps": [str(r) for r in rep_ids],
        "tokens": [create_access_token(AccessClaims(rep, org_id, Role.rep, 0), SECRET, 240) for rep in rep_ids],
    }


# ---- server ------------------------------------------------------------------------------------


# ---- client scenarios -------------------------------------------------------------------------


def run_client(scenario: str, **kwargs: Any) -> dict[str, Any]:
    """Run a client scenario in its own process (bench/sync_clients.py imports no server
    code), so its peak RSS is the client's memory."""
    command = [sys.executable, "-m", "bench.sync_clients", scenario, json.dumps(kwargs)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"client scenario {scenario} failed:\n{finished.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


# ---- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--visits", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--edits-per-client", type=int, default=10)
    parser.add_argument("--paced-seconds", type=float, default=20.0, help="length of the paced run")
    parser.add_argument("--paced-rate", type=float, default=20.0, help="syncs per second in the paced run")
    parser.add_argument("--server-workers", type=int, default=2)
    args = parser.parse_args(argv)

    from server.migrate import upgrade_to_head
    from tests.conftest import create_fresh_database

    say(f"building {BENCH_DB}")
    url = create_fresh_database(BENCH_DB)
    upgrade_to_head(url)
    big = make_org(url, reps=1, customers_per_rep=args.customers, visits_per_rep=args.visits)
    say(f"one territory with {args.customers} customers and {args.visits} visits")
    many = make_org(url, reps=args.clients, customers_per_rep=20, visits_per_rep=5)
    say(f"{args.clients} reps with 20 customers each")
    server = ServerProcess(url, workers=args.server_workers, secret=SECRET)
    server.start()
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as directory:
            say("fresh device pull")
            results["fresh_pull"] = run_client(
                "fresh_pull", base=server.url, token=big["tokens"][0], user=big["reps"][0], directory=directory
            )
            say(f"  {results['fresh_pull']}")
            say(f"week offline: {args.pending} pending mutations")
            results["week_offline"] = run_client(
                "week_offline",
                base=server.url,
                token=big["tokens"][0],
                user=big["reps"][0],
                directory=directory,
                pending=args.pending,
            )
            say(f"  {results['week_offline']}")
            say(f"{args.clients} devices syncing at once")
            results["many_clients"] = run_client(
                "many_clients",
                base=server.url,
                tokens=many["tokens"],
                users=many["reps"],
                edits=args.edits_per_client,
                paced_seconds=args.paced_seconds,
                paced_rate=args.paced_rate,
            )
            say(f"  {results['many_clients']}")
    finally:
        server.stop()
    out = record_results("sync_load", argv, vars(args), results)
    fresh, week, crowd = results["fresh_pull"], results["week_offline"], results["many_clients"]
    burst, paced = crowd["burst"], crowd["paced"]
    rows = [
        (
            "fresh device pull",
            f"{fresh['customers']} customers + {fresh['visits']} visits",
            f"{fresh['seconds']:.1f} s",
            "< 30 s",
            f"{fresh['peak_rss_mb']:.0f} MB",
        ),
        (
            "week offline",
            f"{week['pushed']} mutations",
            f"{week['seconds']:.1f} s",
            "< 60 s",
            f"{week['peak_rss_mb']:.0f} MB",
        ),
        (
            f"{crowd['clients']} devices, burst",
            f"push p95 ({args.edits_per_client} edits)",
            f"{burst['push_p95_ms']:.0f} ms",
            "< 300 ms",
            "",
        ),
        ("", "pull page p95", f"{burst['pull_p95_ms']:.0f} ms", "< 200 ms", ""),
        (
            f"{crowd['clients']} devices, paced",
            f"push p95 ({paced['rate_per_s']:g} syncs/s)",
            f"{paced['push_p95_ms']:.0f} ms",
            "< 300 ms",
            "",
        ),
        ("", "pull page p95", f"{paced['pull_p95_ms']:.0f} ms", "< 200 ms", ""),
    ]
    print(f"\n{'scenario':<22} {'what':<34} {'measured':>10} {'target':>10} {'client RSS':>14}")
    for row in rows:
        print(f"{row[0]:<22} {row[1]:<34} {row[2]:>10} {row[3]:>10} {row[4]:>14}")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
