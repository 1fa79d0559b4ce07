"""A fingerprint of the optimizer's decisions, for refactors that must not change them.

The searches stop on the clock, so two runs of the same code rarely give the
same routes. Here the clock is fake: `time.perf_counter` advances a fixed step
per call, so each search makes the same number of iterations every run and the
routes depend on the code alone. Run it before and after a change that should
not alter the search (a split, a rename); the printed hashes must be equal.

    .venv/bin/python -m bench.routing_fingerprint
    .venv/bin/python -m bench.routing_fingerprint --instances R101,C201 --time-limit 3

It covers Solomon instances (the iterated search with focused descents, or
guided local search where it runs), two field days with lunch breaks (one rep:
recreates only; four reps: focused descents with break gaps) and a 3-day plan
(`plan_days`, its rep-day vehicles). One process, one search at a time.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import time

from bench.routing_field import HOUR, city_points, day_problem, recurring_customers
from routing import HaversineTravel, Rep, Result, solve
from routing.bench import DEFAULT_DATA, instance_paths
from routing.planning import plan_days
from routing.solomon import read_solomon

STEP_SECONDS = 0.0005


def _install_fake_clock() -> None:
    ticks = itertools.count()
    time.perf_counter = lambda: next(ticks) * STEP_SECONDS  # every module reads the clock through `time`


def _routes(result: Result) -> list[tuple[str, tuple[str, ...]]]:
    return [(route.rep, tuple(stop.visit for stop in route.stops)) for route in result.routes]


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def literature(names: list[str], time_limit: float) -> str:
    found = []
    for name in names:
        [path] = instance_paths(DEFAULT_DATA, [name])
        result = solve(read_solomon(path), time_limit=time_limit, seed=0, threads=1)
        found.append((name, round(result.distance, 3), _routes(result)))
        print(f"  {name:8} {result.distance:10.1f}", flush=True)
    return _digest(found)


def field_days(time_limit: float) -> str:
    found = []
    for seed, reps, visits in ((100, 1, 25), (7, 4, 60)):
        result = solve(day_problem(seed, reps, visits, 0.35), time_limit=time_limit, seed=0, threads=1)
        found.append((seed, round(result.distance, 3), _routes(result)))
        print(f"  day {reps}x{visits} {result.distance:10.1f}", flush=True)
    return _digest(found)


def three_day_plan(time_limit: float) -> str:
    rng = random.Random(11)
    homes, points = city_points(rng, 3), city_points(rng, 60)
    travel = HaversineTravel(homes + points)
    shifts = {day: [Rep(f"rep{r + 1}", r, r, (8 * HOUR, 17 * HOUR)) for r in range(3)] for day in range(3)}
    customers = recurring_customers(rng, 60, first_location=3)
    plan = plan_days(customers, shifts, travel, time_limit=time_limit, threads=1)
    print(f"  3-day plan {plan.distance:10.1f} ({len(plan.visits)} visits)", flush=True)
    return _digest((sorted(map(repr, plan.visits)), plan.distance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", default="R101,C201,RC105,R202")
    parser.add_argument("--time-limit", type=float, default=3.0, help="fake seconds per solve")
    args = parser.parse_args()
    _install_fake_clock()
    print("literature", literature(args.instances.split(","), args.time_limit))
    print("field days", field_days(args.time_limit))
    print("3-day plan", three_day_plan(args.time_limit))


if __name__ == "__main__":
    main()
