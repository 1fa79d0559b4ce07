"""The iterated ruin-and-recreate search, driven from Python over OR-Tools' model.

Each iteration ruins part of the current routes (SISR strings, `routing._sisr`),
recreates them greedily, lets OR-Tools descend from the result and accepts the
candidate by simulated annealing. Without money costs the cost of a candidate
is computed here exactly as OR-Tools would, so the descent only needs the
routes the recreate changed, folded around the change (`routing._focused`).
`solve_once` is the entry point: one search with one config.
"""

from __future__ import annotations

import itertools
import math
import random
import time

from ortools.constraint_solver import pywrapcp

from routing._exchange import EXCHANGE_AT, BestExchange
from routing._focused import FocusedModel
from routing._ortools import (
    REQUIRED_PENALTY,
    SCALE,
    STATUS_NAMES,
    OrToolsModel,
    SolverOutput,
    assignment_of_routes,
    descent_parameters,
    finalized_output,
    restore_parameters,
    solution_routes,
    solve_with_metaheuristic,
)
from routing._segments import break_gaps, changed_positions, compress_route
from routing._sisr import UNBOUNDED, InsertionData, ScheduleCache, recreate, ruin
from routing.model import Problem
from routing.search_config import SearchConfig


def solve_once(
    problem: Problem, config: SearchConfig, time_limit: float, exchange: BestExchange | None = None
) -> SolverOutput:
    """One search; a ruin-and-recreate search shares its best routes through `exchange` half way."""
    if config.ruin_recreate:
        return iterated_ruin_recreate(problem, config, time_limit, exchange)
    return solve_with_metaheuristic(problem, config, time_limit)


def insertion_data(model: OrToolsModel) -> InsertionData:
    problem = model.problem
    reps = problem.reps
    visit_nodes = range(model.visit_count)
    allowed_by_visit = [frozenset(problem.allowed_reps(visit)) for visit in problem.visits]
    costs = model.distance_matrix
    windows = [model.node_window[node] if node < model.visit_count else None for node in range(model.node_count)]
    return InsertionData(
        travel=model.time_matrix,
        cost=costs,
        window_open=[math.ceil(w[0] * SCALE) if w else 0 for w in windows],
        window_close=[math.floor(w[1] * SCALE) if w else model.horizon for w in windows],
        demand=[
            math.ceil(problem.visits[model.node_visit[node]].demand * SCALE) if node < model.visit_count else 0
            for node in range(model.node_count)
        ],
        start_node=[model.manager.IndexToNode(model.routing.Start(v)) for v in range(len(reps))],
        end_node=[model.manager.IndexToNode(model.routing.End(v)) for v in range(len(reps))],
        shift_open=[math.ceil(rep.shift[0] * SCALE) for rep in reps],
        shift_close=[math.floor(rep.shift[1] * SCALE) for rep in reps],
        capacity=[math.floor(rep.capacity * SCALE) if rep.capacity is not None else UNBOUNDED for rep in reps],
        max_stops=[rep.max_stops if rep.max_stops is not None else UNBOUNDED for rep in reps],
        copies=[model.visit_nodes[model.node_visit[node]] for node in visit_nodes],
        allowed=[allowed_by_visit[model.node_visit[node]] for node in visit_nodes],
        neighbours=[
            sorted((other for other in visit_nodes if other != node), key=costs[node].__getitem__)
            for node in visit_nodes
        ],
        pinned=frozenset(
            node for node in visit_nodes if problem.visits[model.node_visit[node]].locked_position is not None
        ),
        service=model.service_transit,
        lone_break=[breaks[0] if len(breaks) == 1 else None for breaks in model.breaks],
    )


def iterated_ruin_recreate(
    problem: Problem, config: SearchConfig, time_limit: float, exchange: BestExchange | None = None
) -> SolverOutput:
    """Iterated local search: ruin, recreate, descend, accept by simulated annealing.

    OR-Tools' own guided local search stalls well above the best known
    solutions on instances with tight windows; this loop gets about halfway
    closer in the same time (docs/benchmarks.md). Every candidate goes
    through OR-Tools' constraints.

    When the objective is distance plus penalties (no money costs), the cost
    of a candidate is computed here exactly as OR-Tools would, so the descent
    after a recreate only needs the stops near the change: a small model of the
    changed routes with their far stretches folded into single nodes
    (`FocusedModel`), a few milliseconds instead of tens. On small problems
    whose every rule the recreate checks itself (`recreate_is_exact`), a
    config may skip the descent (`SearchConfig.descents`): ten recreates cost
    about one descent.
    Every new best is checked against the whole model.
    """
    began = time.perf_counter()
    deadline = began + time_limit
    model = OrToolsModel(problem, finalize=False)
    build_seconds = time.perf_counter() - began
    notes = [f"model built in {build_seconds:.2f} s"]
    params = descent_parameters(config)
    # The first solution is the construction alone: a descent of the whole model
    # from it costs a large share of the time limit on big days, and the iterated
    # search improves a construction faster. When the construction leaves
    # required visits out (an over-full day with a break), the descent still
    # runs: its insertion moves may reorder a route to make room, which the
    # recreate cannot.
    model.routing.CloseModelWithParameters(restore_parameters(config, WHOLE_READ_SHARE * time_limit))
    construction = descent_parameters(config)
    construction.solution_limit = 1
    construction.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))
    first = model.routing.SolveWithParameters(construction)
    if first is not None and first.ObjectiveValue() >= REQUIRED_PENALTY:
        params.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))
        first = model.routing.SolveFromAssignmentWithParameters(first, params) or first
    if first is None:
        status = STATUS_NAMES.get(model.routing.status(), str(model.routing.status()))
        return SolverOutput([], status, None, time.perf_counter() - began, config, notes)
    # Time the finalized model needs to build and time the best routes: about the search model's build.
    search = IteratedSearch(model, config, params, began, time_limit, deadline - 1.5 * build_seconds - 0.02, exchange)
    best = search.run(solution_routes(model, first), first.ObjectiveValue())
    notes.append(search.summary())
    return finalized_output(problem, config, best, began, notes)


# Focused descents search only the routes a recreate changed, with the stops more
# than FOCUS_RADIUS positions from a change folded into fixed stretches
# (`routing._segments`). A wider radius gained nothing; occasional descents on
# the whole model cost more focused iterations than they gave back.
FOCUS_RADIUS = 2
# Restoring routes into a model (`assignment_of_routes`) is a search of its own,
# bounded only by the time limit the model was closed with. With a break it can
# run for seconds on a short route, so the search model and every focused model
# are closed with these limits; a read that runs out counts as refused.
WHOLE_READ_SHARE = 0.1  # of the time limit; a big day's read takes far less
FOCUSED_READ_SECONDS = 0.02


# Opening a route (`SearchConfig.open_route_rate`) pays where routes are long:
# there the shortest plan often has more routes than the fewest possible, and a
# search that has closed one cannot otherwise get it back. Where routes are
# short the windows decide how many are needed, and opening only costs
# iterations. So the rate rises from nothing at OPEN_ROUTE_FROM stops per used
# route to the config's at OPEN_ROUTE_FULL.
OPEN_ROUTE_FROM = 10
OPEN_ROUTE_FULL = 20


def open_route_rate_for(config: SearchConfig, routes: list[list[int]]) -> float:
    used = [len(route) for route in routes if route]
    if not used or not config.open_route_rate:
        return config.open_route_rate
    mean_length = sum(used) / len(used)
    share = (mean_length - OPEN_ROUTE_FROM) / (OPEN_ROUTE_FULL - OPEN_ROUTE_FROM)
    return config.open_route_rate * min(1.0, max(0.0, share))


def recreate_is_exact(problem: Problem) -> bool:
    """Whether the recreate's checks (`routing._sisr`) are all the rules there are,
    so that its routes can be taken without OR-Tools' descent (`SearchConfig.descents`).

    They are not for money costs (the cost is OR-Tools'), a maximum route
    duration, a rep with more than one break, or a visit locked to a position
    (the recreate never moves it, but may insert before it).
    """
    return (
        focused_descents_apply(problem)
        and all(rep.max_route_duration is None and len(rep.breaks) <= 1 for rep in problem.reps)
        and all(visit.locked_position is None for visit in problem.visits)
    )


def focused_descents_apply(problem: Problem) -> bool:
    """Whether the iterated search can descend on focused models (`FocusedModel`).

    That needs a cost computed here that equals OR-Tools' objective: no money
    costs, whose time part depends on the schedule. Breaks are fine: the stops
    around every gap where a break could fall stay free (`break_gaps`).
    """
    return not problem.uses_costs


class IteratedSearch:
    """State of one iterated ruin-and-recreate search on a search model."""

    def __init__(
        self,
        model: OrToolsModel,
        config: SearchConfig,
        params: pywrapcp.RoutingSearchParameters,
        began: float,
        time_limit: float,
        search_until: float,
        exchange: BestExchange | None = None,
    ) -> None:
        self.model = model
        self.problem = model.problem
        self.config = config
        self.params = params
        self.began = began
        self.time_limit = time_limit
        self.search_until = search_until
        self.exchange = exchange
        self.exchanged = ""  # what the exchange did, for the summary
        self.data = insertion_data(model)
        self.schedules = ScheduleCache(self.data)
        self.rng = random.Random(config.random_seed)
        self.focused = focused_descents_apply(self.problem)
        self.recreate_only = not config.descents and recreate_is_exact(self.problem)
        self.penalty = [
            REQUIRED_PENALTY if visit.required else max(0, round(visit.penalty * SCALE))
            for visit in self.problem.visits
        ]
        self.iterations = self.accepted = self.refused = self.full_descents = 0
        # Focused models are closed with OR-Tools' default parameters, on purpose.
        # OR-Tools builds a model's local search operators when it is closed, from
        # the parameters given then: later solves cannot change them. Focused
        # models are small (about 15 nodes), so the default operators' extra cost
        # is small, and they pay: both leaner operator sets planned worse.
        self.focused_read = pywrapcp.DefaultRoutingSearchParameters()
        self.focused_read.time_limit.FromMilliseconds(max(1, int(FOCUSED_READ_SECONDS * 1000)))

    def summary(self) -> str:
        if self.recreate_only:
            mode = "recreates only"
        else:
            mode = "focused descents" if self.focused else "whole-model descents"
        return (
            f"ruin and recreate ({mode}): {self.iterations} iterations, {self.accepted} accepted, "
            f"{self.refused} recreates refused, {self.full_descents} whole-model descents"
            + (f", best routes exchanged half way ({self.exchanged})" if self.exchanged else "")
        )

    def run(self, current: list[list[int]], current_cost: float) -> list[list[int]]:
        model, data, rng, config = self.model, self.data, self.rng, self.config
        if self.focused:
            current_cost = self.cost(current)
        best, best_cost = current, current_cost
        arcs = sum(len(route) + 1 for route in current if route)
        mean_arc = sum(route_cost(data, v, route) for v, route in enumerate(current)) / max(1, arcs)
        start_temperature = config.start_temperature * mean_arc
        unserved = self.unserved(current)
        exchange_at = self.began + EXCHANGE_AT * self.time_limit
        while (now := time.perf_counter()) < self.search_until:
            if self.exchange is not None and now >= exchange_at:
                # Wait at most a twentieth of the time limit (and a second) for the other searches.
                shared = self.exchange.swap(best, best_cost, timeout=min(1.0, 0.05 * self.time_limit))
                self.exchange = None
                if shared is not None and shared[1] >= REQUIRED_PENALTY:
                    # Even the better routes leave a required visit out: two searches
                    # still looking for a full plan find one more often than two that
                    # carry on from the same routes.
                    shared = None
                self.exchanged = "kept its own" if shared is None else "carried on from another search's"
                if shared is not None:
                    best, best_cost = shared
                    current, current_cost = [list(route) for route in best], best_cost
                    unserved = self.unserved(current)
                continue
            ruined, removed = ruin(
                data,
                current,
                rng,
                average_removed=config.average_removed,
                max_string=config.max_string,
                split_rate=config.split_rate,
                whole_route=bool(config.route_removal_rate) and rng.random() < config.route_removal_rate,
            )
            if not removed:
                break  # nothing can move: every visit is pinned or none is served
            self.iterations += 1
            # Visits the current routes leave out get another chance at every
            # recreate (as in SISR): a focused descent sees only the visits it is given.
            handed = removed + unserved
            open_rate = open_route_rate_for(config, current)
            open_route = bool(open_rate) and rng.random() < open_rate
            rebuilt, left_out = recreate(data, ruined, handed, rng, cache=self.schedules, open_route=open_route)
            outcome: tuple[list[list[int]], float] | None
            if self.recreate_only:
                outcome = (rebuilt, self.cost(rebuilt))
            elif self.focused:
                outcome = self.focused_descent(current, rebuilt, ruined, handed, left_out, now)
            else:
                outcome = self.whole_descent(rebuilt, ruined, now)
            if outcome is None:
                continue
            candidate, cost = outcome
            progress = min(1.0, (now - self.began) / self.time_limit)
            temperature = start_temperature * config.final_temperature_ratio**progress
            if cost < current_cost - temperature * math.log(1.0 - rng.random()):
                if cost < best_cost and self.focused and assignment_of_routes(model, candidate) is None:
                    continue  # the whole model's restore ran out of time: never keep a best it has not accepted
                self.accepted += 1
                current, current_cost = candidate, cost
                unserved = self.unserved(current)
                if cost < best_cost:
                    best, best_cost = candidate, cost
        return best

    def unserved(self, routes: list[list[int]]) -> list[int]:
        """A node (the first window's) of every visit the routes leave out, locked ones excepted."""
        node_visit, pinned = self.model.node_visit, self.data.pinned
        served = {node_visit[node] for route in routes for node in route}
        return [
            nodes[0]
            for visit, nodes in enumerate(self.model.visit_nodes)
            if visit not in served and nodes[0] not in pinned
        ]

    def cost(self, routes: list[list[int]]) -> float:
        """OR-Tools' objective without money costs: arc distances plus penalties of left-out visits."""
        data, node_visit = self.data, self.model.node_visit
        served = {node_visit[node] for route in routes for node in route}
        arcs = sum(route_cost(data, v, route) for v, route in enumerate(routes))
        return arcs + sum(p for index, p in enumerate(self.penalty) if index not in served)

    def whole_descent(
        self, rebuilt: list[list[int]], ruined: list[list[int]], now: float
    ) -> tuple[list[list[int]], float] | None:
        model, params = self.model, self.params
        assignment = assignment_of_routes(model, rebuilt)
        if assignment is None:
            # A break or a route duration limit the recreate cannot see: let the
            # descent's insertion moves put the removed visits back instead.
            self.refused += 1
            assignment = assignment_of_routes(model, ruined)
            if assignment is None:
                return None
        params.time_limit.FromMilliseconds(max(1, int((self.search_until - now) * 1000)))
        solution = model.routing.SolveFromAssignmentWithParameters(assignment, params)
        if solution is None:
            return None
        self.full_descents += 1
        return solution_routes(model, solution), solution.ObjectiveValue()

    def focused_descent(
        self,
        current: list[list[int]],
        rebuilt: list[list[int]],
        ruined: list[list[int]],
        handed: list[int],
        left_out: list[int],
        now: float,
    ) -> tuple[list[list[int]], float] | None:
        """Descend on the changed routes, their stretches far from the change folded into single nodes.

        The routes' cost is computed here; a sub-model accepts only routes the
        whole model accepts (every constraint is per route and a stretch keeps
        its stops' times), and every new best is checked against it anyway.
        When it refuses the recreate's routes (a break or a route duration
        limit the recreate cannot see), the descent starts from the ruined
        routes instead, with the visits handed to the recreate free to be
        inserted by its moves: far cheaper than a whole-model descent.
        """
        touched = [v for v in range(len(rebuilt)) if rebuilt[v] != current[v] or ruined[v] != current[v]]
        if not touched:
            return None
        start = rebuilt
        sub_model = self.focused_model(current, start, touched, left_out)
        assignment = assignment_of_routes(sub_model, sub_model.routes)
        if assignment is None:
            self.refused += 1
            start = ruined
            sub_model = self.focused_model(current, start, touched, handed)
            assignment = assignment_of_routes(sub_model, sub_model.routes)
            if assignment is None:
                return None  # the restore ran out of time (see FOCUSED_READ_SECONDS)
        self.params.time_limit.FromMilliseconds(max(1, int((self.search_until - now) * 1000)))
        solution = sub_model.routing.SolveFromAssignmentWithParameters(assignment, self.params)
        if solution is None:
            return None
        candidate = [list(route) for route in start]
        for position, route in enumerate(solution_routes(sub_model, solution)):
            candidate[touched[position]] = sub_model.expand(route)
        return candidate, self.cost(candidate)

    def focused_model(
        self, current: list[list[int]], routes: list[list[int]], touched: list[int], loose: list[int]
    ) -> FocusedModel:
        """The focused model of the `touched` routes, folded around what changed since `current`."""
        data, breaks = self.data, self.model.breaks
        compressed = [
            compress_route(
                data,
                routes[v],
                changed_positions(data, v, current[v], routes[v]),
                FOCUS_RADIUS,
                kept_free=break_gaps(self.schedules, v, routes[v], breaks[v]),
            )
            for v in touched
        ]
        return FocusedModel(self.model, data, touched, compressed, loose, self.penalty, close_with=self.focused_read)


def route_cost(data: InsertionData, vehicle: int, route: list[int]) -> int:
    if not route:
        return 0
    nodes = [data.start_node[vehicle], *route, data.end_node[vehicle]]
    return sum(data.cost[a][b] for a, b in itertools.pairwise(nodes))
