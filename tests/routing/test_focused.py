"""The focused model (far stretches of routes folded into single nodes) accepts exactly what the whole model accepts."""

from __future__ import annotations

import itertools
import math
import random

from routing._ortools import REQUIRED_PENALTY, _FocusedModel, _insertion_data, _Model, _read_routes
from routing._segments import compress_route
from routing.model import Problem, Rep, Visit
from routing.travel import ExplicitTravel


def windowed_problem(seed: int) -> Problem:
    rng = random.Random(seed)
    points = [(0.0, 0.0)] + [(rng.uniform(-3000, 3000), rng.uniform(-3000, 3000)) for _ in range(12)]
    distances = [[math.dist(a, b) for b in points] for a in points]
    travel = ExplicitTravel([[d / 10 for d in row] for row in distances], distances)
    reps = tuple(
        Rep(f"r{k}", start=0, end=0, shift=(8 * 3600.0, 14 * 3600.0), capacity=8.0, max_route_duration=5 * 3600.0)
        for k in range(2)
    )
    visits = []
    for i in range(1, 13):
        opens = rng.uniform(8, 12) * 3600
        windows = ((opens, opens + rng.uniform(0.5, 2.5) * 3600),) if i % 2 else ()
        visits.append(Visit(f"v{i}", i, service=900, time_windows=windows, demand=1.0))
    return Problem(reps, tuple(visits), travel)


def test_folded_routes_are_accepted_exactly_when_the_whole_routes_are() -> None:
    accepted = refused = 0
    for seed in range(6):
        problem = windowed_problem(seed)
        model = _Model(problem, finalize=False)
        data = _insertion_data(model)
        rng = random.Random(seed)
        for _ in range(40):
            nodes = list(range(model.visit_count))
            rng.shuffle(nodes)
            cut = rng.randint(0, len(nodes))
            routes = [nodes[:cut], nodes[cut:]]
            whole = _read_routes(model, routes)
            changed = [[rng.random() < 0.2 for _ in route] for route in routes]
            try:
                folded = [
                    compress_route(data, route, flags, radius=1) for route, flags in zip(routes, changed, strict=True)
                ]
            except ValueError:
                assert whole is None, "a stretch refused as impossible must be impossible in the whole model"
                refused += 1
                continue
            penalty = [REQUIRED_PENALTY] * len(problem.visits)
            focused = _FocusedModel(model, data, [0, 1], folded, [], penalty)
            sub = _read_routes(focused, focused.routes)
            assert (sub is None) == (whole is None), routes
            assert [focused.expand(route) for route in focused.routes] == routes
            if whole is None:
                refused += 1
                continue
            accepted += 1
            internal = sum(data.cost[a][b] for members in focused.members for a, b in itertools.pairwise(members))
            assert whole.ObjectiveValue() > 0
            assert sub.ObjectiveValue() + internal == whole.ObjectiveValue()
    # both outcomes were exercised
    assert accepted >= 10 and refused >= 10, (accepted, refused)
