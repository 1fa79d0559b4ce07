"""How a search runs: the public, documented configuration of one search.

`solve(problem, configs=[...])` runs one search per config (the k-th on the
k-th core, with seed + k); `routing.solve.DEFAULT_CONFIGS` and its siblings are
the measured defaults. `python -m routing.bench --config` builds one from text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SearchConfig"]


@dataclass(frozen=True)
class SearchConfig:
    """One way of searching; restarts on other cores use other configs or seeds.

    With `ruin_recreate`, the search is an iterated local search driven from
    Python (`iterated_ruin_recreate`): SISR ruin and greedy recreate
    (`routing._sisr`), then OR-Tools' greedy descent, with simulated-annealing
    acceptance. Otherwise OR-Tools runs `metaheuristic` on its own.
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    guided_lambda: float = 0.1
    ruin_recreate: bool = False
    # SISR ruin: about this many visits removed, in strings of at most max_string
    average_removed: float = 10.0
    max_string: int = 10
    # share of strings split as in SISR (a few stops in the middle stay)
    split_rate: float = 0.0
    # share of recreates that start a route on an unused vehicle (`routing._sisr.recreate`)
    open_route_rate: float = 0.0
    # share of ruins that remove a whole route (`routing._sisr.ruin`)
    route_removal_rate: float = 0.0
    # annealing: the start temperature as a share of the first solution's mean arc
    # cost, falling geometrically to final_temperature_ratio of it at the time limit
    start_temperature: float = 1.0
    final_temperature_ratio: float = 0.01
    random_seed: int = 0
    # False: the recreate's routes are the candidates, without OR-Tools' descent,
    # where the recreate checks every rule itself (`recreate_is_exact`)
    descents: bool = True

    @property
    def label(self) -> str:
        if self.ruin_recreate:
            return f"{self.first_solution}/RUIN_AND_RECREATE"
        return f"{self.first_solution}/{self.metaheuristic}"
