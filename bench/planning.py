"""Planning from the API to published, and re-planning a day, on this machine.

Three scenarios (issue #16), each on its own seeded organisation in the
project's database (DATABASE_URL or the project-local cluster), reused when
it is already there:

- `team`: one manager with 20 reps and 1,500 customers; `POST /planning/runs`
  for 5 days with `time_limit_s` 40, waited for, then published: the time from
  the POST to the published answer (target < 60 s);
- `reoptimize`: a 25-stop day of one of those reps, re-planned over HTTP from
  positions along the day, N times: p50 / p95 / max (target p95 < 1.5 s);
- `large`: 200 reps and 15,000 customers in 10 teams of 20, two worker
  processes: the time to published and kilometres per visit, against `team`.

Server: `fieldforce serve` on a free port; workers: `fieldforce worker --queue
planning --concurrency 1` (one process per core, so two solves run at once).

    .venv/bin/python -m bench.planning [--scenario team reoptimize large] [--time-limit 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import httpx
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from bench.api_load import free_port
from bench.common import RESULTS, record_results
from server.access.credentials import AccessClaims, create_access_token
from server.db import database_url
from server.migrate import upgrade_to_head
from server.models import Customer, Organization, Plan, User, Visit
from server.seed.demo import SeedOptions, seed_demo
from shared.enums import Role, VisitStatus

SECRET = "bench-secret-" + "x" * 40
RUNS = "/api/v1/planning/runs"


def seeded_org(url: str, slug: str, reps: int, customers: int, team_size: int, seed: int) -> uuid.UUID:
    """The organisation `slug` (seeded once), its reps regrouped into teams of `team_size`."""
    engine = create_engine(url)
    with Session(engine) as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == slug))
    if org_id is None:
        began = time.perf_counter()
        with Session(engine) as session, session.begin():
            org_id = seed_demo(
                session, SeedOptions(reps=reps, customers=customers, seed=seed, slug=slug, name=slug, history_months=6)
            ).org_id
        print(f"seeded {slug}: {reps} reps, {customers} customers in {time.perf_counter() - began:.0f} s")
    with Session(engine) as session, session.begin():
        managers = session.scalars(
            select(User.id).where(User.org_id == org_id, User.role == Role.manager).order_by(User.email)
        ).all()
        rep_ids = session.scalars(
            select(User.id).where(User.org_id == org_id, User.role == Role.rep).order_by(User.email)
        ).all()
        teams = (len(rep_ids) + team_size - 1) // team_size
        if len(managers) < teams:
            raise SystemExit(f"{slug} has {len(managers)} managers; {teams} teams need more")
        # Seed ids come from the seed: two organisations need two seeds (their ids would collide).
        for index, rep_id in enumerate(rep_ids):
            session.execute(update(User).where(User.id == rep_id).values(manager_id=managers[index // team_size]))
    engine.dispose()
    return org_id


def admin_headers(url: str, org_id: uuid.UUID) -> dict[str, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        admin = session.scalar(select(User.id).where(User.org_id == org_id, User.role == Role.admin))
    engine.dispose()
    assert admin is not None
    token = create_access_token(AccessClaims(admin, org_id, Role.admin, 0), SECRET, 120)
    return {"Authorization": f"Bearer {token}"}


def start(args: list[str], url: str, log_name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "LOG_LEVEL": "warning"}
    RESULTS.mkdir(exist_ok=True)
    log = (RESULTS / log_name).open("w")
    return subprocess.Popen([sys.executable, "-m", "server.cli", *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(address: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{address}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def next_monday() -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())


def plan_and_publish(http: httpx.Client, headers: dict[str, str], time_limit: int) -> dict[str, Any]:
    began = time.perf_counter()
    created = http.post(
        RUNS, json={"start_date": next_monday().isoformat(), "days": 5, "time_limit_s": time_limit}, headers=headers
    )
    created.raise_for_status()
    location = created.headers["Location"]
    last = ""
    while True:
        run = http.get(location, headers=headers).json()
        shown = f"{run['status']} {run['progress']['phase']} {run['progress']['percent']:.0f}%"
        if shown != last:
            print(f"\r  {shown:<40}", end="", flush=True)
            last = shown
        if run["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.5)
    solved = time.perf_counter() - began
    print()
    if run["status"] != "succeeded":
        raise RuntimeError(f"run {run['id']} {run['status']}: {run['error']}")
    published = http.post(f"{location}/publish", headers=headers)
    published.raise_for_status()
    total = time.perf_counter() - began
    summary = run["summary"]
    return {
        "run_id": run["id"],
        "parts": len(run["parts"]),
        "seconds_to_succeeded": round(solved, 1),
        "seconds_to_published": round(total, 1),
        "publish_seconds": round(total - solved, 2),
        "due": summary["due"],
        "planned": summary["planned"],
        "unassigned": summary["unassigned"],
        "km": round(summary["distance_m"] / 1000, 1),
        "km_per_visit": round(summary["distance_m"] / 1000 / max(1, summary["planned"]), 3),
        "rep_days": len(run["days"]),
    }


def a_25_stop_day(url: str, org_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, date]:
    """A rep's Monday of 25 planned 12-minute visits at customers of their territory (made here:
    the planner's own days are shorter, with 20 to 45 minutes on site)."""
    engine = create_engine(url)
    day = next_monday() + timedelta(days=14)
    with Session(engine) as session, session.begin():
        rep = session.scalars(
            select(User).where(User.org_id == org_id, User.role == Role.rep).order_by(User.email)
        ).first()
        assert rep is not None
        customers = session.scalars(
            select(Customer.id).where(Customer.org_id == org_id, Customer.owner_id == rep.id).limit(25)
        ).all()
        assert len(customers) == 25, "the rep owns fewer than 25 customers"
        old = session.scalar(select(Plan).where(Plan.org_id == org_id, Plan.rep_id == rep.id, Plan.plan_date == day))
        if old is not None:
            session.delete(old)
        stops = []
        at = datetime.combine(day, clock_time(8, 30), tzinfo=UTC)
        for customer_id in customers:
            visit = Visit(
                org_id=org_id,
                customer_id=customer_id,
                rep_id=rep.id,
                planned_start=at,
                planned_end=at + timedelta(minutes=12),
                status=VisitStatus.planned,
            )
            session.add(visit)
            session.flush()
            stops.append(
                {
                    "visit_id": str(visit.id),
                    "customer_id": str(customer_id),
                    "kind": "recurring",
                    "arrival": at.isoformat(),
                    "start": at.isoformat(),
                    "departure": (at + timedelta(minutes=12)).isoformat(),
                }
            )
            at += timedelta(minutes=18)
        plan = Plan(org_id=org_id, rep_id=rep.id, plan_date=day, stops=stops)
        session.add(plan)
        session.flush()
        plan_id, rep_id = plan.id, rep.id
    engine.dispose()
    return plan_id, rep_id, day


def reoptimize_latencies(http: httpx.Client, url: str, org_id: uuid.UUID, calls: int) -> dict[str, Any]:
    plan_id, rep_id, day = a_25_stop_day(url, org_id)
    token = create_access_token(AccessClaims(rep_id, org_id, Role.rep, 0), SECRET, 120)
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(5)
    samples = []
    for call in range(calls):
        now = datetime.combine(day, clock_time(8, 0), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 90))
        position = {"lat": 45.75 + rng.uniform(-0.02, 0.02), "lon": 4.85 + rng.uniform(-0.02, 0.02)}
        began = time.perf_counter()
        answer = http.post(
            f"/api/v1/plans/{plan_id}/reoptimize", json={"position": position, "now": now.isoformat()}, headers=headers
        )
        samples.append(time.perf_counter() - began)
        answer.raise_for_status()
        if call == 0:
            print(f"  stops re-planned: {len(answer.json()['stops'])}")
    samples.sort()
    return {
        "calls": calls,
        "stops": 25,
        "p50_s": round(statistics.median(samples), 3),
        "p95_s": round(samples[int(0.95 * (len(samples) - 1))], 3),
        "max_s": round(samples[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", nargs="+", default=["team", "reoptimize", "large"])
    parser.add_argument("--time-limit", type=int, default=40)
    parser.add_argument("--calls", type=int, default=60, help="re-optimisation calls")
    args = parser.parse_args()
    url = database_url()
    upgrade_to_head(url)
    port = free_port()
    server = start(["serve", "--port", str(port)], url, "planning-server.log")
    workers = [
        start(["worker", "--queue", "planning", "--concurrency", "1"], url, f"planning-worker-{k}.log")
        for k in range(2)
    ]
    results: dict[str, Any] = {}
    try:
        address = f"http://127.0.0.1:{port}"
        wait_healthy(address)
        with httpx.Client(base_url=address, timeout=600) as http:
            if "team" in args.scenario or "reoptimize" in args.scenario:
                team_org = seeded_org(url, "bench-planning-team", 20, 1_500, 20, seed=7)
            if "team" in args.scenario:
                print("team: 20 reps, 1,500 customers, 5 days")
                results["team"] = plan_and_publish(http, admin_headers(url, team_org), args.time_limit)
                print(f"  {results['team']}")
            if "reoptimize" in args.scenario:
                print(f"reoptimize: a 25-stop day, {args.calls} calls over HTTP")
                results["reoptimize"] = reoptimize_latencies(http, url, team_org, args.calls)
                print(f"  {results['reoptimize']}")
            if "large" in args.scenario:
                large_org = seeded_org(url, "bench-planning-large", 200, 15_000, 20, seed=8)
                print("large: 200 reps, 15,000 customers, 10 teams, 2 workers, 5 days")
                results["large"] = plan_and_publish(http, admin_headers(url, large_org), args.time_limit)
                print(f"  {results['large']}")
    finally:
        for process in (server, *workers):
            process.terminate()
        for process in (server, *workers):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    out = record_results("planning", None, {"time_limit_s": args.time_limit, "scenarios": args.scenario}, results)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
