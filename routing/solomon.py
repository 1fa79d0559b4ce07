"""Solomon / Gehring-Homberger VRPTW instances -> `Problem`.

Conventions of the literature: Euclidean distances (unrounded), travel time
equals distance, the due date bounds the start of service, the whole fleet of
identical vehicles is available, and the objective is total distance.
"""

from __future__ import annotations

import math
from pathlib import Path

from routing.model import Problem, Rep, Visit
from routing.travel import ExplicitTravel

__all__ = ["read_solomon"]


def read_solomon(path: Path | str) -> Problem:
    lines = Path(path).read_text().splitlines()
    name = lines[0].strip()
    vehicles = capacity = None
    nodes: list[tuple[float, ...]] = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts) and vehicles is None:
            vehicles, capacity = int(parts[0]), int(parts[1])
        elif len(parts) == 7 and parts[0].isdigit():
            nodes.append(tuple(float(p) for p in parts))
    if vehicles is None or capacity is None or not nodes:
        raise ValueError(f"{path}: not a Solomon-format instance (no fleet block or no customers)")
    coordinates = [(node[1], node[2]) for node in nodes]
    matrix = [[math.dist(a, b) for b in coordinates] for a in coordinates]
    depot = nodes[0]
    horizon = (depot[4], depot[5])
    reps = tuple(Rep(id=f"v{k + 1}", start=0, end=0, shift=horizon, capacity=float(capacity)) for k in range(vehicles))
    visits = tuple(
        Visit(
            id=str(int(node[0])),
            location=index,
            service=node[6],
            time_windows=((node[4], node[5]),),
            demand=node[3],
        )
        for index, node in enumerate(nodes)
        if index > 0
    )
    return Problem(reps=reps, visits=visits, travel=ExplicitTravel(matrix), name=name)
