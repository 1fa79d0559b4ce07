"""Field-size routing benchmark: days and weeks built like a real city.

    python -m bench.routing_field [--only day25,day300,week1500] [--threads 2]

- day25: one rep, 25 short stops, a third with 2-hour windows, home start;
  solved with 1 s and compared with a 30 s solve of the same instance (goal:
  within 0.5 % in under 1 s).
- day300: 20 reps x 300 visits, a third to a half with windows (goal < 10 s).
- week1500: a 5-day plan for 20 reps and 1,500 customers with weekly,
  fortnightly and monthly frequencies (goal < 60 s).

Instances are generated from a fixed seed around Lyon (clustered customers,
homes spread over the city), travel by haversine x 1.3 at 35 km/h.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from routing import Break, HaversineTravel, Problem, Rep, Visit, solve
from routing.planning import RecurringCustomer, plan_days

RESULTS = Path(__file__).parent / "results"
CENTRE = (4.8357, 45.7640)  # lon, lat
HOUR = 3600.0


def city_points(rng: random.Random, count: int, radius_km: float = 9.0) -> list[tuple[float, float]]:
    """Clustered points: customers gather along a few dozen streets."""
    clusters = [
        (CENTRE[0] + rng.gauss(0, radius_km / 111 / 2), CENTRE[1] + rng.gauss(0, radius_km / 111 / 2.8))
        for _ in range(max(5, count // 25))
    ]
    points = []
    for _ in range(count):
        lon, lat = rng.choice(clusters)
        points.append((lon + rng.gauss(0, 0.004), lat + rng.gauss(0, 0.003)))
    return points


def day_problem(seed: int, reps: int, visits: int, windowed_share: float) -> Problem:
    rng = random.Random(seed)
    homes = city_points(rng, reps)
    customers = city_points(rng, visits)
    travel = HaversineTravel(homes + customers)
    rep_list = tuple(
        Rep(f"rep{r + 1}", r, r, (8 * HOUR, 17 * HOUR), breaks=(Break((12 * HOUR, 13.5 * HOUR), 1800),))
        for r in range(reps)
    )
    visit_list = []
    for i in range(visits):
        windows: tuple[tuple[float, float], ...] = ()
        if rng.random() < windowed_share:
            start = rng.choice([8.5, 9, 10, 11, 13.5, 14, 15]) * HOUR
            windows = ((start, start + 2 * HOUR),)
        visit_list.append(Visit(f"c{i + 1}", reps + i, service=rng.choice([600, 900, 1200]), time_windows=windows))
    return Problem(rep_list, tuple(visit_list), travel, name=f"{reps}x{visits}")


def bench_day25(threads: int) -> Mapping[str, object]:
    """One rep, 25 stops: the 1 s answer against a 30 s reference, over 5 instances."""
    rows = []
    for seed in range(5):
        problem = day_problem(100 + seed, 1, 25, 0.35)
        reference = solve(problem, time_limit=30, threads=threads)
        began = time.perf_counter()
        quick = solve(problem, time_limit=0.8, threads=threads)
        seconds = time.perf_counter() - began
        rows.append(
            {
                "seed": seed,
                "seconds": round(seconds, 2),
                "feasible": quick.is_feasible(),
                "distance_1s": round(quick.distance),
                "distance_30s": round(reference.distance),
                "gap_pct": round(100 * (quick.distance / reference.distance - 1), 3),
            }
        )
        print(f"day25 seed {seed}: {rows[-1]}", flush=True)
    return {
        "rows": rows,
        "max_gap_pct": max(r["gap_pct"] for r in rows),
        "max_seconds": max(r["seconds"] for r in rows),
        "all_feasible": all(r["feasible"] for r in rows),
    }


def bench_day300(threads: int) -> Mapping[str, object]:
    problem = day_problem(7, 20, 300, 0.4)
    began = time.perf_counter()
    result = solve(problem, time_limit=9.0, threads=threads)
    seconds = time.perf_counter() - began
    out = {
        "seconds": round(seconds, 2),
        "feasible": result.is_feasible(),
        "distance_km": round(result.distance / 1000, 1),
        "unassigned": len(result.unassigned),
        "routes": sum(1 for r in result.routes if r.stops),
    }
    print(f"day300: {out}", flush=True)
    return out


def recurring_customers(rng: random.Random, count: int, *, first_location: int) -> list[RecurringCustomer]:
    """Weekly (a fifth), fortnightly (three tenths) and monthly customers, last seen at random
    within their frequency, Pareto-valued, a third with morning and afternoon windows."""
    customers = []
    for i in range(count):
        tier = rng.random()
        frequency = 7 if tier < 0.2 else 14 if tier < 0.5 else 28
        customers.append(
            RecurringCustomer(
                f"c{i + 1}",
                first_location + i,
                service=rng.choice([600, 900]),
                frequency_days=frequency,
                last_visit_day=-rng.randrange(1, frequency + 1),
                value=rng.paretovariate(1.16) * 1000,
                time_windows=((9 * HOUR, 12 * HOUR), (14 * HOUR, 17 * HOUR)) if rng.random() < 0.3 else (),
            )
        )
    return customers


def bench_week1500(threads: int) -> Mapping[str, object]:
    rng = random.Random(11)
    homes = city_points(rng, 20)
    points = city_points(rng, 1500)
    travel = HaversineTravel(homes + points)
    shifts = {d: [Rep(f"rep{r + 1}", r, r, (8 * HOUR, 17 * HOUR)) for r in range(20)] for d in range(5)}
    customers = recurring_customers(rng, 1500, first_location=20)
    began = time.perf_counter()
    plan = plan_days(customers, shifts, travel, time_limit=55.0, threads=threads)
    seconds = time.perf_counter() - began
    out = {
        "seconds": round(seconds, 2),
        "feasible": plan.is_feasible(),
        "due_visits": plan.occurrences,
        "planned": len(plan.visits),
        "unassigned": len(plan.unassigned),
        "distance_km": round(plan.distance / 1000, 1),
    }
    print(f"week1500: {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="day25,day300,week1500")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    benches = {"day25": bench_day25, "day300": bench_day300, "week1500": bench_week1500}
    results = {}
    for name in args.only.split(","):
        results[name] = benches[name](args.threads)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"routing_field-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.write_text(
        json.dumps({"date": datetime.now(UTC).isoformat(), "threads": args.threads, "results": results}, indent=2)
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
