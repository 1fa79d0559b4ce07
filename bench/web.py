"""The dashboard on the seeded 100,000-customer, 200-rep organisation (issue 18).

    python -m bench.web [--customers 100000] [--reps 200] [--dashboards 20] [--live-seconds 40]

1. Every page's first render, server time: each page fetched 5 times with an admin's
   session (the whole organisation) and a manager's; the median and the slowest.
2. The KPI endpoints for 200 reps x 90 days: every report by rep, by team and by day.
3. The live map under load: 200 reps each report a position every 10 s while 20
   dashboards hold the live stream open; the delay from the report leaving the phone to
   the position arriving in each dashboard, over every (update, dashboard) pair.

Uses the bench database of bench/api_load.py (built once). The load runs on the same
2-core machine as the server, so the figures are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import re
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from bench.api_load import RESULTS, SLUG, prepare_database, start_server
from server.models import Organization, User
from shared.enums import WEEKDAYS, Role

PAGES = ["/", "/kpis", "/customers", "/territories", "/plans", "/exceptions", "/admin"]
REPORTS = ["kpis", "plan-adherence", "visits", "time", "drive", "verification", "missed-late", "coverage", "pipeline"]


def people(url: str) -> tuple[str, str, list[str], str, str]:
    """(admin email, a manager's email, the reps' emails, a rep id, a customer id)."""
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == SLUG))
        users = list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.email)))
        manager_id = next(u.id for u in users if u.role is Role.manager)
        # A customer the manager sees too: one owned by a rep of theirs.
        customer = session.execute(
            text(
                "SELECT c.id FROM customers c JOIN users u ON u.id = c.owner_id "
                "WHERE c.org_id = :o AND u.manager_id = :m LIMIT 1"
            ),
            {"o": org_id, "m": manager_id},
        ).scalar()
        # Reps at work all week for the live test (a manager sees positions in working hours only).
        session.execute(
            update(User)
            .where(User.org_id == org_id, User.role == Role.rep)
            .values(working_hours={day: [["00:00", "24:00"]] for day in WEEKDAYS})
        )
        session.commit()
    engine.dispose()
    admin = next(u.email for u in users if u.role is Role.admin)
    manager = next(u for u in users if u.role is Role.manager)
    reps = [u for u in users if u.role is Role.rep]
    managed = next(u for u in reps if u.manager_id == manager.id)
    return admin, manager.email, [u.email for u in reps], str(managed.id), str(customer)


def browser_session(address: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=address, timeout=120, follow_redirects=False)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post("/login", data={"username": email, "password": password, "csrf_token": token[1], "next": "/"})
    assert answer.status_code == 303, answer.text[:300]
    return client


def timed_get(
    client: httpx.Client, path: str, runs: int = 5, headers: dict[str, str] | None = None
) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {"Accept": "text/html"})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


async def live_fan_out(
    address: str, admin_cookie: str, rep_emails: list[str], dashboards: int, seconds: float
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=address, timeout=60) as client:
        tokens = []
        for email in rep_emails:
            answer = await client.post("/api/v1/auth/token", data={"username": email, "password": "demo-rep-pass"})
            tokens.append(answer.json()["access_token"])
        for index, token in enumerate(tokens):
            headers = {"Authorization": f"Bearer {token}"}
            await client.post("/api/v1/tracking/workday/start", headers=headers)
            await client.post(
                "/api/v1/devices", headers=headers, json={"identifier": f"bench-web-{index}", "name": "bench"}
            )
    sent: dict[str, float] = {}  # a report's time (unique to the microsecond) -> when it left
    received: list[float] = []
    stop = asyncio.Event()

    async def dashboard() -> None:
        cookies = {"ff_session": admin_cookie}
        async with (
            httpx.AsyncClient(base_url=address, timeout=None, cookies=cookies) as client,
            client.stream("GET", "/api/v1/tracking/live") as stream,
        ):
            async for line in stream.aiter_lines():
                if stop.is_set():
                    return
                if line.startswith("data: "):
                    update = json.loads(line[6:])
                    if update["time"] in sent:
                        received.append(time.perf_counter() - sent[update["time"]])

    async def phone(index: int, client: httpx.AsyncClient) -> None:
        headers = {"Authorization": f"Bearer {tokens[index]}"}
        await asyncio.sleep(random.uniform(0, 10))
        while not stop.is_set():
            moment = datetime.now(UTC).isoformat()
            lat, lon = 45.75 + random.uniform(-0.05, 0.05), 4.85 + random.uniform(-0.05, 0.05)
            sent[moment] = time.perf_counter()
            point = {"time": moment, "lat": lat, "lon": lon, "speed": 5, "battery": 80}
            await client.post(
                "/api/v1/tracking/positions",
                headers=headers,
                json={"device": f"bench-web-{index}", "positions": [point]},
            )
            await asyncio.sleep(10)

    listeners = [asyncio.create_task(dashboard()) for _ in range(dashboards)]
    await asyncio.sleep(2)  # the streams are open
    async with httpx.AsyncClient(base_url=address, timeout=60) as phones:
        writers = [asyncio.create_task(phone(i, phones)) for i in range(len(tokens))]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*writers, return_exceptions=True)
    await asyncio.sleep(2)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    delays = sorted(received)
    expected = len(sent) * dashboards

    def pct(p: float) -> float:
        return round(delays[min(len(delays) - 1, int(p * len(delays)))] * 1000, 1) if delays else float("nan")

    return {
        "reports_sent": len(sent),
        "deliveries_expected": expected,
        "deliveries": len(delays),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(delays[-1] * 1000, 1) if delays else None,
        "over_1s": sum(1 for d in delays if d > 1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=20)
    parser.add_argument("--live-seconds", type=float, default=40)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    url = prepare_database(args.customers, args.reps, args.rebuild)
    admin, manager, reps, rep_id, customer_id = people(url)
    server, address = start_server(url, args.server_workers)
    results: dict[str, Any] = {
        "machine": f"{platform.node()} ({platform.machine()}, 2 cores)",
        "date": str(date.today()),
    }
    try:
        as_admin = browser_session(address, admin, "demo-admin-pass")
        as_manager = browser_session(address, manager, "demo-manager-pass")
        pages = [*PAGES, f"/reps/{rep_id}/day", f"/customers/{customer_id}"]
        results["pages"] = {}
        for who, client in (("admin", as_admin), ("manager", as_manager)):
            for path in pages:
                results["pages"][f"{who} {path}"] = timed_get(client, path)
                print(f"page {who} {path}: {results['pages'][f'{who} {path}']}")
        end = date.today()
        start = end - timedelta(days=89)
        results["kpis"] = {}
        for report in REPORTS:
            for group_by in ("rep", "team", "day"):
                if report in ("coverage", "pipeline") and group_by == "day":
                    continue
                path = f"/api/v1/reports/{report}?start={start}&end={end}&group_by={group_by}"
                figure = timed_get(as_admin, path, runs=3, headers={"Accept": "application/json"})
                results["kpis"][f"{report} by {group_by}"] = figure
                print(f"report {report} by {group_by}: {figure}")
        cookie = as_admin.cookies["ff_session"]
        results["live"] = asyncio.run(live_fan_out(address, cookie, reps, args.dashboards, args.live_seconds))
        print("live:", results["live"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(results, indent=2))
    slowest_page = max(results["pages"].items(), key=lambda item: item[1]["median_ms"])
    slowest_kpi = max(results["kpis"].items(), key=lambda item: item[1]["median_ms"])
    print(f"slowest page (median): {slowest_page}; slowest report: {slowest_kpi}")


if __name__ == "__main__":
    main()
