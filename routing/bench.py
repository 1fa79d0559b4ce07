"""Benchmark against the literature: Solomon (56) and Gehring-Homberger 200 (6).

    python -m routing.bench solomon [--instances C101,R101] [--time-limit 10] [--threads 2]
                                    [--seed 0] [--data ../shared/data/vrptw] [--compare pyvrp,vroom]

Every solution is re-checked by the independent evaluator with unrounded
distances. Gaps are against the distance-only best-known solutions (the same
objective: total distance with the full fleet): double precision where known,
else the DIMACS value (truncated arithmetic, 0.2-0.4 % below exact lengths, so
gaps against it read slightly high). Results print as a table and go to
`bench/results/solomon-<date>.csv`. One run's mean gap moves by about 0.1
points with the seed (docs/benchmarks.md): compare setups over several seeds.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from routing.evaluate import RoutePlan, evaluate
from routing.model import Problem
from routing.search_config import SearchConfig
from routing.solomon import read_solomon
from routing.solve import RUIN_AND_RECREATE, solve

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "vrptw"
RESULTS = REPO / "bench" / "results"


@dataclass
class Row:
    instance: str
    solver: str
    vehicles: int
    distance: float
    bks: float | None
    bks_convention: str
    seconds: float
    feasible: bool

    @property
    def gap(self) -> float | None:
        return None if self.bks is None or not self.feasible else 100 * (self.distance / self.bks - 1)


def load_bks(data: Path) -> dict[str, tuple[float, str]]:
    """instance -> (distance, convention), preferring double precision distance-only."""
    best: dict[str, tuple[float, str]] = {}
    with (data / "bks.csv").open() as handle:
        for row in csv.DictReader(handle):
            convention = row["objective_convention"]
            name = row["instance"].upper()
            if convention.startswith("distance-only (vehicles free); double"):
                best[name] = (float(row["distance"]), "distance-only double")
            elif convention.startswith("distance-only (vehicles free); DIMACS") and name not in best:
                best[name] = (float(row["distance"]), "distance-only DIMACS")
    return best


def instance_paths(data: Path, names: list[str] | None) -> list[Path]:
    paths = sorted((data / "solomon").glob("*.txt")) + sorted((data / "gh200").glob("*.txt"))
    if not paths:
        raise SystemExit(f"no instances under {data} (expected solomon/*.txt and gh200/*.txt)")
    if names:
        wanted = {n.upper() for n in names}
        paths = [p for p in paths if p.stem.upper() in wanted]
        missing = wanted - {p.stem.upper() for p in paths}
        if missing:
            raise SystemExit(f"unknown instances: {', '.join(sorted(missing))}")
    return paths


def run_ortools(
    problem: Problem, time_limit: float, threads: int, configs: list[SearchConfig] | None, seed: int = 0
) -> Row:
    began = time.perf_counter()
    result = solve(problem, time_limit=time_limit, threads=threads, configs=configs, seed=seed)
    seconds = time.perf_counter() - began
    return Row(
        problem.name,
        "fieldforce/ortools",
        sum(1 for r in result.routes if r.stops),
        result.distance,
        None,
        "",
        seconds,
        result.is_feasible(),
    )


def run_pyvrp(problem: Problem, time_limit: float) -> Row:
    """PyVRP on the same instance; its routes are re-checked by our evaluator."""
    import numpy as np
    import pyvrp
    from pyvrp.stop import MaxRuntime

    scale = 1000
    depot_location = problem.reps[0].start
    rep = problem.reps[0]
    nodes = 1 + len(problem.visits)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in range(nodes)],
        clients=[
            pyvrp.Client(
                location=i + 1,
                delivery=[round(v.demand)],
                service_duration=round(v.service * scale),
                tw_early=round(v.time_windows[0][0] * scale),
                tw_late=round(v.time_windows[0][1] * scale),
            )
            for i, v in enumerate(problem.visits)
        ],
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=len(problem.reps),
                capacity=[round(rep.capacity or 0)],
                tw_early=round(rep.shift[0] * scale),
                tw_late=round(rep.shift[1] * scale),
            )
        ],
        # pyvrp's stubs spell a matrix as ndarray[int, ...], which no numpy array is
        distance_matrices=[np.array(_int_matrix(problem, depot_location, scale, round), dtype=np.int64)],  # type: ignore[list-item]
        # durations rounded up: a schedule PyVRP accepts stays feasible in exact arithmetic
        duration_matrices=[np.array(_int_matrix(problem, depot_location, scale, math.ceil), dtype=np.int64)],  # type: ignore[list-item]
    )
    began = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit), display=False)
    seconds = time.perf_counter() - began
    plans = [
        RoutePlan(problem.reps[k].id, tuple(problem.visits[a.idx].id for a in route if a.is_client()))
        for k, route in enumerate(result.best.routes())
    ]
    return _checked(problem, "pyvrp", plans, seconds)


def run_vroom(problem: Problem, time_limit: float) -> Row:
    """VROOM (pyvroom) on the same instance, re-checked by our evaluator."""
    import numpy as np
    import vroom

    scale = 1000
    depot_location = problem.reps[0].start
    matrix = np.array(_int_matrix(problem, depot_location, scale, math.ceil), dtype=np.uint32)
    solver = vroom.Input()
    solver.set_durations_matrix("car", matrix)
    rep = problem.reps[0]
    for k in range(len(problem.reps)):
        solver.add_vehicle(
            vroom.Vehicle(
                k + 1,
                start=0,
                end=0,
                capacity=[round(rep.capacity or 0)],
                time_window=vroom.TimeWindow(round(rep.shift[0] * scale), round(rep.shift[1] * scale)),
            )
        )
    for index, visit in enumerate(problem.visits, start=1):
        solver.add_job(
            vroom.Job(
                index,
                location=index,
                delivery=vroom.Amount([round(visit.demand)]),
                default_service=round(visit.service * scale),
                time_windows=[
                    vroom.TimeWindow(round(visit.time_windows[0][0] * scale), round(visit.time_windows[0][1] * scale))
                ],
            )
        )
    began = time.perf_counter()
    solution = solver.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=time_limit))
    seconds = time.perf_counter() - began
    routes = solution.routes
    plans = []
    for vehicle_id, group in routes[routes["type"] == "job"].groupby("vehicle_id", sort=False):
        plans.append(
            RoutePlan(
                problem.reps[int(vehicle_id) - 1].id, tuple(problem.visits[int(job) - 1].id for job in group["id"])
            )
        )
    return _checked(problem, "vroom", plans, seconds)


def _int_matrix(problem: Problem, depot: int, scale: int, rounding: Callable[[float], float]) -> list[list[int]]:
    nodes = [depot] + [v.location for v in problem.visits]
    distances = problem.travel.distances
    return [[int(rounding(distances[a][b] * scale)) for b in nodes] for a in nodes]


def _checked(problem: Problem, solver: str, plans: list[RoutePlan], seconds: float) -> Row:
    evaluation = evaluate(problem, plans)
    served_all = len(evaluation.served) == len(problem.visits)
    distance = sum(route.distance for route in evaluation.routes)
    vehicles = sum(1 for route in evaluation.routes if route.stops)
    return Row(problem.name, solver, vehicles, distance, None, "", seconds, served_all and not evaluation.violations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m routing.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "suite", choices=["solomon"], help="solomon = the 56 Solomon + 6 Gehring-Homberger 200 instances"
    )
    parser.add_argument("--instances", help="comma-separated names, e.g. C101,R101,rc1_2_1 (default: all)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="parallel searches per instance (default 2)")
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the first search; the k-th takes seed + k (default 0)"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"instance folder (default {DEFAULT_DATA})")
    parser.add_argument("--compare", default="", help="also run: pyvrp, vroom (comma-separated; dev extra)")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="search config FIRST_SOLUTION/GUIDED_LOCAL_SEARCH[/lambda=X] or "
        "FIRST_SOLUTION/RUIN_AND_RECREATE[/split=X][/open=X][/close=X][/descents=0|1][/temperature=X] "
        "(repeatable; default: built-in set)",
    )
    parser.add_argument("--output", type=Path, help="CSV path (default bench/results/solomon-<time>.csv)")
    args = parser.parse_args(argv)

    bks = load_bks(args.data)
    configs = [_parse_config(text) for text in args.config] or None
    compare = [c.strip() for c in args.compare.split(",") if c.strip()]
    for name in compare:
        if name not in ("pyvrp", "vroom"):
            parser.error(f"unknown comparison {name!r}: use pyvrp and/or vroom")
    paths = instance_paths(args.data, args.instances.split(",") if args.instances else None)
    rows: list[Row] = []
    print(f"{'instance':10} {'solver':20} {'veh':>4} {'distance':>10} {'bks':>10} {'gap %':>7} {'sec':>6} feasible")
    for number, path in enumerate(paths, start=1):
        problem = read_solomon(path)
        runners: list[tuple[str, Callable[[], Row]]] = [
            ("ortools", partial(run_ortools, problem, args.time_limit, args.threads, configs, args.seed))
        ]
        if "pyvrp" in compare:
            runners.append(("pyvrp", partial(run_pyvrp, problem, args.time_limit)))
        if "vroom" in compare:
            runners.append(("vroom", partial(run_vroom, problem, args.time_limit)))
        for _, runner in runners:
            row = runner()
            reference = bks.get(path.stem.upper())
            row.instance = path.stem
            row.bks, row.bks_convention = reference if reference else (None, "")
            rows.append(row)
            gap = f"{row.gap:7.2f}" if row.gap is not None else "      -"
            print(
                f"{row.instance:10} {row.solver:20} {row.vehicles:>4} {row.distance:>10.2f} "
                f"{row.bks or 0:>10.2f} {gap} {row.seconds:>6.1f} {'yes' if row.feasible else 'NO'}"
                f"   [{number}/{len(paths)}]",
                flush=True,
            )
    _summarise(rows)
    output = args.output or RESULTS / f"solomon-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "instance",
                "solver",
                "vehicles",
                "distance",
                "bks_distance",
                "bks_convention",
                "gap_pct",
                "seconds",
                "feasible",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.instance,
                    row.solver,
                    row.vehicles,
                    f"{row.distance:.4f}",
                    row.bks if row.bks is not None else "",
                    row.bks_convention,
                    f"{row.gap:.4f}" if row.gap is not None else "",
                    f"{row.seconds:.2f}",
                    row.feasible,
                ]
            )
    print(f"written {output}")
    return 0 if all(r.feasible for r in rows if r.solver == "fieldforce/ortools") else 1


def _summarise(rows: list[Row]) -> None:
    for solver in sorted({r.solver for r in rows}):
        mine = [r for r in rows if r.solver == solver]
        gaps = [r.gap for r in mine if r.gap is not None]
        infeasible = [r.instance for r in mine if not r.feasible]
        mean = f"{statistics.mean(gaps):.2f}" if gaps else "-"
        worst = f"{max(gaps):.2f}" if gaps else "-"
        print(
            f"{solver}: {len(mine) - len(infeasible)}/{len(mine)} feasible, mean gap {mean} %, worst {worst} %"
            + (f", infeasible: {', '.join(infeasible)}" if infeasible else "")
        )


# --config options of ruin-and-recreate searches: option name -> SearchConfig field
_RUIN_RECREATE_OPTIONS = {
    "split": "split_rate",
    "open": "open_route_rate",
    "close": "route_removal_rate",
    "descents": "descents",
    "temperature": "start_temperature",
}


def _parse_config(text: str) -> SearchConfig:
    """FIRST_SOLUTION/METAHEURISTIC[/option=X ...]; METAHEURISTIC may be RUIN_AND_RECREATE.

    Guided local search takes `lambda=X`. RUIN_AND_RECREATE takes the defaults'
    settings (`routing.solve.RUIN_AND_RECREATE`) and `split=X` (share of split
    strings), `open=X` (share of recreates that open a route), `close=X`
    (share of ruins that remove a whole route), `descents=0|1` (whether
    OR-Tools descends from each recreate) and `temperature=X` (the annealing's
    start temperature, in mean arcs).
    """
    parts = text.split("/")
    ruin_recreate_options = "".join(
        f"[/{name}={'0|1' if name == 'descents' else 'X'}]" for name in _RUIN_RECREATE_OPTIONS
    )
    usage = f"use FIRST_SOLUTION/METAHEURISTIC[/lambda=X] or FIRST_SOLUTION/RUIN_AND_RECREATE{ruin_recreate_options}"
    if len(parts) < 2:
        raise SystemExit(f"--config {text!r}: {usage}")
    ruin_recreate = parts[1] == "RUIN_AND_RECREATE"
    known = _RUIN_RECREATE_OPTIONS if ruin_recreate else {"lambda": "guided_lambda"}
    # names checked against `known` above; values are floats, or a bool for descents
    options: dict[str, Any] = {}
    for option in parts[2:]:
        name, _, value = option.partition("=")
        if name not in known:
            raise SystemExit(f"--config {text!r}: unknown option {name!r} (here: {', '.join(known)})")
        if name == "descents":
            if value not in ("0", "1"):
                raise SystemExit(f"--config {text!r}: descents is 0 or 1, got {value!r}")
            options[known[name]] = value == "1"
            continue
        try:
            options[known[name]] = float(value)
        except ValueError:
            raise SystemExit(f"--config {text!r}: {name} needs a number, got {value!r}") from None
    if ruin_recreate:
        return replace(RUIN_AND_RECREATE, first_solution=parts[0], **options)
    return SearchConfig(parts[0], parts[1], **{"guided_lambda": 0.1, **options})


if __name__ == "__main__":
    sys.exit(main())
