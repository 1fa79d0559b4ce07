"""API load benchmark: a rep's customer list and nearest-20, under concurrency.

    python -m bench.api_load [--customers 100000] [--reps 200] [--concurrency 50] [--duration 20]

Builds (once; --rebuild to redo) a database `fieldforce_bench` on the same
server as DATABASE_URL or the project-local cluster, migrates it and seeds the
demo city at the requested size; starts `fieldforce serve --workers N` on a
free port; logs in as many reps; then each scenario runs `concurrency`
clients in a closed loop for `duration` seconds and reports latency
percentiles. The load generator runs on the same machine, so its CPU use is
part of the measurement: the figures are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from server.db import database_url, libpq_url

RESULTS = Path(__file__).parent / "results"
BENCH_DB = "fieldforce_bench"
SLUG = "bench"


def cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies from /proc/stat: how much CPU the hypervisor took away."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[7] if len(fields) > 7 else 0, sum(fields)


@dataclass
class ScenarioResult:
    scenario: str
    concurrency: int
    requests: int
    errors: int
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_steal_pct: float


def prepare_database(customers: int, reps: int, rebuild: bool) -> str:
    base = make_url(database_url())
    url = base.set(database=BENCH_DB).render_as_string(hide_password=False)
    admin = libpq_url(base.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone()
        if exists and not rebuild:
            engine = create_engine(url)
            with engine.connect() as db:
                found = db.execute(
                    text("SELECT count(*) FROM customers c JOIN organizations o ON o.id = c.org_id WHERE o.slug = :s"),
                    {"s": SLUG},
                ).scalar()
            engine.dispose()
            if found == customers:
                from server.migrate import upgrade_to_head

                upgrade_to_head(url)  # a database seeded before the latest migrations
                print(f"reusing {BENCH_DB} ({found} customers)")
                return url
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    from server.migrate import upgrade_to_head
    from server.seed.demo import SeedOptions, seed_demo

    upgrade_to_head(url)
    engine = create_engine(url)
    started = time.perf_counter()
    done = 0

    def progress(table: str, n: int) -> None:
        nonlocal done
        done += n
        print(f"\rseeding: {done} rows ({table})", end="", flush=True)

    with Session(engine) as session, session.begin():
        seed_demo(session, SeedOptions(reps=reps, customers=customers, seed=1, slug=SLUG), progress)
    with engine.connect() as vacuum_conn:
        vacuum_conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"\nseeded {customers} customers, {reps} reps in {time.perf_counter() - started:.0f} s")
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret-" + "x" * 40, "LOG_LEVEL": "warning"}
    RESULTS.mkdir(exist_ok=True)
    log = (RESULTS / "api_load-server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{address}/health", timeout=2).status_code == 200:
                return server, address
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def rep_logins(url: str, count: int) -> list[tuple[str, float, float]]:
    """(email, home lat, home lon) of `count` bench reps."""
    from server.geo import point_out
    from server.models import Organization, User
    from shared.enums import Role

    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(User.email, User.home_location)
            .join(Organization, Organization.id == User.org_id)
            .where(Organization.slug == SLUG, User.role == Role.rep)
            .order_by(User.email)
            .limit(count)
        ).all()
    engine.dispose()
    return [(email, point_out(home)["lat"], point_out(home)["lon"]) for email, home in rows]  # type: ignore[index]


async def closed_loop(
    name: str, concurrency: int, duration: float, request: Callable[[int, httpx.AsyncClient], Awaitable[httpx.Response]]
) -> ScenarioResult:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one_client(index: int) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await request(index, client)
                    failed = response.status_code != 200
                except httpx.TransportError:
                    failed = True
                elapsed = time.perf_counter() - start
                errors += failed
                latencies.append(elapsed)

        started = time.perf_counter()
        steal_before, total_before = cpu_times()
        await asyncio.gather(*(one_client(i) for i in range(concurrency)))
        steal_after, total_after = cpu_times()
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    return ScenarioResult(
        scenario=name,
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        throughput_rps=round(len(latencies) / wall, 1),
        p50_ms=round(1000 * statistics.median(latencies), 1),
        p95_ms=round(pct(0.95), 1),
        p99_ms=round(pct(0.99), 1),
        max_ms=round(1000 * latencies[-1], 1),
        cpu_steal_pct=round(100 * (steal_after - steal_before) / max(1, total_after - total_before), 1),
    )


async def run_scenarios(address: str, reps: list[tuple[str, float, float]], concurrency: int, duration: float):
    tokens: list[str] = []
    async with httpx.AsyncClient(base_url=address, timeout=30) as client:
        for email, _, _ in reps:
            response = await client.post("/api/v1/auth/token", data={"username": email, "password": "demo-rep-pass"})
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    cursors: dict[int, str | None] = {}
    rng = random.Random(1)

    async def list_page(index: int, client: httpx.AsyncClient) -> httpx.Response:
        # Each client pages through its rep's customers 100 at a time, then starts over.
        rep = index % len(tokens)
        cursor = cursors.get(rep)
        url = f"{address}/api/v1/customers?limit=100" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url, headers={"Authorization": f"Bearer {tokens[rep]}"})
        if response.status_code == 200:
            cursors[rep] = response.json()["next_cursor"]
        return response

    async def nearest(index: int, client: httpx.AsyncClient) -> httpx.Response:
        rep = index % len(tokens)
        _, lat, lon = reps[rep]
        lat += rng.uniform(-0.003, 0.003)
        lon += rng.uniform(-0.004, 0.004)
        return await client.get(
            f"{address}/api/v1/customers/nearest?lat={lat:.6f}&lon={lon:.6f}&limit=20",
            headers={"Authorization": f"Bearer {tokens[rep]}"},
        )

    results = []
    for name, request in (("rep customer list, page of 100", list_page), ("nearest 20 customers", nearest)):
        await closed_loop(name, concurrency, min(3.0, duration), request)  # warm-up
        results.append(await closed_loop(name, concurrency, duration, request))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--rebuild", action="store_true", help="reseed the bench database")
    args = parser.parse_args()

    url = prepare_database(args.customers, args.reps, args.rebuild)
    server, address = start_server(url, args.workers)
    try:
        reps = rep_logins(url, min(args.concurrency, args.reps))
        results = asyncio.run(run_scenarios(address, reps, args.concurrency, args.duration))
    finally:
        server.terminate()
        server.wait(timeout=30)
    header = (
        f"{'scenario':34} {'conc':>4} {'requests':>8} {'err':>4} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'steal':>6}"
    )
    print(header)
    for r in results:
        print(
            f"{r.scenario:34} {r.concurrency:>4} {r.requests:>8} {r.errors:>4} {r.throughput_rps:>7} "
            f"{r.p50_ms:>6}ms {r.p95_ms:>6}ms {r.p99_ms:>6}ms {r.cpu_steal_pct:>5}%"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"api_load-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(),
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "args": vars(args),
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
