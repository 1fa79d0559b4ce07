"""A small OR-Tools model of the routes a recreate changed, far stretches folded into single nodes."""

from __future__ import annotations

import math

from ortools.constraint_solver import pywrapcp

from routing._ortools import SCALE, OrToolsModel, add_breaks, limit_route_span
from routing._segments import Segment
from routing._sisr import UNBOUNDED, InsertionData


class FocusedModel:
    """OR-Tools model of the routes a recreate changed, far stretches folded into single nodes.

    Each item of a route is a visit node of the adapter's model, free to move,
    or a `Segment` of stops kept in order (`routing._segments`). Free visits
    bring all their window copies; `loose` visits (left out by the recreate)
    may be inserted. A rep's breaks fall between items, never inside a
    stretch, so the stops around the gaps where a break could fall are kept
    free by the caller (`break_gaps`). Only for searches without money costs
    (`IteratedSearch.focused`).
    """

    def __init__(
        self,
        model: OrToolsModel,
        data: InsertionData,
        vehicles: list[int],
        routes: list[list[int | Segment]],
        loose: list[int],
        penalty: list[int],
        *,
        close_with: pywrapcp.RoutingSearchParameters | None = None,
    ) -> None:
        """`close_with`: parameters to close the model with, whose time limit bounds `assignment_of_routes`."""
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
            if (low, high) != (0, model.horizon):  # as in OrToolsModel: redundant bounds perturb the search
                time_dimension.CumulVar(routing.Start(position)).SetRange(low, high)
                time_dimension.CumulVar(routing.End(position)).SetRange(low, high)
            limit = reps[vehicle].max_route_duration
            if limit is not None:
                limit_route_span(routing, time_dimension, position, math.floor(limit * SCALE))
            if model.breaks[vehicle]:
                add_breaks(manager, time_dimension, position, reps[vehicle].id, model.breaks[vehicle], service)
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
