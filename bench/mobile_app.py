"""The rep's app with a big local store: 5,000 customers and 20,000 visits (issue #17).

- cold start: from launching `python` to Today's list drawn, the app signed in
  and offline (the server unreachable), on a virtual screen (Xvfb);
- the customer list and search: `FieldWork.search_customers` and
  `customers_near`, and the Customers screen's own search, timed per call;
- memory: the app process's peak resident size.

    .venv/bin/python -m bench.mobile_app [--customers 5000] [--visits 20000] [--runs 5]

The store is built once per size under bench/results/mobile-store-<n>/ by
applying pulled pages, as a first sync would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import RESULTS, record_results

NAMES = ["Boulangerie", "Garage", "Cave", "Atelier", "Hotel", "Pharmacie", "Fleurs", "Cafe", "Librairie", "Optique"]
SURNAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
REP = "00000000-0000-0000-0000-00000000a001"
CLIENT = "00000000-0000-0000-0000-00000000c001"


def build_store(folder: Path, customers: int, visits: int) -> Path:
    from mobile.core.store import LocalStore

    path = folder / "fieldforce.sqlite"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(17)
    store = LocalStore(path)
    store.set_state("client_id", CLIENT)
    store.set_state("user_id", REP)
    store.set_state("access_token", "bench-token")  # opens on Today; the server is unreachable
    scope = f"user:{REP}"
    store.set_scopes([scope])
    customer_ids = [f"00000000-0000-4000-8000-{k:012d}" for k in range(customers)]
    today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    records: list[dict[str, Any]] = []
    for k, customer_id in enumerate(customer_ids):
        records.append(
            {
                "entity": "customer",
                "id": customer_id,
                "kind": "upsert",
                "row_version": 1,
                "data": {
                    "id": customer_id,
                    "name": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)} {k}",
                    "tier": rng.choice("AABBBCCCCC"),
                    "status": "customer",
                    "city": "Lyon",
                    "location": {"lat": 45.70 + rng.random() * 0.12, "lon": 4.78 + rng.random() * 0.15},
                },
            }
        )
    for k in range(visits):
        day = today + timedelta(days=rng.randint(-330, 30))
        if k < 12:
            day = today + timedelta(minutes=40 * k)  # today's route
        records.append(
            {
                "entity": "visit",
                "id": f"00000000-0000-4000-9000-{k:012d}",
                "kind": "upsert",
                "row_version": 1,
                "data": {
                    "id": f"00000000-0000-4000-9000-{k:012d}",
                    "customer_id": rng.choice(customer_ids),
                    "rep_id": REP,
                    "status": "planned" if day >= today else "completed",
                    "planned_start": day.isoformat(),
                    "planned_end": (day + timedelta(minutes=30)).isoformat(),
                },
            }
        )
    for start in range(0, len(records), 2_000):
        page = {"scope": scope, "cursor": f"c{start}", "last_mid": None, "records": records[start : start + 2_000]}
        store.apply_page(page, CLIENT)
    store.close()
    return path


def time_calls(folder: Path) -> dict[str, Any]:
    from mobile.core.field_work import FieldWork
    from mobile.core.store import LocalStore

    store = LocalStore(folder / "fieldforce.sqlite")
    work = FieldWork(store, lambda: 1 << 40)
    timings: dict[str, list[float]] = {"search": [], "nearby": [], "today": [], "first_page": []}
    for text in ["mart", "Cave", "garage du", "zz", "Hotel Petit 12", "e", "Pharmacie Durand", "lib"]:
        began = time.perf_counter()
        work.search_customers(text)
        timings["search"].append(time.perf_counter() - began)
    for k in range(8):
        began = time.perf_counter()
        work.customers_near(45.75 + k * 0.005, 4.85, radius_m=20_000, limit=50)
        timings["nearby"].append(time.perf_counter() - began)
    for _ in range(5):
        began = time.perf_counter()
        work.today_visits()
        timings["today"].append(time.perf_counter() - began)
        began = time.perf_counter()
        store.query(__import__("shared.sync.protocol", fromlist=["Entity"]).Entity.customer, order="name", limit=50)
        timings["first_page"].append(time.perf_counter() - began)
    return {
        name: {"max_ms": round(max(v) * 1000, 1), "median_ms": round(statistics.median(v) * 1000, 1)}
        for name, v in timings.items()
    }


CHILD = r"""
import json, os, resource, sys, time
started = float(sys.argv[2])
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "360"); Config.set("graphics", "height", "640")
from kivy.clock import Clock
from pathlib import Path
from mobile.device.location import FakeLocation
from mobile.ui.app import FieldForceApp
app = FieldForceApp("http://127.0.0.1:1", Path(sys.argv[1]), FakeLocation([]))
seen = {}
def drawn(_dt):
    today = app.root.get_screen("today") if app.root else None
    if today is None or not today.rows:
        Clock.schedule_once(drawn, 0)
        return
    seen["drawn_s"] = time.time() - started
    customers = app.root.get_screen("customers")
    began = time.perf_counter(); customers.search("mart")
    seen["screen_search_ms"] = (time.perf_counter() - began) * 1000
    began = time.perf_counter(); customers.search("")
    seen["screen_list_ms"] = (time.perf_counter() - began) * 1000
    seen["rows"] = len(today.rows)
    seen["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    app.stop()
Clock.schedule_once(drawn, 0)
app.run()
print(json.dumps(seen))
"""


def cold_starts(folder: Path, runs: int, display: str) -> list[dict[str, Any]]:
    results = []
    for _ in range(runs):
        env = {**os.environ, "DISPLAY": display, "KIVY_NO_CONSOLELOG": "1", "KIVY_HOME": str(folder / "kivy")}
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder), str(started)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        line = [x for x in done.stdout.splitlines() if x.startswith("{")]
        if not line:
            raise RuntimeError(done.stderr[-2000:])
        results.append(json.loads(line[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--visits", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = RESULTS / f"mobile-store-{args.customers}-{args.visits}"
    began = time.perf_counter()
    build_store(folder, args.customers, args.visits)
    size_mb = (folder / "fieldforce.sqlite").stat().st_size / 1e6
    print(f"store ready in {time.perf_counter() - began:.1f} s ({size_mb:.1f} MB)")
    calls = time_calls(folder)
    print(json.dumps(calls))
    screen = subprocess.Popen(
        ["Xvfb", ":93", "-screen", "0", "1280x800x24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(1)
        starts = cold_starts(folder, args.runs, ":93")
    finally:
        screen.terminate()
    summary = {
        "calls": calls,
        "cold_start_s": {
            "median": round(statistics.median(s["drawn_s"] for s in starts), 2),
            "max": round(max(s["drawn_s"] for s in starts), 2),
        },
        "screen_search_ms_max": round(max(s["screen_search_ms"] for s in starts), 1),
        "screen_list_ms_max": round(max(s["screen_list_ms"] for s in starts), 1),
        "peak_rss_mb_max": round(max(s["peak_rss_mb"] for s in starts), 1),
        "today_rows": starts[0]["rows"],
        "bench_process_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(summary, indent=2))
    out = record_results("mobile_app", None, vars(args), summary)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
