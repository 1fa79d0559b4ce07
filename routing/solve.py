"""`solve(problem, time_limit=..., seed=..., threads=...) -> Result`."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing.context import BaseContext

from routing._exchange import BestExchange
from routing._ortools import SolverOutput
from routing._search import focused_descents_apply, recreate_is_exact, solve_once
from routing.evaluate import RoutePlan, evaluate, penalty_of_missing
from routing.model import Problem, Visit
from routing.result import Result, SolverStats, Unassigned, UnassignedReason
from routing.search_config import SearchConfig

__all__ = [
    "DEFAULT_CONFIGS",
    "FOCUSED_CONFIGS",
    "RECREATE_ONLY",
    "RUIN_AND_RECREATE",
    "SMALL_CONFIGS",
    "SearchConfig",
    "default_configs",
    "evaluate_plans",
    "solve",
]

# Searches tried in this order; the k-th parallel search takes the k-th, with
# the seed plus k as its random seed. All chosen by measurement (the figures are
# in docs/benchmarks.md, "Why the optimizer is set as it is").
# The iterated ruin-and-recreate search closes much of OR-Tools' guided local
# search's gap on the classes with tight windows. Where its descents cannot be
# focused (money costs; see FOCUSED_CONFIGS) guided local search stays better on
# long routes with wide windows, so the second core runs it (lambda 2.0, better
# than OR-Tools' default 0.1) and the better of the two results wins.
# Strings are split as in SISR half of the time, and a lone route gives several
# (`routing._sisr.ruin`): both helped, on the literature and on a rep's day.
# A fifth of the recreates open a route where routes are long
# (`routing._search.open_route_rate_for`): without it the search could only ever
# close routes, and got stuck below the number of routes the best plans use.
RUIN_AND_RECREATE = SearchConfig(
    "PARALLEL_CHEAPEST_INSERTION", "GREEDY_DESCENT", ruin_recreate=True, split_rate=0.5, open_route_rate=0.2
)
DEFAULT_CONFIGS: tuple[SearchConfig, ...] = (
    RUIN_AND_RECREATE,
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", guided_lambda=2.0),
    RUIN_AND_RECREATE,
    SearchConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH", guided_lambda=1.0),
)
# Where the ruin-and-recreate search can use focused descents (no money costs:
# `focused_descents_apply`; breaks included) it beats guided local search on every
# class of the literature set, long routes included, and on the 300-visit day with
# lunch breaks, so a second seed of it takes the second core.
FOCUSED_CONFIGS: tuple[SearchConfig, ...] = (
    RUIN_AND_RECREATE,
    RUIN_AND_RECREATE,
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", guided_lambda=2.0),
    SearchConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH", guided_lambda=1.0),
)
# Small problems: the recreate's routes are taken as they are, without OR-Tools'
# descent, where the recreate checks every rule itself (`recreate_is_exact`; one
# break per rep included), with a hotter start. A descent costs about ten
# recreates, so a short solve of one rep's day makes ten times the iterations
# and lands near the long solve's answer far more often. Recreates alone stay as
# good up to about 80 visits and fall behind from about 100, hence the bound.
# The second search starts hotter still: two different temperatures explore
# more than two searches at the same one.
RECREATE_ONLY_UP_TO = 50  # visits
RECREATE_ONLY = replace(RUIN_AND_RECREATE, descents=False, start_temperature=3.0)
SMALL_CONFIGS: tuple[SearchConfig, ...] = (
    RECREATE_ONLY,
    replace(RECREATE_ONLY, start_temperature=10.0),
    *FOCUSED_CONFIGS[2:],
)
# Insertion heuristics keep candidates per (visit, vehicle, position): with many
# vehicles (a week of (rep, day) pairs) they blow past the time limit and take
# gigabytes (measured: 6 GB and 3.5 min for 700 visits x 100 vehicles). Above
# this many visit-vehicle pairs, construction is arc-based instead.
LARGE_PROBLEM_PAIRS = 20_000
LARGE_CONFIGS: tuple[SearchConfig, ...] = (
    SearchConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH", guided_lambda=1.0),
    SearchConfig("PATH_MOST_CONSTRAINED_ARC", "GUIDED_LOCAL_SEARCH", guided_lambda=1.0),
)


def default_configs(problem: Problem) -> tuple[SearchConfig, ...]:
    """The searches `solve` runs, in order, when the caller names none."""
    if len(problem.visits) * len(problem.reps) > LARGE_PROBLEM_PAIRS:
        return LARGE_CONFIGS
    if len(problem.visits) <= RECREATE_ONLY_UP_TO and recreate_is_exact(problem):
        return SMALL_CONFIGS
    return FOCUSED_CONFIGS if focused_descents_apply(problem) else DEFAULT_CONFIGS


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    threads: int = 1,
    configs: Sequence[SearchConfig] | None = None,
) -> Result:
    """Route the problem within `time_limit` seconds.

    `threads` searches run in separate processes (each with its own strategy
    or random seed: `seed + k` for the k-th), and the best evaluated result
    wins. Ruin-and-recreate searches swap their best routes half way when the
    time limit is EXCHANGE_MIN_SECONDS or more (`routing._exchange`); the
    others run apart. The same seed and time limit give the same search,
    though not always the same result: searches stop on the clock.
    Feasibility and costs come from the independent evaluator.
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if threads < 1:
        raise ValueError("threads must be at least 1")
    began = time.perf_counter()
    pool = list(configs or default_configs(problem))
    # More searches than configs would only repeat the deterministic ones.
    chosen = [replace(pool[k], random_seed=seed + k) for k in range(min(threads, len(pool)))]
    if not problem.visits:
        outputs = [SolverOutput([RoutePlan(r.id, ()) for r in problem.reps], "success", 0.0, 0.0, chosen[0])]
    elif len(chosen) == 1:
        outputs = [solve_once(problem, chosen[0], time_limit)]
    else:
        # fork: workers start without re-importing OR-Tools. The problem still
        # travels to them pickled, with each submitted call.
        context = multiprocessing.get_context("fork")
        # The exchange's lock and barrier can only reach the workers by inheritance:
        # the initializer's arguments are handed over at fork, never pickled.
        exchange = _exchange_for(problem, chosen, context, time_limit)
        with ProcessPoolExecutor(
            max_workers=len(chosen), mp_context=context, initializer=_join_exchange, initargs=(exchange,)
        ) as executor:
            futures = [executor.submit(_solve_in_worker, problem, config, time_limit) for config in chosen]
            outputs = [future.result() for future in futures]
    best: Result | None = None
    for output in outputs:
        result = evaluate_plans(problem, output.plans, output, began, workers=len(chosen))
        if best is None or _better(result, best):
            best = result
    assert best is not None
    return best


_worker_exchange: BestExchange | None = None


def _join_exchange(exchange: BestExchange | None) -> None:
    global _worker_exchange
    _worker_exchange = exchange


def _solve_in_worker(problem: Problem, config: SearchConfig, time_limit: float) -> SolverOutput:
    return solve_once(problem, config, time_limit, _worker_exchange)


# Below this time limit the searches run apart: in a short solve, the search
# that is behind half way has too little time left to gain from the better
# routes, and loses its own way out. The threshold itself is a choice.
EXCHANGE_MIN_SECONDS = 5.0


def _exchange_for(
    problem: Problem, chosen: list[SearchConfig], context: BaseContext, time_limit: float
) -> BestExchange | None:
    """Shared memory through which parallel ruin-and-recreate searches swap their best routes half way.

    Only when every search is one (guided local search runs inside OR-Tools
    and could neither publish nor adopt routes) and the time limit leaves
    room to gain from it (EXCHANGE_MIN_SECONDS).
    """
    if time_limit < EXCHANGE_MIN_SECONDS or not all(config.ruin_recreate for config in chosen):
        return None
    # a solution: per rep its number of stops, then one node per served visit (one window copy each)
    capacity = len(problem.reps) + len(problem.visits)
    return BestExchange(context, len(chosen), capacity)


def _better(candidate: Result, incumbent: Result) -> bool:
    def rank(result: Result) -> tuple[bool, int, float]:
        return (not result.is_feasible(), len(result.required_missing), result.cost())

    return rank(candidate) < rank(incumbent)


def evaluate_plans(
    problem: Problem, plans: list[RoutePlan], output: SolverOutput | None, began: float, workers: int = 1
) -> Result:
    evaluation = evaluate(problem, plans)
    penalty, missing = penalty_of_missing(problem, evaluation.served)
    unassigned = tuple(
        explain_unassigned(problem, visit) for visit in problem.visits if visit.id not in evaluation.served
    )
    stats = SolverStats(
        solve_seconds=time.perf_counter() - began,
        status=output.status if output else "evaluated",
        objective=output.objective if output else None,
        strategy=output.config.label if output else "given",
        workers=workers,
        notes=tuple(output.notes) if output else (),
    )
    if output is not None and not output.plans and problem.visits:
        # No solution at all: every visit is unassigned and the verdict says so.
        missing = [v.id for v in problem.visits if v.required]
    return Result(
        routes=tuple(evaluation.routes),
        unassigned=unassigned,
        stats=stats,
        violations=tuple(evaluation.violations),
        penalty=penalty,
        money_cost=evaluation.money_cost if problem.uses_costs else None,
        required_missing=tuple(missing),
    )


def explain_unassigned(problem: Problem, visit: Visit) -> Unassigned:
    """Why a visit is not on any route, checked against each rep it could go with."""
    if visit.reps is not None and not visit.reps:
        return Unassigned(visit.id, UnassignedReason.no_allowed_rep, "its list of allowed reps is empty")
    candidates = [
        rep
        for rep in problem.reps
        if (visit.reps is None or rep.id in visit.reps) and (visit.locked_rep in (None, rep.id))
    ]
    if not candidates:
        return Unassigned(visit.id, UnassignedReason.no_allowed_rep, "no rep is both allowed and the locked one")
    skilled = [rep for rep in candidates if visit.skills <= rep.skills]
    if not skilled:
        needed = ", ".join(sorted(visit.skills))
        return Unassigned(visit.id, UnassignedReason.skills, f"no allowed rep has the skills {needed}")
    sized = [rep for rep in skilled if rep.capacity is None or visit.demand <= rep.capacity]
    if not sized:
        return Unassigned(visit.id, UnassignedReason.capacity, f"demand {visit.demand:g} exceeds every capacity")
    open_reps = [rep for rep in sized if rep.max_stops is None or rep.max_stops > 0]
    if not open_reps:
        return Unassigned(visit.id, UnassignedReason.max_stops, "every allowed rep has max_stops 0")
    travel = problem.travel
    window_fails = 0
    for rep in open_reps:
        ready = rep.shift[0] + travel.duration(rep.start, visit.location)
        window = next((w for w in visit.time_windows if w[1] >= ready), None) if visit.time_windows else (ready, ready)
        if window is None:
            window_fails += 1
            continue
        finish = max(ready, window[0]) + visit.service
        if rep.end is not None:
            finish += travel.duration(visit.location, rep.end)
        duration_ok = (
            rep.max_route_duration is None
            or finish - max(rep.shift[0], window[0] - travel.duration(rep.start, visit.location))
            <= rep.max_route_duration
        )
        if finish <= rep.shift[1] and duration_ok:
            break
    else:
        if window_fails == len(open_reps):
            return Unassigned(visit.id, UnassignedReason.time_window, "no rep can arrive before its windows close")
        return Unassigned(
            visit.id, UnassignedReason.shift_too_short, "no rep's shift leaves time to serve it and return"
        )
    if not visit.required:
        detour = min(
            travel.distance(rep.start, visit.location)
            + (
                travel.distance(visit.location, rep.end) - travel.distance(rep.start, rep.end)
                if rep.end is not None
                else 0
            )
            for rep in open_reps
        )
        if visit.penalty < detour:
            return Unassigned(
                visit.id,
                UnassignedReason.not_worth_penalty,
                f"penalty {visit.penalty:g} is below the cheapest detour {detour:.0f}",
            )
    return Unassigned(visit.id, UnassignedReason.no_room, "possible alone, but the routes are full")
