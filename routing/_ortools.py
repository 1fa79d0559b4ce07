"""The one place that speaks OR-Tools: index managers, matrices, dimensions, search.

Everything is scaled to integers: times and distances to milliseconds and
millimetres (`SCALE`). Travel times are rounded *up*, so a schedule OR-Tools
accepts stays feasible under the evaluator's exact arithmetic; distances are
rounded to the nearest unit (they only steer the objective).

Node layout: one node per (visit, time window) — a visit with several windows
gets a copy per window, and a disjunction performs at most one copy (removing
the gaps from a cumul domain instead makes OR-Tools store the domain as a
bitset: gigabytes for a week in milliseconds) — then one node per distinct location where a
rep's day starts or ends (vehicles share them, as OR-Tools intends: separate
copies of the depot per vehicle measurably weaken the local search), then one
virtual node that ends open routes and that every location reaches at no cost.

Two ways of searching (`SearchConfig`): OR-Tools' own metaheuristic (guided
local search), or the iterated ruin-and-recreate search driven from here
(`_iterated_ruin_recreate`), whose ruin and recreate steps live in
`routing._sisr` and never touch OR-Tools objects.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from routing._exchange import EXCHANGE_AT, BestExchange
from routing._segments import Segment, break_gaps, changed_positions, compress_route
from routing._sisr import UNBOUNDED, InsertionData, ScheduleCache, recreate, ruin
from routing.evaluate import RoutePlan
from routing.model import Problem

SCALE = 1000
# Money objective: cost units per currency unit, chosen so that a cost per hour
# becomes an integer coefficient per millisecond for whole cents.
MONEY_SCALE = 360_000_000
REQUIRED_PENALTY = 10**13

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic
_ON, _OFF = optional_boolean_pb2.BOOL_TRUE, optional_boolean_pb2.BOOL_FALSE


@dataclass(frozen=True)
class SearchConfig:
    """One way of searching; restarts on other cores use other configs or seeds.

    With `ruin_recreate`, the search is an iterated local search driven from
    Python (`_iterated_ruin_recreate`): SISR ruin and greedy recreate
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


@dataclass
class SolverOutput:
    plans: list[RoutePlan]
    status: str
    objective: float | None
    seconds: float
    config: SearchConfig
    notes: list[str] = field(default_factory=list)


class _Model:
    """OR-Tools model of a Problem."""

    def __init__(self, problem: Problem, *, finalize: bool = True) -> None:
        """`finalize=False` leaves out the finalizers that place the start and end
        times: every accepted move then costs a third less, which the iterated
        search needs; the routes it finds are timed on a finalized model."""
        self.problem = problem
        self.finalize = finalize
        visits, reps = problem.visits, problem.reps
        # node -> (visit index, its time window or None)
        self.node_visit: list[int] = []
        self.node_window: list[tuple[float, float] | None] = []
        # visit index -> its nodes, one per time window
        self.visit_nodes: list[list[int]] = []
        for index, visit in enumerate(visits):
            self.visit_nodes.append([])
            for window in visit.time_windows or (None,):
                self.visit_nodes[index].append(len(self.node_visit))
                self.node_visit.append(index)
                self.node_window.append(window)
        self.visit_count = len(self.node_visit)  # visit nodes, copies included
        self.node_location: list[int | None] = [visits[v].location for v in self.node_visit]
        self.node_service: list[float] = [visits[v].service for v in self.node_visit]
        depot_nodes: dict[int | None, int] = {}

        def depot(location: int | None) -> int:
            if location not in depot_nodes:
                depot_nodes[location] = len(self.node_location)
                self.node_location.append(location)
                self.node_service.append(0.0)
            return depot_nodes[location]

        starts = [depot(rep.start) for rep in reps]
        ends = [depot(rep.end) for rep in reps]
        self.node_count = len(self.node_location)
        self.manager = pywrapcp.RoutingIndexManager(self.node_count, len(reps), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.solver = self.routing.solver()
        self.uses_costs = problem.uses_costs
        self._matrices()
        self._time_dimension()
        self._load_dimension()
        self._stops_dimension()
        self._objective()
        self._visit_rules()

    # ---- nodes ------------------------------------------------------------------

    def location_of(self, node: int) -> int | None:
        """Travel-matrix location of a node; None for the open routes' virtual end."""
        return self.node_location[node]

    def service_of(self, node: int) -> float:
        return self.node_service[node]

    def _matrices(self) -> None:
        travel = self.problem.travel
        locations = self.node_location
        services = self.node_service
        durations = travel.durations
        distances = travel.distances
        ceil = math.ceil
        time_rows: list[list[int]] = []
        distance_rows: list[list[int]] = []
        for origin in range(self.node_count):
            here = locations[origin]
            service = services[origin]
            if here is None:
                # Nothing leaves an open route's end.
                time_rows.append([0] * self.node_count)
                distance_rows.append([0] * self.node_count)
                continue
            duration_row = durations[here]
            distance_row = distances[here]
            time_rows.append(
                [
                    ceil((service + duration_row[there]) * SCALE - 1e-6) if there is not None else ceil(service * SCALE)
                    for there in locations
                ]
            )
            distance_rows.append(
                [round(distance_row[there] * SCALE) if there is not None else 0 for there in locations]
            )
        self.time_matrix = time_rows
        self.distance_matrix = distance_rows
        self.time_callback = self.routing.RegisterTransitMatrix(time_rows)
        self.distance_callback = self.routing.RegisterTransitMatrix(distance_rows)

    # ---- dimensions -----------------------------------------------------------------

    def _time_dimension(self) -> None:
        problem = self.problem
        horizon = math.ceil(max(rep.shift[1] for rep in problem.reps) * SCALE)
        latest_window = max((v.latest_start() for v in problem.visits if v.time_windows), default=0)
        horizon = max(horizon, math.ceil(latest_window * SCALE))
        self.horizon = horizon
        self.routing.AddDimension(self.time_callback, horizon, horizon, False, "time")
        self.time = self.routing.GetDimensionOrDie("time")
        for node, window in enumerate(self.node_window):
            if window is not None:
                cumul = self.time.CumulVar(self.manager.NodeToIndex(node))
                cumul.SetRange(math.ceil(window[0] * SCALE), math.floor(window[1] * SCALE))
        # The part of each node's transit that is service: a break cannot interrupt it.
        self.service_transit = [math.ceil(service * SCALE) for service in self.node_service]
        # per vehicle: its breaks as (earliest start, latest start, duration)
        self.breaks = [
            [
                (math.ceil(brk.window[0] * SCALE), math.floor(brk.window[1] * SCALE), math.ceil(brk.duration * SCALE))
                for brk in rep.breaks
            ]
            for rep in problem.reps
        ]
        for vehicle, rep in enumerate(problem.reps):
            start, end = self.routing.Start(vehicle), self.routing.End(vehicle)
            low, high = math.ceil(rep.shift[0] * SCALE), math.floor(rep.shift[1] * SCALE)
            if (low, high) != (0, horizon):  # redundant bounds still perturb the search
                self.time.CumulVar(start).SetRange(low, high)
                self.time.CumulVar(end).SetRange(low, high)
            if rep.max_route_duration is not None:
                _limit_span(self.routing, self.time, vehicle, math.floor(rep.max_route_duration * SCALE))
            _add_breaks(self.manager, self.time, vehicle, rep.id, self.breaks[vehicle], self.service_transit)
        if not self.finalize:
            return
        for vehicle in range(len(problem.reps)):
            # Finalizers run in the order added: first finish as early as possible,
            # then leave as late as that still allows (no idle wait before the first stop).
            self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(self.routing.End(vehicle)))
        for vehicle in range(len(problem.reps)):
            self.routing.AddVariableMaximizedByFinalizer(self.time.CumulVar(self.routing.Start(vehicle)))

    def _load_dimension(self) -> None:
        problem = self.problem
        if not any(v.demand for v in problem.visits) and all(r.capacity is None for r in problem.reps):
            self.load = None
            return
        demands = [
            math.ceil(problem.visits[self.node_visit[node]].demand * SCALE) if node < self.visit_count else 0
            for node in range(self.node_count)
        ]
        callback = self.routing.RegisterUnaryTransitVector(demands)
        unlimited = max(1, sum(demands))
        capacities = [
            math.floor(rep.capacity * SCALE) if rep.capacity is not None else unlimited for rep in problem.reps
        ]
        self.routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "load")
        self.load = self.routing.GetDimensionOrDie("load")

    def _stops_dimension(self) -> None:
        problem = self.problem
        needs = any(r.max_stops is not None for r in problem.reps) or any(
            v.locked_position is not None for v in problem.visits
        )
        if not needs:
            self.stops = None
            return
        ones = [1 if node < self.visit_count else 0 for node in range(self.node_count)]
        callback = self.routing.RegisterUnaryTransitVector(ones)
        limits = [r.max_stops if r.max_stops is not None else len(problem.visits) for r in problem.reps]
        self.routing.AddDimensionWithVehicleCapacity(callback, 0, limits, True, "stops")
        self.stops = self.routing.GetDimensionOrDie("stops")

    # ---- objective and per-visit rules ---------------------------------------------------

    def _objective(self) -> None:
        if not self.uses_costs:
            self.routing.SetArcCostEvaluatorOfAllVehicles(self.distance_callback)
            self.penalty_scale = SCALE
            return
        self.penalty_scale = MONEY_SCALE
        for vehicle, rep in enumerate(self.problem.reps):
            # cost per km over distances in millimetres, in MONEY_SCALE units
            per_mm = rep.cost_per_km * MONEY_SCALE / 1_000_000 / SCALE
            if per_mm:
                rows = [[round(d * per_mm) for d in row] for row in self.distance_matrix]
                self.routing.SetArcCostEvaluatorOfVehicle(self.routing.RegisterTransitMatrix(rows), vehicle)
            per_ms = rep.cost_per_hour * MONEY_SCALE / 3600 / SCALE
            if per_ms:
                self.time.SetSpanCostCoefficientForVehicle(max(1, round(per_ms)), vehicle)

    def _visit_rules(self) -> None:
        problem = self.problem
        all_vehicles = list(range(len(problem.reps)))
        copies: dict[int, list[int]] = {}
        for node, visit_index in enumerate(self.node_visit):
            copies.setdefault(visit_index, []).append(self.manager.NodeToIndex(node))
        for visit_index, indices in copies.items():
            visit = problem.visits[visit_index]
            allowed = problem.allowed_reps(visit)
            penalty = REQUIRED_PENALTY if visit.required else max(0, round(visit.penalty * self.penalty_scale))
            # At most one copy (one time window) is performed; none costs the penalty.
            self.routing.AddDisjunction(indices, penalty, 1)
            for index in indices:
                if not allowed:
                    self.routing.ActiveVar(index).SetValue(0)
                    continue
                if allowed != all_vehicles:
                    # SetAllowedVehiclesForIndex takes an absl::Span that this build's Python
                    # wrapper cannot pass; constraining the vehicle variable is equivalent
                    # (-1 = unperformed, which the disjunction allows).
                    self.routing.VehicleVar(index).SetValues([-1, *allowed])
                if visit.locked_position is not None and self.stops is not None:
                    # stops cumul at a node = number of visits before it
                    self.stops.CumulVar(index).SetValue(visit.locked_position)

    # ---- solving --------------------------------------------------------------------------

    def parameters(self, config: SearchConfig, time_limit: float) -> pywrapcp.RoutingSearchParameters:
        return _search_parameters(config, time_limit)

    def plans(self, solution: pywrapcp.Assignment) -> list[RoutePlan]:
        plans: list[RoutePlan] = []
        breaks_by_vehicle: dict[int, list[tuple[float, float]]] = {}
        intervals = solution.IntervalVarContainer()
        for i in range(intervals.Size()):
            element = intervals.Element(i)
            name = element.Var().Name()
            if not name.startswith("break ") or not element.PerformedValue():
                continue
            rep_id = name[len("break ") : name.rindex(" ")]
            vehicle = self.problem.rep_index[rep_id]
            breaks_by_vehicle.setdefault(vehicle, []).append(
                (element.StartValue() / SCALE, element.DurationValue() / SCALE)
            )
        for vehicle, rep in enumerate(self.problem.reps):
            index = self.routing.Start(vehicle)
            depart = solution.Value(self.time.CumulVar(index)) / SCALE
            visits: list[str] = []
            starts: list[float] = []
            index = solution.Value(self.routing.NextVar(index))
            while not self.routing.IsEnd(index):
                node = self.manager.IndexToNode(index)
                visits.append(self.problem.visits[self.node_visit[node]].id)
                starts.append(solution.Value(self.time.CumulVar(index)) / SCALE)
                index = solution.Value(self.routing.NextVar(index))
            end_time = solution.Value(self.time.CumulVar(index)) / SCALE
            legs = tuple(
                _break_leg(start, duration, depart, starts, end_time, visits, self.problem, rep.id)
                for start, duration in sorted(breaks_by_vehicle.get(vehicle, []))
            )
            plans.append(RoutePlan(rep.id, tuple(visits), depart_at=depart, break_legs=legs))
        return plans


def _limit_span(
    routing: pywrapcp.RoutingModel, time_dimension: pywrapcp.RoutingDimension, vehicle: int, limit: int
) -> None:
    """The vehicle's route lasts at most `limit` (end time minus start time).

    A plain constraint rather than `SetSpanUpperBoundForVehicle`: with break
    intervals on the vehicle, the latter made every descent on a new model take
    0.1-0.4 s instead of ~5 ms (30 visits, 3 reps: 9 iterations in 2 s against 417).
    """
    start, end = time_dimension.CumulVar(routing.Start(vehicle)), time_dimension.CumulVar(routing.End(vehicle))
    routing.solver().Add(end - start <= limit)


def _add_breaks(
    manager: pywrapcp.RoutingIndexManager,
    time_dimension: pywrapcp.RoutingDimension,
    vehicle: int,
    rep_id: str,
    breaks: list[tuple[int, int, int]],
    service_transit: list[int],
) -> None:
    """The rep's breaks on `vehicle`, each between two services (never during one).

    `service_transit` is, per node, the part of its transit a break cannot
    interrupt. The intervals are named "break <rep id> <k>" for `_Model.plans`.
    """
    if not breaks:
        return
    solver = time_dimension.model().solver()
    intervals = [
        solver.FixedDurationIntervalVar(opens, closes, duration, False, f"break {rep_id} {k}")
        for k, (opens, closes, duration) in enumerate(breaks)
    ]
    node_visit_transits = [
        service_transit[manager.IndexToNode(index)] for index in range(time_dimension.model().Size())
    ]
    time_dimension.SetBreakIntervalsOfVehicle(intervals, vehicle, node_visit_transits)


def _search_parameters(config: SearchConfig, time_limit: float) -> pywrapcp.RoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(FIRST_SOLUTION, config.first_solution)
    params.local_search_metaheuristic = getattr(METAHEURISTIC, config.metaheuristic)
    params.guided_local_search_lambda_coefficient = config.guided_lambda
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    return params


def _break_leg(
    start: float,
    duration: float,
    depart: float,
    starts: list[float],
    end_time: float,
    visits: list[str],
    problem: Problem,
    rep_id: str,
) -> int:
    """Which leg a break falls in, from the solver's times."""
    if not visits:
        return 1  # an unused rep: after the (empty) day
    if start + duration <= depart + 1e-9:
        return -1
    for position, visit_start in enumerate(starts):
        if start + duration <= visit_start + 1e-9:
            return position
    return len(visits) if start < end_time else len(visits) + 1


def solve_once(
    problem: Problem, config: SearchConfig, time_limit: float, exchange: BestExchange | None = None
) -> SolverOutput:
    """One search; a ruin-and-recreate search shares its best routes through `exchange` half way."""
    if config.ruin_recreate:
        return _iterated_ruin_recreate(problem, config, time_limit, exchange)
    began = time.perf_counter()
    model = _Model(problem)
    build_seconds = time.perf_counter() - began
    params = model.parameters(config, max(0.05, time_limit - build_seconds))
    solution = model.routing.SolveWithParameters(params)
    status = _STATUS.get(model.routing.status(), str(model.routing.status()))
    if solution is None:
        return SolverOutput(
            [], status, None, time.perf_counter() - began, config, [f"model built in {build_seconds:.2f} s"]
        )
    return SolverOutput(
        model.plans(solution),
        status,
        float(solution.ObjectiveValue()),
        time.perf_counter() - began,
        config,
        [f"model built in {build_seconds:.2f} s"],
    )


# The descent inside the iterated search uses the moves that matter for
# routing with time windows and optional visits. OR-Tools' other default
# operators (pickup-and-delivery pairs, subtrips, the insertion LNS ones,
# Lin-Kernighan, chain moves) made each descent slower without making the
# search better (docs/benchmarks.md, 2026-12-01).
_DESCENT_OPERATORS = frozenset(
    {
        "use_relocate",
        "use_exchange",
        "use_cross",
        "use_two_opt",
        "use_or_opt",
        "use_make_active",
        "use_make_inactive",
        "use_relocate_and_make_active",
        "use_swap_active",
    }
)


def _descent_parameters(config: SearchConfig) -> pywrapcp.RoutingSearchParameters:
    params = _search_parameters(config, 1.0)
    params.local_search_metaheuristic = METAHEURISTIC.GREEDY_DESCENT
    operators = params.local_search_operators
    for operator in operators.DESCRIPTOR.fields:
        setattr(operators, operator.name, _ON if operator.name in _DESCENT_OPERATORS else _OFF)
    return params


class _HasRouting(Protocol):
    """What reading routes needs of a model: the whole one or a focused one."""

    routing: pywrapcp.RoutingModel
    manager: pywrapcp.RoutingIndexManager


def _routes(model: _HasRouting, solution: pywrapcp.Assignment) -> list[list[int]]:
    """Each vehicle's visit nodes in order."""
    routing, manager = model.routing, model.manager
    routes: list[list[int]] = []
    for vehicle in range(routing.vehicles()):
        route: list[int] = []
        index = solution.Value(routing.NextVar(routing.Start(vehicle)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _read_routes(model: _HasRouting, routes: list[list[int]]) -> pywrapcp.Assignment | None:
    """An assignment for these routes, or None when the model's constraints refuse them."""
    indices = [[model.manager.NodeToIndex(node) for node in route] for route in routes]
    return model.routing.ReadAssignmentFromRoutes(indices, True)


def _insertion_data(model: _Model) -> InsertionData:
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


def _iterated_ruin_recreate(
    problem: Problem, config: SearchConfig, time_limit: float, exchange: BestExchange | None = None
) -> SolverOutput:
    """Iterated local search: ruin, recreate, descend, accept by simulated annealing.

    OR-Tools' own guided local search stalls 3-5 % above the best known
    solutions on instances with tight windows; this loop reached about half
    that gap in the same time (docs/benchmarks.md). Every candidate goes
    through OR-Tools' constraints.

    When the objective is distance plus penalties (no money costs), the cost
    of a candidate is computed here exactly as OR-Tools would, so the descent
    after a recreate only needs the stops near the change: a small model of the
    changed routes with their far stretches folded into single nodes
    (`_FocusedModel`), a few milliseconds instead of tens. On small problems
    whose every rule the recreate checks itself (`recreate_is_exact`), a
    config may skip the descent (`SearchConfig.descents`): ten recreates cost
    about one descent.
    Every new best is checked against the whole model.
    """
    began = time.perf_counter()
    deadline = began + time_limit
    model = _Model(problem, finalize=False)
    build_seconds = time.perf_counter() - began
    notes = [f"model built in {build_seconds:.2f} s"]
    params = _descent_parameters(config)
    # The first solution is the construction alone: a descent of the whole model
    # from it took a third of a 9 s limit on 300 visits with breaks, and the
    # iterated search improves a construction faster (62 instances: 0.61 %
    # against 0.72 % mean gap; 300 visits: 167.5 km against 181.1 km). When the
    # construction leaves required visits out (an over-full day with a break),
    # the descent still runs: its insertion moves may reorder a route to make room,
    # which the recreate cannot.
    model.routing.CloseModelWithParameters(_read_parameters(config, WHOLE_READ_SHARE * time_limit))
    construction = _descent_parameters(config)
    construction.solution_limit = 1
    construction.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))
    first = model.routing.SolveWithParameters(construction)
    if first is not None and first.ObjectiveValue() >= REQUIRED_PENALTY:
        params.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))
        first = model.routing.SolveFromAssignmentWithParameters(first, params) or first
    if first is None:
        status = _STATUS.get(model.routing.status(), str(model.routing.status()))
        return SolverOutput([], status, None, time.perf_counter() - began, config, notes)
    # Time the finalized model needs to build and time the best routes: about the search model's build.
    search = _Search(model, config, params, began, time_limit, deadline - 1.5 * build_seconds - 0.02, exchange)
    best = search.run(_routes(model, first), first.ObjectiveValue())
    notes.append(search.summary())
    return _finalized(problem, config, best, began, notes)


# Focused descents search only the routes a recreate changed, with the stops more
# than FOCUS_RADIUS positions from a change folded into fixed stretches
# (`routing._segments`). Radius 2 and 3 measured alike; descents on the whole model
# every 20th candidate made the 62-instance mean worse (1.30 % against 1.12 %, one
# core): they cost ~15 focused iterations each (docs/benchmarks.md, 2026-12-01).
FOCUS_RADIUS = 2
# Restoring routes into a model (`_read_routes`) is a search of its own, bounded
# only by the time limit the model was closed with. With a break it can run for
# seconds (a 4-stop route with a lunch break: 4.4 s to accept), so the search
# model and every focused model are closed with these limits; a read that runs
# out counts as refused.
WHOLE_READ_SHARE = 0.1  # of the time limit (a read of 300 visits with breaks takes up to ~90 ms)
FOCUSED_READ_SECONDS = 0.02


def _read_parameters(config: SearchConfig, seconds: float) -> pywrapcp.RoutingSearchParameters:
    """The descent's parameters with a time limit for restoring routes (see WHOLE_READ_SHARE)."""
    params = _descent_parameters(config)
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return params


# Opening a route (`SearchConfig.open_route_rate`) pays where routes are long:
# there the shortest plan often has more routes than the fewest possible, and a
# search that has closed one cannot otherwise get it back (one search alone on
# R2_2_1, whose best known plan has 13 routes of ~15 stops: 8.9-9.0 % above it
# without opening, 1.5-4.5 % with). Where routes are short the windows decide
# how many are needed, and opening only costs iterations: at a flat rate of 0.2
# Solomon R1/RC1 (~8 stops a route) read 0.80-0.87 % and 1.34-1.56 % in two
# two-core runs, against 0.69-0.71 % and 0.98-1.02 % without (docs/benchmarks.md,
# night of 2026-12-01). The rate rises from nothing at OPEN_ROUTE_FROM stops per
# used route to the config's at OPEN_ROUTE_FULL.
OPEN_ROUTE_FROM = 10
OPEN_ROUTE_FULL = 20


def _open_route_rate(config: SearchConfig, routes: list[list[int]]) -> float:
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
    """Whether the iterated search can descend on focused models (`_FocusedModel`).

    That needs a cost computed here that equals OR-Tools' objective: no money
    costs, whose time part depends on the schedule. Breaks are fine: the stops
    around every gap where a break could fall stay free (`break_gaps`).
    """
    return not problem.uses_costs


class _Search:
    """State of one iterated ruin-and-recreate search on a search model."""

    def __init__(
        self,
        model: _Model,
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
        self.data = _insertion_data(model)
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
        # is small, and they pay: closed with the lean descent set plus
        # Lin-Kernighan and expensive-chain relocation instead, Solomon R1 and RC1
        # came out worse in all three two-core runs that tried it, and with the
        # lean set alone the 300-visit day planned 174.5-176.9 km against
        # 167.9-169.3 km (docs/benchmarks.md).
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
        mean_arc = sum(_route_cost(data, v, route) for v, route in enumerate(current)) / max(1, arcs)
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
                    # still looking for a full plan find one more often than one
                    # (a 25-stop day with a lunch break, 0.8 s: 1 seed in 8 ended
                    # with a visit left out when both carried on from the same routes).
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
            open_rate = _open_route_rate(config, current)
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
                if cost < best_cost and self.focused and _read_routes(model, candidate) is None:
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
        arcs = sum(_route_cost(data, v, route) for v, route in enumerate(routes))
        return arcs + sum(p for index, p in enumerate(self.penalty) if index not in served)

    def whole_descent(
        self, rebuilt: list[list[int]], ruined: list[list[int]], now: float
    ) -> tuple[list[list[int]], float] | None:
        model, params = self.model, self.params
        assignment = _read_routes(model, rebuilt)
        if assignment is None:
            # A break or a route duration limit the recreate cannot see: let the
            # descent's insertion moves put the removed visits back instead.
            self.refused += 1
            assignment = _read_routes(model, ruined)
            if assignment is None:
                return None
        params.time_limit.FromMilliseconds(max(1, int((self.search_until - now) * 1000)))
        solution = model.routing.SolveFromAssignmentWithParameters(assignment, params)
        if solution is None:
            return None
        self.full_descents += 1
        return _routes(model, solution), solution.ObjectiveValue()

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
        assignment = _read_routes(sub_model, sub_model.routes)
        if assignment is None:
            self.refused += 1
            start = ruined
            sub_model = self.focused_model(current, start, touched, handed)
            assignment = _read_routes(sub_model, sub_model.routes)
            if assignment is None:
                return None  # the restore ran out of time (see FOCUSED_READ_SECONDS)
        self.params.time_limit.FromMilliseconds(max(1, int((self.search_until - now) * 1000)))
        solution = sub_model.routing.SolveFromAssignmentWithParameters(assignment, self.params)
        if solution is None:
            return None
        candidate = [list(route) for route in start]
        for position, route in enumerate(_routes(sub_model, solution)):
            candidate[touched[position]] = sub_model.expand(route)
        return candidate, self.cost(candidate)

    def focused_model(
        self, current: list[list[int]], routes: list[list[int]], touched: list[int], loose: list[int]
    ) -> _FocusedModel:
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
        return _FocusedModel(self.model, data, touched, compressed, loose, self.penalty, close_with=self.focused_read)


class _FocusedModel:
    """OR-Tools model of the routes a recreate changed, far stretches folded into single nodes.

    Each item of a route is a visit node of the adapter's model, free to move,
    or a `Segment` of stops kept in order (`routing._segments`). Free visits
    bring all their window copies; `loose` visits (left out by the recreate)
    may be inserted. A rep's breaks fall between items, never inside a
    stretch, so the stops around the gaps where a break could fall are kept
    free by the caller (`break_gaps`). Only for searches without money costs
    (`_Search.focused`).
    """

    def __init__(
        self,
        model: _Model,
        data: InsertionData,
        vehicles: list[int],
        routes: list[list[int | Segment]],
        loose: list[int],
        penalty: list[int],
        *,
        close_with: pywrapcp.RoutingSearchParameters | None = None,
    ) -> None:
        """`close_with`: parameters to close the model with, whose time limit bounds `_read_routes`."""
        reps = model.problem.reps
        # sub node -> the adapter's nodes it stands for, in order
        self.members: list[tuple[int, ...]] = []
        opens: list[int | None] = []
        closes: list[int] = []
        durations: list[int] = []
        demands: list[int] = []
        segments: dict[int, Segment] = {}
        local_of_node: dict[int, int] = {}
        visit_groups: list[list[int]] = []

        def add(members: tuple[int, ...], window: tuple[int, int] | None, duration: int, demand: int) -> int:
            self.members.append(members)
            opens.append(window[0] if window else None)
            closes.append(window[1] if window else 0)
            durations.append(duration)
            demands.append(demand)
            return len(self.members) - 1

        def add_visit(node: int) -> None:
            if node in local_of_node:
                return
            group = []
            for copy in data.copies[node]:
                local_of_node[copy] = add(
                    (copy,), (data.window_open[copy], data.window_close[copy]), 0, data.demand[copy]
                )
                group.append(local_of_node[copy])
            visit_groups.append(group)

        local_routes: list[list[int]] = []
        for route in routes:
            local_route = []
            for item in route:
                if isinstance(item, Segment):
                    local = add(item.members, (item.opens, item.closes), item.duration, item.demand)
                    segments[local] = item
                else:
                    add_visit(item)
                    local = local_of_node[item]
                local_route.append(local)
            local_routes.append(local_route)
        for node in loose:
            if data.allowed[node].intersection(vehicles):  # else it stays left out
                add_visit(node)
        depots: dict[int, int] = {}
        for vehicle in vehicles:
            for depot in (data.start_node[vehicle], data.end_node[vehicle]):
                if depot not in depots:
                    depots[depot] = add((depot,), None, 0, 0)
        self.routes = local_routes
        count = len(self.members)
        firsts = [members[0] for members in self.members]
        lasts = [members[-1] for members in self.members]
        travel, cost = data.travel, data.cost
        transit = [[durations[i] + travel[lasts[i]][first] for first in firsts] for i in range(count)]
        arc_cost = [[cost[lasts[i]][first] for first in firsts] for i in range(count)]
        self.manager = pywrapcp.RoutingIndexManager(
            count,
            len(vehicles),
            [depots[data.start_node[v]] for v in vehicles],
            [depots[data.end_node[v]] for v in vehicles],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing, manager = self.routing, self.manager
        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(arc_cost))
        routing.AddDimension(routing.RegisterTransitMatrix(transit), model.horizon, model.horizon, False, "time")
        time_dimension = routing.GetDimensionOrDie("time")
        for local in range(count):
            if opens[local] is not None:
                time_dimension.CumulVar(manager.NodeToIndex(local)).SetRange(opens[local], closes[local])
        # What a break cannot interrupt: a stop's service, or a whole stretch (no break inside it).
        service = [durations[local] + model.service_transit[lasts[local]] for local in range(count)]
        for position, vehicle in enumerate(vehicles):
            low, high = data.shift_open[vehicle], data.shift_close[vehicle]
            if (low, high) != (0, model.horizon):  # as in _Model: redundant bounds perturb the search
                time_dimension.CumulVar(routing.Start(position)).SetRange(low, high)
                time_dimension.CumulVar(routing.End(position)).SetRange(low, high)
            limit = reps[vehicle].max_route_duration
            if limit is not None:
                _limit_span(routing, time_dimension, position, math.floor(limit * SCALE))
            if model.breaks[vehicle]:
                _add_breaks(manager, time_dimension, position, reps[vehicle].id, model.breaks[vehicle], service)
        if model.load is not None:
            unlimited = max(1, sum(demands))
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(demands),
                0,
                [min(data.capacity[v], unlimited) for v in vehicles],
                True,
                "load",
            )
        pinned_first = [
            local_route[0]
            for local_route in local_routes
            if local_route and local_route[0] in segments and data.pinned.intersection(segments[local_route[0]].members)
        ]
        if pinned_first or any(data.max_stops[v] < UNBOUNDED for v in vehicles):
            stop_counts = [
                len(members) if opens[local] is not None else 0 for local, members in enumerate(self.members)
            ]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(stop_counts),
                0,
                [min(data.max_stops[v], sum(stop_counts)) for v in vehicles],
                True,
                "stops",
            )
            stops = routing.GetDimensionOrDie("stops")
            for local in pinned_first:
                stops.CumulVar(manager.NodeToIndex(local)).SetValue(0)  # the locked stops stay first
        position_of = {vehicle: position for position, vehicle in enumerate(vehicles)}
        everyone = set(range(len(vehicles)))

        def restrict(local: int, allowed: frozenset[int]) -> None:
            local_allowed = {position_of[v] for v in allowed if v in position_of}
            if local_allowed != everyone:
                routing.VehicleVar(manager.NodeToIndex(local)).SetValues([-1, *sorted(local_allowed)])

        for local, segment in segments.items():
            restrict(local, frozenset.intersection(*(data.allowed[node] for node in segment.members)))
        node_visit = model.node_visit
        for group in visit_groups:
            for local in group:
                restrict(local, data.allowed[self.members[local][0]])
            indices = [manager.NodeToIndex(local) for local in group]
            routing.AddDisjunction(indices, penalty[node_visit[self.members[group[0]][0]]], 1)
        if close_with is not None:
            routing.CloseModelWithParameters(close_with)

    def expand(self, local_route: list[int]) -> list[int]:
        """The adapter's nodes of a route of this model."""
        return [node for local in local_route for node in self.members[local]]


def _route_cost(data: InsertionData, vehicle: int, route: list[int]) -> int:
    if not route:
        return 0
    nodes = [data.start_node[vehicle], *route, data.end_node[vehicle]]
    return sum(data.cost[a][b] for a, b in itertools.pairwise(nodes))


def _finalized(
    problem: Problem, config: SearchConfig, routes: list[list[int]], began: float, notes: list[str]
) -> SolverOutput:
    """Time the routes on a model with the finalizers (leave late, finish early, place breaks)."""
    model = _Model(problem)
    assignment = _read_routes(model, routes)
    params = model.parameters(config, 60.0)
    params.solution_limit = 1  # the restored routes themselves, finalized
    solution = model.routing.SolveFromAssignmentWithParameters(assignment, params) if assignment else None
    if solution is None:
        # Cannot happen for routes the search model accepted; kept as a clear failure.
        return SolverOutput([], "fail", None, time.perf_counter() - began, config, [*notes, "timing failed"])
    return SolverOutput(
        model.plans(solution), "success", float(solution.ObjectiveValue()), time.perf_counter() - began, config, notes
    )


_STATUS = {
    0: "not_solved",
    1: "success",
    2: "partial_success_local_optimum_not_reached",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}
