"""The problem file: round trip, the documented output, errors, and the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from routing import Break, Problem, Rep, Visit
from routing.io import ProblemFileError, problem_from_json, problem_to_json
from routing.travel import HaversineTravel

LYON = [[4.8357, 45.7640], [4.8320, 45.7627], [4.8420, 45.7480], [4.8500, 45.7700], [4.8200, 45.7550]]


def sample() -> dict:
    return {
        "locations": LYON,
        "travel": {"speed_kmh": 30, "circuity": 1.4},
        "reps": [
            {
                "id": "alice",
                "start": 0,
                "end": 0,
                "shift": [28800, 61200],
                "breaks": [{"window": [43200, 46800], "duration": 1800}],
                "skills": ["gas"],
                "max_stops": 10,
                "capacity": 100,
            },
            {"id": "bob", "start": 0, "end": None, "shift": [28800, 61200]},
        ],
        "visits": [
            {"id": "c1", "location": 1, "service": 900, "time_windows": [[28800, 36000], [50400, 57600]]},
            {"id": "c2", "location": 2, "service": 600, "skills": ["gas"], "demand": 5},
            {"id": "c3", "location": 3, "service": 600, "required": False, "penalty": 50000},
            {"id": "c4", "location": 4, "service": 300, "reps": ["bob"]},
        ],
    }


def test_round_trip_keeps_every_field():
    problem = problem_from_json(sample())
    again = problem_from_json(json.loads(json.dumps(problem_to_json(problem))))
    assert again.reps == problem.reps
    assert again.visits == problem.visits
    for mine, theirs in zip(again.travel.durations, problem.travel.durations, strict=True):
        assert mine == pytest.approx(theirs)
    for mine, theirs in zip(again.travel.distances, problem.travel.distances, strict=True):
        assert mine == pytest.approx(theirs)


def test_haversine_travel_uses_speed_and_circuity():
    problem = problem_from_json(sample())
    assert isinstance(problem.travel, HaversineTravel)
    assert problem.travel.duration(0, 1) == pytest.approx(problem.travel.distance(0, 1) / (30 / 3.6))
    assert problem.reps[0].breaks == (Break((43200, 46800), 1800),)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["visits"][0].update(location=99), "not in the travel matrix"),
        (lambda d: d["visits"][0].update(location="one"), "visits[0].location"),
        (lambda d: d["visits"][0].update(service=float("nan")), "visits[0].service"),
        (lambda d: d["reps"][0].update(shift=[10, 5]), "before it starts"),
        (lambda d: d["reps"][0].pop("start"), "reps[0]: start is required"),
        (lambda d: d["visits"][1].update(colour="red"), "unknown field"),
        (lambda d: d.pop("locations"), "locations, a matrix"),
        (lambda d: d.update(locations=[[200, 45]] * 5), "lon, lat"),
        (lambda d: d["visits"][0].update(required="yes"), "true or false"),
    ],
)
def test_invalid_files_say_where(mutate, message):
    data = sample()
    mutate(data)
    with pytest.raises(ProblemFileError, match=re.escape(message)):
        problem_from_json(data)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routing", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_cli_prints_the_documented_result(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(sample()))
    completed = run_cli("solve", str(path), "--time-limit", "1", "--seed", "3")
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout)
    assert set(out) >= {"routes", "unassigned", "distance", "duration", "feasible", "solve_seconds"}
    assert out["feasible"] is True
    stop = out["routes"][0]["stops"][0]
    assert set(stop) >= {"visit", "arrival", "start", "departure"}
    served = {s["visit"] for r in out["routes"] for s in r["stops"]}
    assert {"c1", "c2", "c4"} <= served
    assert next(r for r in out["routes"] if "c4" in {s["visit"] for s in r["stops"]})["rep"] == "bob"


def test_cli_reads_stdin_and_reports_bad_files(tmp_path):
    assert run_cli("solve", "-", "--time-limit", "1", stdin=json.dumps(sample())).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    completed = run_cli("solve", str(bad))
    assert completed.returncode == 2
    assert "not JSON" in completed.stderr


def test_cli_exit_code_1_when_a_required_visit_cannot_be_served(tmp_path):
    data = sample()
    data["visits"][0]["time_windows"] = [[0, 10]]  # before anyone starts
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    completed = run_cli("solve", str(path), "--time-limit", "1")
    assert completed.returncode == 1
    out = json.loads(completed.stdout)
    assert out["unassigned"] == [
        {"visit": "c1", "reason": "time_window", "detail": "no rep can arrive before its windows close"}
    ]


def test_problem_object_rejects_missing_reps():
    with pytest.raises(ValueError, match="at least one rep"):
        Problem((), (Visit("v", 0),), HaversineTravel([(4.8, 45.7)]))
    assert Rep("r", 0, None, (0, 1)).end is None
