"""GPS tracking benchmark: ingest throughput, single-report latency, track reads at volume.

    python -m bench.tracking_load [--devices 20] [--ingest-seconds 20] [--rate 200] [--rate-seconds 20]
                                  [--fill 10000000] [--server-workers 2]

Builds a fresh database `fieldforce_bench_tracking`, starts the server as its
own process (uvicorn, `--server-workers`), then:

1. sustained ingest: `--devices` app clients post batches of 1,000 positions
   back to back for `--ingest-seconds`; positions stored per second;
2. single reports: OsmAnd GET reports at `--rate` per second (open loop) for
   `--rate-seconds`; latency percentiles;
3. a day's track (2,880 fixes, one every 30 s) served simplified: timed with
   the table as it is, then again after `--fill` more positions (other reps,
   other days) are added straight into the table.

The load generator shares the two cores with the server and the database.
Results print as a table and go to bench/results/tracking_load-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.common import record_results
from server.access.credentials import AccessClaims, create_access_token
from server.models import Device, Organization, User
from shared.enums import Role
from tests.e2e.sync.harness import ServerProcess

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values or [0.0])[0]


def make_org(url: str, reps: int) -> dict[str, Any]:
    engine = create_engine(url)
    org_id = uuid.uuid4()
    users = [uuid.uuid4() for _ in range(reps)]
    devices = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(reps)]
    with Session(engine) as session, session.begin():
        session.add(Organization(id=org_id, name="Tracking bench", slug=f"trk-{org_id.hex[:8]}"))
        session.flush()
        for user, identifier in zip(users, devices, strict=True):
            session.add(
                User(id=user, org_id=org_id, email=f"{user.hex[:10]}@bench.test", password_hash="x", role=Role.rep)
            )
            session.flush()
            session.add(Device(org_id=org_id, user_id=user, identifier=identifier))
    engine.dispose()
    tokens = [create_access_token(AccessClaims(u, org_id, Role.rep, 0), SECRET, 240) for u in users]
    return {"org": org_id, "users": users, "devices": devices, "tokens": tokens}


async def sustained_ingest(base: str, org: dict[str, Any], seconds: float) -> dict[str, Any]:
    stored = 0
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(index: int) -> None:
        nonlocal stored
        headers = {"Authorization": f"Bearer {org['tokens'][index]}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            moment = DAY - timedelta(days=30)
            while time.monotonic() < deadline:
                points = []
                for _ in range(1_000):
                    moment += timedelta(seconds=1)
                    points.append(
                        {
                            "time": moment.isoformat(),
                            "lat": 45.75,
                            "lon": 4.85,
                            "accuracy": 8,
                            "speed": 1.2,
                            "battery": 70,
                        }
                    )
                began = time.perf_counter()
                response = await http.post(
                    "/api/v1/tracking/positions",
                    headers=headers,
                    json={"device": org["devices"][index], "positions": points},
                )
                latencies.append((time.perf_counter() - began) * 1000)
                response.raise_for_status()
                stored += response.json()["stored"]

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(len(org["devices"]))))
    elapsed = time.perf_counter() - began
    return {
        "positions": stored,
        "seconds": elapsed,
        "positions_per_second": stored / elapsed,
        "batch_p50_ms": percentile(latencies, 50),
        "batch_p95_ms": percentile(latencies, 95),
    }


async def single_reports(base: str, org: dict[str, Any], rate: float, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def one(k: int) -> None:
            nonlocal errors
            device = org["devices"][k % len(org["devices"])]
            moment = DAY + timedelta(days=3, seconds=k)
            params = {
                "id": device,
                "lat": "45.75",
                "lon": "4.85",
                "timestamp": str(int(moment.timestamp())),
                "speed": "3",
                "batt": "60",
            }
            began = time.perf_counter()
            response = await http.get("/api/v1/tracking/osmand", params=params)
            latencies.append((time.perf_counter() - began) * 1000)
            errors += response.status_code != 200

        tasks = []
        start = time.perf_counter()
        for k in range(int(rate * seconds)):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(k)))
        await asyncio.gather(*tasks)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rate": rate,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def day_track(url: str, org: dict[str, Any]) -> None:
    """User 0's day: 2,880 fixes every 30 s, walking around the city."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO positions (org_id, device_id, user_id, device_time, lat, lon, accuracy_m)
                SELECT :org, d.id, d.user_id, :day + n * interval '30 seconds',
                       45.75 + 0.01 * sin(n / 200.0), 4.85 + 0.01 * cos(n / 150.0), 8
                  FROM generate_series(0, 2879) AS n, devices AS d WHERE d.identifier = :device
                """
            ),
            {"org": org["org"], "day": DAY, "device": org["devices"][0]},
        )
    engine.dispose()


def time_track(base: str, org: dict[str, Any], repeat: int = 100) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {org['tokens'][0]}"}
    params: dict[str, str | int] = {
        "start": DAY.isoformat(),
        "end": (DAY + timedelta(days=1)).isoformat(),
        "tolerance_m": 10,
    }
    url = f"/api/v1/tracking/users/{org['users'][0]}/track"
    timings = []
    with httpx.Client(base_url=base, timeout=30) as http:
        body = http.get(url, params=params, headers=headers).json()
        for _ in range(20):  # warm-up: connections, caches
            http.get(url, params=params, headers=headers)
        for _ in range(repeat):
            began = time.perf_counter()
            http.get(url, params=params, headers=headers).raise_for_status()
            timings.append((time.perf_counter() - began) * 1000)
    return {
        "fixes": body["points_recorded"],
        "points_served": len(body["points"]),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "max_ms": max(timings),
    }


def fill(url: str, org: dict[str, Any], rows: int) -> float:
    """`rows` more positions for the other reps, on other days (straight SQL, in chunks)."""
    engine = create_engine(url)
    began = time.perf_counter()
    others = org["devices"][1:]
    chunk = 1_000_000
    done = 0
    while done < rows:
        size = min(chunk, rows - done)
        with engine.begin() as conn:
            conn.execute(
                text(
                    """
                    INSERT INTO positions (org_id, device_id, user_id, device_time, lat, lon, accuracy_m)
                    SELECT :org, d.id, d.user_id,
                           :start + ((n / :devices) * interval '15 seconds'),
                           45.7 + random() * 0.1, 4.8 + random() * 0.1, 10
                      FROM generate_series(:first, :last) AS n
                      JOIN (SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS k FROM devices
                             WHERE identifier = ANY(:identifiers)) AS d ON d.k = n % :devices
                    """
                ),
                {
                    "org": org["org"],
                    "start": DAY - timedelta(days=365),
                    "devices": len(others),
                    "first": done,
                    "last": done + size - 1,
                    "identifiers": others,
                },
            )
        done += size
        say(f"  {done:,} / {rows:,} positions")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE positions"))
    engine.dispose()
    return time.perf_counter() - began


def track_only(args: argparse.Namespace) -> int:
    from sqlalchemy import make_url

    from server.db import database_url

    url = make_url(database_url()).set(database="fieldforce_bench_tracking").render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.connect() as conn:
        user, org_id = conn.execute(
            text(
                "SELECT user_id, org_id FROM positions WHERE device_time >= :d AND device_time < :e "
                "GROUP BY user_id, org_id ORDER BY count(*) DESC LIMIT 1"
            ),
            {"d": DAY, "e": DAY + timedelta(days=1)},
        ).one()
        rows = conn.execute(text("SELECT count(*) FROM positions")).scalar()
    engine.dispose()
    server = ServerProcess(url, workers=args.server_workers, secret=SECRET)
    server.start()
    try:
        org = {"users": [user], "tokens": [create_access_token(AccessClaims(user, org_id, Role.rep, 0), SECRET, 60)]}
        timing = time_track(server.url, org, args.track_repeat)
    finally:
        server.stop()
    print(f"day track (2,880 fixes) with {rows:,} rows in the table: {timing}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--ingest-seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--rate-seconds", type=float, default=20)
    parser.add_argument("--fill", type=int, default=10_000_000)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--track-repeat", type=int, default=100, help="track requests timed (after 20 warm-up ones)")
    parser.add_argument(
        "--track-only",
        action="store_true",
        help="re-time the day track on the database a previous full run left (no rebuild)",
    )
    args = parser.parse_args(argv)
    if args.track_only:
        return track_only(args)

    from server.migrate import upgrade_to_head
    from tests.conftest import create_fresh_database

    say("building fieldforce_bench_tracking")
    url = create_fresh_database("fieldforce_bench_tracking")
    upgrade_to_head(url)
    org = make_org(url, args.devices)
    server = ServerProcess(url, workers=args.server_workers, secret=SECRET)
    server.start()
    results: dict[str, Any] = {}
    try:
        say(f"sustained ingest: {args.devices} devices, batches of 1,000, {args.ingest_seconds:g} s")
        results["ingest"] = asyncio.run(sustained_ingest(server.url, org, args.ingest_seconds))
        say(f"  {results['ingest']}")
        say(f"single reports at {args.rate:g}/s for {args.rate_seconds:g} s")
        results["single"] = asyncio.run(single_reports(server.url, org, args.rate, args.rate_seconds))
        say(f"  {results['single']}")
        day_track(url, org)
        results["track_small"] = time_track(server.url, org, args.track_repeat)
        say(f"  track, table as is: {results['track_small']}")
        if args.fill:
            say(f"adding {args.fill:,} positions")
            results["fill_seconds"] = fill(url, org, args.fill)
            results["track_full"] = time_track(server.url, org, args.track_repeat)
            say(f"  track, with {args.fill:,} more: {results['track_full']}")
        engine = create_engine(url)
        with engine.connect() as conn:
            results["positions_in_table"] = conn.execute(text("SELECT count(*) FROM positions")).scalar()
        engine.dispose()
    finally:
        server.stop()
    out = record_results("tracking_load", argv, vars(args), results)
    ingest, single, small = results["ingest"], results["single"], results["track_small"]
    print(f"\n{'scenario':<44} {'measured':>14} {'target':>12}")
    print(f"{'sustained batch ingest':<44} {ingest['positions_per_second']:>10,.0f} /s {'>= 5,000/s':>12}")
    label = f"single reports at {args.rate:g}/s, p99"
    print(f"{label:<44} {single['p99_ms']:>11.1f} ms {'< 50 ms':>12}")
    print(f"{'day track (2,880 fixes), p95':<44} {small['p95_ms']:>11.1f} ms {'< 100 ms':>12}")
    if "track_full" in results:
        label = f"same, {results['positions_in_table']:,} rows in table, p95"
        print(f"{label:<44} {results['track_full']['p95_ms']:>11.1f} ms {'< 100 ms':>12}")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
