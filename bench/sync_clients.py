"""Client side of bench/sync_load.py, run in its own process: it imports only the
mobile core, the shared contract and httpx, so its peak RSS is a device's memory.

    python -m bench.sync_clients SCENARIO '{"base": ..., ...}'   (prints one JSON line)
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mobile.core.field_work import FieldWork
from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient
from shared.sync.protocol import Entity


def _device(base: str, token: str, user: str, directory: str, name: str) -> tuple[LocalStore, SyncClient, FieldWork]:
    store = LocalStore(Path(directory) / f"{name}.sqlite")
    client = SyncClient(store, base, page_limit=500)
    client.use_tokens(token, user_id=user)
    return store, client, FieldWork(store, client.next_hlc)


def _peak_rss_mb() -> float:
    """Peak RSS of this process (VmHWM; ru_maxrss would carry the parent's over fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenario_fresh_pull(base: str, token: str, user: str, directory: str) -> dict[str, Any]:
    store, client, _ = _device(base, token, user, directory, "fresh")
    began = time.perf_counter()
    client.sync()
    seconds = time.perf_counter() - began
    from shared.sync.protocol import Entity

    return {
        "seconds": seconds,
        "customers": store.count(Entity.customer),
        "visits": store.count(Entity.visit),
        "peak_rss_mb": _peak_rss_mb(),
    }


def scenario_week_offline(base: str, token: str, user: str, directory: str, pending: int) -> dict[str, Any]:
    store, client, app = _device(base, token, user, directory, "week")
    client.sync()
    customers = [c["id"] for c in store.query(Entity.customer, order="id LIMIT 200")]
    began_queue = time.perf_counter()
    for n in range(pending):
        app.edit_customer(customers[n % len(customers)], notes=f"offline edit {n}")
    queued = time.perf_counter() - began_queue
    began = time.perf_counter()
    report = client.sync()
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "queue_seconds": queued,
        "pushed": report.pushed,
        "pending_after": store.pending_count(),
        "peak_rss_mb": _peak_rss_mb(),
    }


def scenario_many_clients(
    base: str, tokens: list[str], edits: int, paced_seconds: float, paced_rate: float, **_: Any
) -> dict[str, Any]:
    """Simulated devices speaking the real protocol (pushes with payload hashes, pulls paged
    to the end of every scope), light enough that 100 of them in one process measure the
    server, not the load generator. Two runs:

    - burst: every device pushes `edits` edits and pulls, all in the same instant;
    - paced: devices sync at random moments, `paced_rate` syncs per second in all, for
      `paced_seconds` (an open loop: arrivals do not wait for answers).
    """
    import asyncio
    import random
    import uuid as uuid_module

    from shared.sync.hlc import HybridLogicalClock
    from shared.sync.protocol import Mutation

    async def run() -> dict[str, Any]:
        limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
            devices: list[dict[str, Any]] = []
            for token in tokens:
                headers = {"Authorization": f"Bearer {token}"}
                scopes = (await http.get("/api/v1/sync/scopes", headers=headers)).json()["scopes"]
                device = {
                    "headers": headers,
                    "client_id": str(uuid_module.uuid4()),
                    "mid": 0,
                    "scopes": scopes,
                    "cursors": {},
                    "customers": [],
                    "clock": HybridLogicalClock(),
                    "busy": asyncio.Lock(),
                }
                await pull_all(http, device, None)
                devices.append(device)
            # warm-up: each device pushes once (connections, prepared statements, caches)
            await asyncio.gather(*(push(http, d, 1, None) for d in devices))
            await asyncio.gather(*(pull_all(http, d, None) for d in devices))

            burst: dict[str, list[float]] = {"push": [], "pull": []}
            began = time.perf_counter()
            await asyncio.gather(*(sync(http, d, edits, burst) for d in devices))
            burst_seconds = time.perf_counter() - began

            paced: dict[str, list[float]] = {"push": [], "pull": []}
            rng = random.Random(7)
            tasks = []
            began = time.perf_counter()
            moment = 0.0
            while moment < paced_seconds:
                moment += rng.expovariate(paced_rate)
                tasks.append(
                    asyncio.create_task(later(moment, http, rng.choice(devices), rng.randint(1, edits), paced))
                )
            await asyncio.gather(*tasks)
            paced_elapsed = time.perf_counter() - began
            return {
                "clients": len(devices),
                "burst": summary(burst, burst_seconds),
                "paced": {**summary(paced, paced_elapsed), "syncs": len(tasks), "rate_per_s": paced_rate},
            }

    async def later(
        moment: float, http: httpx.AsyncClient, device: dict[str, Any], count: int, timings: dict[str, list[float]]
    ) -> None:
        await asyncio.sleep(moment)
        await sync(http, device, count, timings)

    async def sync(
        http: httpx.AsyncClient, device: dict[str, Any], count: int, timings: dict[str, list[float]]
    ) -> None:
        async with device["busy"]:  # a device never overlaps its own syncs (mids are sequential)
            await push(http, device, count, timings)
            await pull_all(http, device, timings)

    async def push(
        http: httpx.AsyncClient, device: dict[str, Any], count: int, timings: dict[str, list[float]] | None
    ) -> None:
        mutations = []
        for _ in range(count):
            device["mid"] += 1
            customer = device["customers"][device["mid"] % len(device["customers"])]
            data = {"notes": f"edit {device['mid']}"}
            mutation = Mutation(
                device["mid"],
                device["clock"].now(),
                "update",
                "customer",
                customer,
                data,
                device["versions"].get(customer),
            )
            mutation.payload_hash = mutation.computed_hash()
            mutations.append(mutation.__dict__)
        body = {
            "protocol": 1,
            "schema_version": 1,
            "app_version": "bench",
            "client_id": device["client_id"],
            "mutations": mutations,
        }
        began = time.perf_counter()
        response = await http.post("/api/v1/sync/push", json=body, headers=device["headers"])
        if timings is not None:
            timings["push"].append((time.perf_counter() - began) * 1000)
        response.raise_for_status()

    async def pull_all(http: httpx.AsyncClient, device: dict[str, Any], timings: dict[str, list[float]] | None) -> None:
        device.setdefault("versions", {})
        for scope in device["scopes"]:
            while True:
                params = {"scope": scope, "protocol": 1, "limit": 500, "client_id": device["client_id"]}
                if device["cursors"].get(scope):
                    params["cursor"] = device["cursors"][scope]
                began = time.perf_counter()
                response = await http.get("/api/v1/sync/pull", params=params, headers=device["headers"])
                if timings is not None:
                    timings["pull"].append((time.perf_counter() - began) * 1000)
                response.raise_for_status()
                page = response.json()
                for record in page["records"]:
                    if record["entity"] == "customer":
                        if record["id"] not in device["versions"]:
                            device["customers"].append(record["id"])
                        device["versions"][record["id"]] = record["row_version"]
                device["cursors"][scope] = page["cursor"]
                if not page["has_more"]:
                    break

    def summary(timings: dict[str, list[float]], seconds: float) -> dict[str, Any]:
        def pct(values: list[float], q: int) -> float:
            return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values or [0.0])[0]

        return {
            "seconds": seconds,
            "push_requests": len(timings["push"]),
            "pull_requests": len(timings["pull"]),
            "push_p50_ms": pct(timings["push"], 50),
            "push_p95_ms": pct(timings["push"], 95),
            "pull_p50_ms": pct(timings["pull"], 50),
            "pull_p95_ms": pct(timings["pull"], 95),
        }

    result = asyncio.run(run())
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "fresh_pull": scenario_fresh_pull,
    "week_offline": scenario_week_offline,
    "many_clients": scenario_many_clients,
}


if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]](**json.loads(sys.argv[2]))
    print(json.dumps(result))
