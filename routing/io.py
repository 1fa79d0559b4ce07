"""The problem file (JSON) — part of the contract.

Input::

    {"locations": [[lon, lat], ...],                      optional when a matrix is given
     "matrix": {"durations": [[s]], "distances": [[m]]},  optional
     "travel": {"speed_kmh": 35, "circuity": 1.3},        optional (haversine x circuity)
     "osrm": {"url": "http://host:5000", "profile": "driving"},   optional (OSRM /table/v1)
     "reps": [{"id", "start": loc, "end": loc|null, "shift": [t0, t1],
               "breaks": [{"window": [a, b], "duration": d}], "skills": [...],
               "max_stops": n, "capacity": c, "max_route_duration": s,
               "cost_per_hour": x, "cost_per_km": y}],
     "visits": [{"id", "location": loc, "service": s, "time_windows": [[a, b], ...],
                 "required": true|false, "penalty": p, "skills": [...], "demand": q,
                 "reps": [allowed rep ids], "locked_rep": id, "locked_position": n}]}

Times are seconds from the start of the day, distances metres, `loc` an index
into `locations` (or the matrix). The output is `Result.to_json()`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from routing.model import Break, Problem, Rep, Visit
from routing.travel import ExplicitTravel, HaversineTravel, OsrmTravel, TravelMatrix

__all__ = ["ProblemFileError", "problem_from_json", "problem_to_json", "read_problem"]


class ProblemFileError(ValueError):
    """The problem file is not valid; the message names where."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemFileError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemFileError(f"{where} must be a location index (an integer), got {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemFileError(f"{where} must be a list, got {type(value).__name__}")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProblemFileError(f"{where} must be an object, got {type(value).__name__}")
    return value


def _known(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ProblemFileError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _travel(data: Mapping[str, Any]) -> TravelMatrix:
    locations: list[tuple[float, float]] | None = None
    if "locations" in data:
        locations = []
        for i, point in enumerate(_list(data["locations"], "locations")):
            pair = [_number(c, f"locations[{i}][{k}]") for k, c in enumerate(_list(point, f"locations[{i}]"))]
            if len(pair) != 2:
                raise ProblemFileError(f"locations[{i}] must be [lon, lat]")
            locations.append((pair[0], pair[1]))
    if "matrix" in data:
        matrix = _object(data["matrix"], "matrix")
        _known(matrix, {"durations", "distances"}, "matrix")
        if "durations" not in matrix:
            raise ProblemFileError("matrix needs durations (distances are optional)")
        travel: TravelMatrix = ExplicitTravel(matrix["durations"], matrix.get("distances"))
        if locations is not None and len(locations) != travel.size:
            raise ProblemFileError(f"{len(locations)} locations but the matrix has {travel.size} rows")
        return travel
    if locations is None:
        raise ProblemFileError("give locations, a matrix, or both")
    if "osrm" in data:
        osrm = _object(data["osrm"], "osrm")
        _known(osrm, {"url", "profile", "max_table_size"}, "osrm")
        return OsrmTravel(
            str(osrm["url"]),
            locations,
            profile=str(osrm.get("profile", "driving")),
            max_table_size=int(osrm.get("max_table_size", 100)),
        )
    speed = _object(data.get("travel", {}), "travel")
    _known(speed, {"speed_kmh", "circuity"}, "travel")
    return HaversineTravel(
        locations,
        speed_kmh=_number(speed.get("speed_kmh", 35.0), "travel.speed_kmh"),
        circuity=_number(speed.get("circuity", 1.3), "travel.circuity"),
    )


REP_FIELDS = {
    "id",
    "start",
    "end",
    "shift",
    "breaks",
    "skills",
    "max_stops",
    "capacity",
    "max_route_duration",
    "cost_per_hour",
    "cost_per_km",
}
VISIT_FIELDS = {
    "id",
    "location",
    "service",
    "time_windows",
    "required",
    "penalty",
    "skills",
    "demand",
    "reps",
    "locked_rep",
    "locked_position",
    "value",
}


def _rep(raw: Any, where: str) -> Rep:
    obj = _object(raw, where)
    _known(obj, REP_FIELDS, where)
    for required in ("id", "start", "shift"):
        if required not in obj:
            raise ProblemFileError(f"{where}: {required} is required")
    shift = _list(obj["shift"], f"{where}.shift")
    breaks = [
        Break(
            window=tuple(
                _number(x, f"{where}.breaks[{k}].window")
                for x in _list(_object(b, f"{where}.breaks[{k}]").get("window"), f"{where}.breaks[{k}].window")
            ),  # type: ignore[arg-type]
            duration=_number(_object(b, f"{where}.breaks[{k}]").get("duration"), f"{where}.breaks[{k}].duration"),
        )
        for k, b in enumerate(_list(obj.get("breaks", []), f"{where}.breaks"))
    ]
    return Rep(
        id=str(obj["id"]),
        start=_index(obj["start"], f"{where}.start"),
        end=None if obj.get("end") is None else _index(obj["end"], f"{where}.end"),
        shift=tuple(_number(x, f"{where}.shift") for x in shift),  # type: ignore[arg-type]
        breaks=tuple(breaks),
        skills=frozenset(str(s) for s in _list(obj.get("skills", []), f"{where}.skills")),
        max_stops=None if obj.get("max_stops") is None else _index(obj["max_stops"], f"{where}.max_stops"),
        max_route_duration=None
        if obj.get("max_route_duration") is None
        else _number(obj["max_route_duration"], f"{where}.max_route_duration"),
        cost_per_hour=_number(obj.get("cost_per_hour", 0.0), f"{where}.cost_per_hour"),
        cost_per_km=_number(obj.get("cost_per_km", 0.0), f"{where}.cost_per_km"),
        capacity=None if obj.get("capacity") is None else _number(obj["capacity"], f"{where}.capacity"),
    )


def _visit(raw: Any, where: str) -> Visit:
    obj = _object(raw, where)
    _known(obj, VISIT_FIELDS, where)
    for required in ("id", "location"):
        if required not in obj:
            raise ProblemFileError(f"{where}: {required} is required")
    required_flag = obj.get("required", True)
    if not isinstance(required_flag, bool):
        raise ProblemFileError(f"{where}.required must be true or false")
    windows = [
        tuple(_number(x, f"{where}.time_windows[{k}]") for x in _list(w, f"{where}.time_windows[{k}]"))
        for k, w in enumerate(_list(obj.get("time_windows", []), f"{where}.time_windows"))
    ]
    allowed = obj.get("reps")
    return Visit(
        id=str(obj["id"]),
        location=_index(obj["location"], f"{where}.location"),
        service=_number(obj.get("service", 0.0), f"{where}.service"),
        time_windows=tuple(windows),  # type: ignore[arg-type]
        required=required_flag,
        penalty=_number(obj.get("penalty", 0.0), f"{where}.penalty"),
        skills=frozenset(str(s) for s in _list(obj.get("skills", []), f"{where}.skills")),
        demand=_number(obj.get("demand", 0.0), f"{where}.demand"),
        reps=None if allowed is None else frozenset(str(r) for r in _list(allowed, f"{where}.reps")),
        locked_rep=None if obj.get("locked_rep") is None else str(obj["locked_rep"]),
        locked_position=None
        if obj.get("locked_position") is None
        else _index(obj["locked_position"], f"{where}.locked_position"),
        value=_number(obj.get("value", 0.0), f"{where}.value"),
    )


def problem_from_json(data: Any) -> Problem:
    root = _object(data, "the problem")
    _known(root, {"locations", "matrix", "travel", "osrm", "reps", "visits", "name"}, "the problem")
    try:
        travel = _travel(root)
        reps = [_rep(r, f"reps[{i}]") for i, r in enumerate(_list(root.get("reps", []), "reps"))]
        visits = [_visit(v, f"visits[{i}]") for i, v in enumerate(_list(root.get("visits", []), "visits"))]
        return Problem(reps=tuple(reps), visits=tuple(visits), travel=travel, name=str(root.get("name", "problem")))
    except ProblemFileError:
        raise
    except ValueError as exc:  # a constructor's sentence
        raise ProblemFileError(str(exc)) from exc


def read_problem(path: Path | str) -> Problem:
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ProblemFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    return problem_from_json(data)


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The problem as a file; travel always as an explicit matrix (exact round trip)."""
    travel = problem.travel
    out: dict[str, Any] = {
        "name": problem.name,
        "matrix": {"durations": travel.durations, "distances": travel.distances},
        "reps": [],
        "visits": [],
    }
    for rep in problem.reps:
        entry: dict[str, Any] = {"id": rep.id, "start": rep.start, "end": rep.end, "shift": list(rep.shift)}
        if rep.breaks:
            entry["breaks"] = [{"window": list(b.window), "duration": b.duration} for b in rep.breaks]
        if rep.skills:
            entry["skills"] = sorted(rep.skills)
        for name in ("max_stops", "capacity", "max_route_duration"):
            if getattr(rep, name) is not None:
                entry[name] = getattr(rep, name)
        for name in ("cost_per_hour", "cost_per_km"):
            if getattr(rep, name):
                entry[name] = getattr(rep, name)
        out["reps"].append(entry)
    for visit in problem.visits:
        item: dict[str, Any] = {
            "id": visit.id,
            "location": visit.location,
            "service": visit.service,
            "time_windows": [list(w) for w in visit.time_windows],
            "required": visit.required,
        }
        if not visit.required:
            item["penalty"] = visit.penalty
        if visit.skills:
            item["skills"] = sorted(visit.skills)
        if visit.demand:
            item["demand"] = visit.demand
        if visit.reps is not None:
            item["reps"] = sorted(visit.reps)
        if visit.locked_rep is not None:
            item["locked_rep"] = visit.locked_rep
        if visit.locked_position is not None:
            item["locked_position"] = visit.locked_position
        if visit.value:
            item["value"] = visit.value
        out["visits"].append(item)
    return out
