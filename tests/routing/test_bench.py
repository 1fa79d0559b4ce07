"""The literature benchmark runs end to end (two instances, short limit)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from routing.bench import DEFAULT_DATA, load_bks
from routing.model import Problem
from routing.result import Result
from routing.solomon import read_solomon

pytestmark = pytest.mark.skipif(not DEFAULT_DATA.exists(), reason="../shared/data/vrptw is not next to the repo")


def test_solomon_reader_matches_the_file():
    problem = read_solomon(DEFAULT_DATA / "solomon" / "C101.txt")
    assert (len(problem.reps), len(problem.visits)) == (25, 100)
    assert problem.reps[0].capacity == 200 and problem.reps[0].shift == (0, 1236)
    first = problem.visits[0]
    assert (first.id, first.demand, first.service, first.time_windows) == ("1", 10, 90, ((912, 967),))
    assert problem.travel.distance(0, 1) == pytest.approx(((45 - 40) ** 2 + (68 - 50) ** 2) ** 0.5)


def test_bks_prefers_the_double_precision_distance_only_value():
    bks = load_bks(DEFAULT_DATA)
    assert bks["C101"] == (828.94, "distance-only double")
    assert bks["C1_2_1"][1] == "distance-only DIMACS"


def test_benchmark_runs_two_instances(tmp_path: Path):
    output = tmp_path / "out.csv"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "routing.bench",
            "solomon",
            "--instances",
            "C101,R101",
            "--time-limit",
            "2",
            "--threads",
            "1",
            "--seed",
            "3",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = list(csv.DictReader(output.open()))
    assert [r["instance"] for r in rows] == ["C101", "R101"]
    assert all(r["feasible"] == "True" for r in rows)
    assert all(float(r["gap_pct"]) < 15 for r in rows)
    assert "mean gap" in completed.stdout


@pytest.mark.parametrize("solver", ["pyvrp", "vroom"])
def test_comparison_solvers_are_rechecked_by_our_evaluator(solver):
    """The adapters hand PyVRP and VROOM the same instance and read their routes back correctly."""
    from routing.bench import run_pyvrp, run_vroom

    problem = read_solomon(DEFAULT_DATA / "solomon" / "C101.txt")
    row = (run_pyvrp if solver == "pyvrp" else run_vroom)(problem, 1.0)
    assert row.feasible
    assert row.distance == pytest.approx(828.94, rel=0.02)


def test_config_option_names_a_search_and_refuses_what_it_does_not_know():
    from routing.bench import _parse_config
    from routing.solve import RUIN_AND_RECREATE

    assert _parse_config("PARALLEL_CHEAPEST_INSERTION/RUIN_AND_RECREATE") == RUIN_AND_RECREATE
    assert _parse_config("PATH_CHEAPEST_ARC/RUIN_AND_RECREATE/split=0").split_rate == 0.0
    opened = _parse_config("PATH_CHEAPEST_ARC/RUIN_AND_RECREATE/open=0/close=0.1")
    assert (opened.open_route_rate, opened.route_removal_rate, opened.split_rate) == (0.0, 0.1, 0.5)
    recreate_only = _parse_config("PATH_CHEAPEST_ARC/RUIN_AND_RECREATE/descents=0/temperature=3")
    assert (recreate_only.descents, recreate_only.start_temperature) == (False, 3.0)
    assert _parse_config("PATH_CHEAPEST_ARC/RUIN_AND_RECREATE/descents=1").descents is True
    guided = _parse_config("PATH_CHEAPEST_ARC/GUIDED_LOCAL_SEARCH/lambda=2")
    assert (guided.first_solution, guided.guided_lambda, guided.ruin_recreate) == ("PATH_CHEAPEST_ARC", 2.0, False)
    assert _parse_config("PATH_CHEAPEST_ARC/GUIDED_LOCAL_SEARCH").guided_lambda == 0.1
    bad_configs = (
        "PATH_CHEAPEST_ARC",
        "A/B/alpha=1",
        "A/RUIN_AND_RECREATE/split=x",
        "A/RUIN_AND_RECREATE/descents=yes",
        "A/GUIDED_LOCAL_SEARCH/open=1",
    )
    for bad in bad_configs:
        with pytest.raises(SystemExit, match="--config"):
            _parse_config(bad)


def test_seed_option_reaches_the_solver(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """`--seed` is handed to `solve`, so a rerun at another seed is a rerun of other searches."""
    import routing.bench as bench
    from routing.solve import solve as real_solve

    seeds: list[int] = []

    def recording_solve(problem: Problem, **options: Any) -> Result:
        seeds.append(options["seed"])
        return real_solve(problem, **options)

    monkeypatch.setattr(bench, "solve", recording_solve)
    common = ["solomon", "--instances", "C101", "--time-limit", "0.5", "--threads", "1"]
    assert bench.main([*common, "--seed", "7", "--output", str(tmp_path / "a.csv")]) == 0
    assert bench.main([*common, "--output", str(tmp_path / "b.csv")]) == 0
    assert seeds == [7, 0]
