"""Parallel searches swapping their best routes, in real forked processes."""

from __future__ import annotations

import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import pytest

from routing._exchange import BestExchange
from routing._ortools import SolverOutput
from routing.bench import DEFAULT_DATA
from routing.solomon import read_solomon
from routing.solve import RUIN_AND_RECREATE, solve

CONTEXT = multiprocessing.get_context("fork")


def _swap_and_report(exchange: BestExchange, routes: list[list[int]], cost: float, pipe: Connection) -> None:
    pipe.send(exchange.swap(routes, cost, timeout=10.0))


def test_the_worse_search_carries_on_from_the_better_ones_routes() -> None:
    exchange = BestExchange(CONTEXT, 2, capacity=16)
    better = ([[3, 1, 2], [], [4]], 100.0)
    worse = ([[1, 2], [3, 4], []], 130.0)
    results = []
    for routes, cost in (worse, better):
        receiver, sender = CONTEXT.Pipe(duplex=False)
        process = CONTEXT.Process(target=_swap_and_report, args=(exchange, routes, cost, sender))
        process.start()
        results.append((process, receiver))
    received = [receiver.recv() for _, receiver in results]
    for process, _ in results:
        process.join(10)
    assert received[0] == better, "the worse search gets the better routes and their cost"
    assert received[1] is None, "the better search keeps its own"


def test_a_search_waits_no_longer_than_its_timeout_for_the_others() -> None:
    exchange = BestExchange(CONTEXT, 2, capacity=8)
    began = time.perf_counter()
    assert exchange.swap([[1, 2]], 10.0, timeout=0.2) is None
    assert time.perf_counter() - began < 2.0
    # the barrier is broken from then on: a late search does not wait at all
    began = time.perf_counter()
    assert exchange.swap([[2, 1]], 12.0, timeout=5.0) is None
    assert time.perf_counter() - began < 1.0


@pytest.mark.skipif(not (DEFAULT_DATA / "solomon" / "R105.txt").exists(), reason="needs ../shared/data/vrptw")
def test_two_ruin_and_recreate_searches_meet_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """On two cores both searches reach the exchange; at most one carries on from the other's best.
    Below EXCHANGE_MIN_SECONDS they run apart."""
    problem = read_solomon(DEFAULT_DATA / "solomon" / "R105.txt")
    solve_module = sys.modules["routing.solve"]  # `routing.solve` the attribute is the function
    outputs: list[SolverOutput | None] = []
    original = solve_module.evaluate_plans

    def recording(*args: Any, **kwargs: Any) -> Any:
        outputs.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(solve_module, "evaluate_plans", recording)
    pair = [RUIN_AND_RECREATE, RUIN_AND_RECREATE]
    result = solve(problem, time_limit=solve_module.EXCHANGE_MIN_SECONDS, threads=2, configs=pair)
    assert result.is_feasible()
    notes = [" ".join(output.notes) for output in outputs if output is not None]
    assert len(notes) == 2
    assert all("best routes exchanged half way" in note for note in notes), notes
    assert sum("carried on from another search's" in note for note in notes) <= 1, notes
    # a short solve keeps its searches apart
    outputs.clear()
    solve(problem, time_limit=1.0, threads=2, configs=pair)
    assert not any("exchanged" in " ".join(output.notes) for output in outputs if output is not None)
