"""The one place that speaks OR-Tools: index managers, matrices, dimensions, parameters.

Everything is scaled to integers: times and distances to milliseconds and
millimetres (`SCALE`). Travel times are rounded *up*, so a schedule OR-Tools
accepts stays feasible under the evaluator's exact arithmetic; distances are
rounded to the nearest unit (they only steer the objective).

Node layout: one node per (visit, time window) — a visit with several windows
gets a copy per window, and a disjunction performs at most one copy (removing
the gaps from a cumul domain instead makes OR-Tools store the domain as a
bitset: gigabytes for a week in milliseconds) — then one node per distinct
location where a rep's day starts or ends (vehicles share them, as OR-Tools
intends: separate copies of the depot per vehicle weaken the local search),
then one virtual node that ends open routes and that every location reaches at
no cost.

Here: the model (`OrToolsModel`), OR-Tools' own search
(`solve_with_metaheuristic`), the descent's parameters, and reading routes in
and out of a model. The iterated ruin-and-recreate search is `routing._search`;
its small model of the changed routes is `routing._focused`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Protocol

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from routing.evaluate import RoutePlan
from routing.model import Problem
from routing.search_config import SearchConfig

SCALE = 1000
# Money objective: cost units per currency unit, chosen so that a cost per hour
# becomes an integer coefficient per millisecond for whole cents.
MONEY_SCALE = 360_000_000
REQUIRED_PENALTY = 10**13

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic
_ON, _OFF = optional_boolean_pb2.BOOL_TRUE, optional_boolean_pb2.BOOL_FALSE


@dataclass
class SolverOutput:
    plans: list[RoutePlan]
    status: str
    objective: float | None
    seconds: float
    config: SearchConfig
    notes: list[str] = field(default_factory=list)


class OrToolsModel:
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
                limit_route_span(self.routing, self.time, vehicle, math.floor(rep.max_route_duration * SCALE))
            add_breaks(self.manager, self.time, vehicle, rep.id, self.breaks[vehicle], self.service_transit)
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
        return search_parameters(config, time_limit)

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


def limit_route_span(
    routing: pywrapcp.RoutingModel, time_dimension: pywrapcp.RoutingDimension, vehicle: int, limit: int
) -> None:
    """The vehicle's route lasts at most `limit` (end time minus start time).

    A plain constraint rather than `SetSpanUpperBoundForVehicle`: with break
    intervals on the vehicle, the latter makes every descent on a new model
    tens of times slower, which starves the iterated search (figures in
    docs/benchmarks.md, "Why the optimizer is set as it is").
    """
    start, end = time_dimension.CumulVar(routing.Start(vehicle)), time_dimension.CumulVar(routing.End(vehicle))
    routing.solver().Add(end - start <= limit)


def add_breaks(
    manager: pywrapcp.RoutingIndexManager,
    time_dimension: pywrapcp.RoutingDimension,
    vehicle: int,
    rep_id: str,
    breaks: list[tuple[int, int, int]],
    service_transit: list[int],
) -> None:
    """The rep's breaks on `vehicle`, each between two services (never during one).

    `service_transit` is, per node, the part of its transit a break cannot
    interrupt. The intervals are named "break <rep id> <k>" for `OrToolsModel.plans`.
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


def search_parameters(config: SearchConfig, time_limit: float) -> pywrapcp.RoutingSearchParameters:
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


def solve_with_metaheuristic(problem: Problem, config: SearchConfig, time_limit: float) -> SolverOutput:
    """One search run by OR-Tools alone: its first solution strategy, then its metaheuristic."""
    began = time.perf_counter()
    model = OrToolsModel(problem)
    build_seconds = time.perf_counter() - began
    params = model.parameters(config, max(0.05, time_limit - build_seconds))
    solution = model.routing.SolveWithParameters(params)
    status = STATUS_NAMES.get(model.routing.status(), str(model.routing.status()))
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
# Lin-Kernighan, chain moves) make each descent slower without making the
# search better: the time is better spent on more iterations.
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


def descent_parameters(config: SearchConfig) -> pywrapcp.RoutingSearchParameters:
    params = search_parameters(config, 1.0)
    params.local_search_metaheuristic = METAHEURISTIC.GREEDY_DESCENT
    operators = params.local_search_operators
    for operator in operators.DESCRIPTOR.fields:
        setattr(operators, operator.name, _ON if operator.name in _DESCENT_OPERATORS else _OFF)
    return params


class HasRouting(Protocol):
    """What reading routes needs of a model: the whole one or a focused one."""

    routing: pywrapcp.RoutingModel
    manager: pywrapcp.RoutingIndexManager


def solution_routes(model: HasRouting, solution: pywrapcp.Assignment) -> list[list[int]]:
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


def assignment_of_routes(model: HasRouting, routes: list[list[int]]) -> pywrapcp.Assignment | None:
    """An assignment for these routes, or None when the model's constraints refuse them."""
    indices = [[model.manager.NodeToIndex(node) for node in route] for route in routes]
    return model.routing.ReadAssignmentFromRoutes(indices, True)


def restore_parameters(config: SearchConfig, seconds: float) -> pywrapcp.RoutingSearchParameters:
    """The descent's parameters with a time limit for restoring routes (see WHOLE_READ_SHARE)."""
    params = descent_parameters(config)
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return params


def finalized_output(
    problem: Problem, config: SearchConfig, routes: list[list[int]], began: float, notes: list[str]
) -> SolverOutput:
    """Time the routes on a model with the finalizers (leave late, finish early, place breaks)."""
    model = OrToolsModel(problem)
    assignment = assignment_of_routes(model, routes)
    params = model.parameters(config, 60.0)
    params.solution_limit = 1  # the restored routes themselves, finalized
    solution = model.routing.SolveFromAssignmentWithParameters(assignment, params) if assignment else None
    if solution is None:
        # Cannot happen for routes the search model accepted; kept as a clear failure.
        return SolverOutput([], "fail", None, time.perf_counter() - began, config, [*notes, "timing failed"])
    return SolverOutput(
        model.plans(solution), "success", float(solution.ObjectiveValue()), time.perf_counter() - began, config, notes
    )


STATUS_NAMES = {
    0: "not_solved",
    1: "success",
    2: "partial_success_local_optimum_not_reached",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}
