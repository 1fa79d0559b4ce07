"""Ruin and recreate on plain routes: the perturbation of the iterated local search.

SISR (Christiaens & Vanden Berghe, "Slack Induction by String Removals",
Transportation Science 2020): remove a few strings of consecutive stops from
routes that pass near a random seed stop, then put the removed stops back one
by one at their cheapest feasible position, skipping a position now and then
("blinks") so that repeated recreates do not all land on the same solution.

This module knows nothing of OR-Tools. It works on routes as lists of node
numbers of the adapter's model (a visit with several time windows has one node
per window) and checks what it can check cheaply and exactly: time windows
with waiting, the shift, capacity, allowed reps, the stop limit and a rep's
break when it has one. Several breaks and the maximum route duration are left
to OR-Tools, which re-checks every proposal and rejects one it cannot accept.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

UNBOUNDED = 1 << 62


@dataclass(frozen=True)
class InsertionData:
    """What recreate needs to know, in the adapter's integer units.

    `travel[i][j]` is the service at i plus the drive to j; `cost[i][j]` the
    arc's objective weight; windows bound the start of service at a node.
    """

    travel: Sequence[Sequence[int]]
    cost: Sequence[Sequence[int]]
    window_open: Sequence[int]
    window_close: Sequence[int]
    demand: Sequence[int]
    # per vehicle
    start_node: Sequence[int]
    end_node: Sequence[int]
    shift_open: Sequence[int]
    shift_close: Sequence[int]
    capacity: Sequence[int]
    max_stops: Sequence[int]
    # per node: the copies of the same visit (one per time window), itself included
    copies: Sequence[Sequence[int]]
    # per node: the vehicles allowed to serve it
    allowed: Sequence[frozenset[int]]
    # per node: the other visit nodes, nearest first (by cost)
    neighbours: Sequence[Sequence[int]]
    # nodes that must not be moved (a locked position)
    pinned: frozenset[int]
    # per node: the part of `travel` from it that is service, which a break cannot interrupt
    service: Sequence[int] = ()
    # per vehicle: its break as (earliest start, latest start, duration) when it has
    # exactly one; None when it has none, or several (those are left to OR-Tools)
    lone_break: Sequence[tuple[int, int, int] | None] = ()


class _Schedule:
    """Earliest and latest service starts along one route, for O(1) insertion checks.

    Built anew for a route, or from the route's schedule before an insertion
    (`inserted`): a recreate inserts one visit at a time, and an insertion
    changes the starts after it only until a wait absorbs the delay, and the
    latest starts before it only until a window closes earlier anyway.
    """

    __slots__ = (
        "after_break",
        "arc_cost",
        "before_break",
        "closes",
        "earliest",
        "latest",
        "legs",
        "lone_break",
        "nodes",
        "opens",
    )

    def __init__(self, data: InsertionData, vehicle: int, route: Sequence[int]) -> None:
        travel, cost = data.travel, data.cost
        nodes = [data.start_node[vehicle], *route, data.end_node[vehicle]]
        last = len(nodes) - 1
        self.nodes = nodes
        self.legs = [travel[a][b] for a, b in itertools.pairwise(nodes)]
        # the cost of each arc of the route, which an insertion on it saves
        self.arc_cost = [cost[a][b] for a, b in itertools.pairwise(nodes)]
        # the bounds on service start at each position; the shift's at both ends
        self.opens = [data.window_open[node] for node in nodes]
        self.closes = [data.window_close[node] for node in nodes]
        self.opens[0] = self.opens[last] = data.shift_open[vehicle]
        self.closes[0] = self.closes[last] = data.shift_close[vehicle]
        self.earliest = _forward_starts(self.legs, self.opens, [self.opens[0]], None, 0)
        self.latest = _backward_starts(self.legs, self.closes, [self.closes[last]], None, 0)
        self.lone_break = data.lone_break[vehicle] if data.lone_break else None
        self.after_break: list[int] = []
        self.before_break: list[int] = []
        if self.lone_break is not None:
            break_opens, break_closes, duration = self.lone_break
            taken_at = self.opens[0] if self.opens[0] > break_opens else break_opens
            first = taken_at + duration if taken_at <= break_closes else UNBOUNDED
            self.after_break = self._after_break(data.service, [first], None, 0)
            back_by = self.closes[last] if self.closes[last] < break_closes else break_closes
            after_day = back_by if back_by >= self.opens[last] else -UNBOUNDED
            self.before_break = self._before_break(data.service, [after_day], None, 0)

    def inserted(self, data: InsertionData, k: int, node: int) -> _Schedule:
        """This route's schedule with `node` inserted after position k."""
        new = object.__new__(_Schedule)
        before, after = self.nodes[k], self.nodes[k + 1]
        new.nodes = [*self.nodes[: k + 1], node, *self.nodes[k + 1 :]]
        new.legs = [*self.legs[:k], data.travel[before][node], data.travel[node][after], *self.legs[k + 1 :]]
        new.arc_cost = [*self.arc_cost[:k], data.cost[before][node], data.cost[node][after], *self.arc_cost[k + 1 :]]
        new.opens = [*self.opens[: k + 1], data.window_open[node], *self.opens[k + 1 :]]
        new.closes = [*self.closes[: k + 1], data.window_close[node], *self.closes[k + 1 :]]
        # Positions up to k keep their earliest starts, those from k + 2 on their latest.
        new.earliest = _forward_starts(new.legs, new.opens, self.earliest[: k + 1], self.earliest, k + 2)
        new.latest = _backward_starts(new.legs, new.closes, self.latest[k + 1 :], self.latest, k)
        new.lone_break = self.lone_break
        new.after_break = new.before_break = []
        if self.lone_break is not None:
            new.after_break = new._after_break(data.service, self.after_break[: k + 1], self, k + 2)
            new.before_break = new._before_break(data.service, self.before_break[k + 1 :], self, k)
        return new

    # The passes below extend `known` (the values at the positions before, or
    # after, the first one to compute). With `old` (the schedule before an
    # insertion at position k), a forward pass stops at a position from `meet`
    # = k + 2 on whose values equal the old ones one position earlier: the rest
    # is the old rest. A backward pass likewise, at or before `meet` = k.

    def _after_break(self, service: Sequence[int], known: list[int], old: _Schedule | None, meet: int) -> list[int]:
        """`after_break[j]`: the earliest start at position j once the break is taken
        somewhere before it (before the day included); UNBOUNDED if it cannot be.

        As in OR-Tools and the evaluator, a break may interrupt a drive, not a
        service, and starts once the rep is free and its window is open: taken
        in the leg i -> j, service at j starts no earlier than i's start plus
        the leg's travel plus the break, nor before the break ends.
        """
        break_opens, break_closes, duration = self.lone_break  # type: ignore[misc]
        nodes, earliest, legs, opens, closes = self.nodes, self.earliest, self.legs, self.opens, self.closes
        after = known
        for j in range(len(known), len(nodes)):
            leg = legs[j - 1]
            best = UNBOUNDED
            if after[j - 1] < UNBOUNDED:  # taken further back
                best = after[j - 1] + leg
                if best < opens[j]:
                    best = opens[j]
            free = earliest[j - 1] + service[nodes[j - 1]]
            if free < break_opens:
                free = break_opens
            if free <= break_closes:  # taken on the way here
                here = earliest[j - 1] + leg + duration
                if here < free + duration:
                    here = free + duration
                if here < opens[j]:
                    here = opens[j]
                if here < best:
                    best = here
            value = best if best <= closes[j] else UNBOUNDED
            if old is not None and j >= meet and value == old.after_break[j - 1] and earliest[j] == old.earliest[j - 1]:
                after.extend(old.after_break[j - 1 :])
                break
            after.append(value)
        return after

    def _before_break(self, service: Sequence[int], known: list[int], old: _Schedule | None, meet: int) -> list[int]:
        """`before_break[j]`: the latest start at position j that still leaves the
        break a place after it (after the day included); -UNBOUNDED if none."""
        break_opens, break_closes, duration = self.lone_break  # type: ignore[misc]
        nodes, latest, legs, opens, closes = self.nodes, self.latest, self.legs, self.opens, self.closes
        reversed_before = known[::-1]
        for j in range(len(nodes) - len(known) - 1, -1, -1):
            leg, served = legs[j], service[nodes[j]]
            following = reversed_before[-1]
            best = -UNBOUNDED
            if following > -UNBOUNDED:  # taken further on
                best = following - leg
                if best > closes[j]:
                    best = closes[j]
            if break_opens + duration <= latest[j + 1]:  # taken on the way to the next position
                here = latest[j + 1] - duration - (leg if leg > served else served)
                if here > break_closes - served:
                    here = break_closes - served
                if here > closes[j]:
                    here = closes[j]
                if here > best:
                    best = here
            # A latest start before the window opens is no start at all.
            value = best if best >= opens[j] else -UNBOUNDED
            if old is not None and j <= meet and value == old.before_break[j] and latest[j] == old.latest[j]:
                return [*old.before_break[:j], value, *reversed(reversed_before)]
            reversed_before.append(value)
        reversed_before.reverse()
        return reversed_before

    def admits_with_break(
        self, k: int, node: int, start: int, data: InsertionData, travel_to_node: int, travel_from_node: int
    ) -> bool:
        """Whether `node`, inserted after position k and starting at `start` when no
        break is taken before it, leaves the route's one break a place."""
        break_opens, break_closes, duration = self.lone_break  # type: ignore[misc]
        next_latest = self.latest[k + 1]
        # the break after the next stop
        if start + travel_from_node <= self.before_break[k + 1]:
            return True
        # the break on the way from the node to the next stop
        if (
            start + data.service[node] <= break_closes
            and break_opens + duration <= next_latest
            and start + max(travel_from_node, data.service[node]) + duration <= next_latest
        ):
            return True
        window_open, window_close = data.window_open[node], data.window_close[node]
        # the break before the previous stop
        if self.after_break[k] < UNBOUNDED:
            late_start = max(window_open, self.after_break[k] + travel_to_node)
            if late_start <= window_close and late_start + travel_from_node <= next_latest:
                return True
        # the break on the way from the previous stop to the node
        previous_start = self.earliest[k]
        free = max(previous_start + data.service[self.nodes[k]], break_opens)
        if free > break_closes:
            return False
        late_start = max(window_open, previous_start + travel_to_node + duration, free + duration)
        return late_start <= window_close and late_start + travel_from_node <= next_latest


def _forward_starts(legs: list[int], opens: list[int], known: list[int], old: list[int] | None, meet: int) -> list[int]:
    """Earliest service starts: `known` at the first positions, then as early as legs and windows allow.

    With `old` (the earliest starts before an insertion), stops at a position
    from `meet` on whose start equals the old one a position earlier.
    """
    starts = known
    clock = starts[-1]
    for j in range(len(known), len(opens)):
        clock += legs[j - 1]
        if clock < opens[j]:
            clock = opens[j]
        if old is not None and j >= meet and clock == old[j - 1]:
            starts.extend(old[j - 1 :])
            break
        starts.append(clock)
    return starts


def _backward_starts(
    legs: list[int], closes: list[int], known: list[int], old: list[int] | None, meet: int
) -> list[int]:
    """Latest service starts: `known` at the last positions, then as late as legs and windows allow.

    With `old` (the latest starts before an insertion), stops at a position
    up to `meet` whose start equals the old one there.
    """
    reversed_starts = known[::-1]
    clock = reversed_starts[-1]
    for j in range(len(closes) - len(known) - 1, -1, -1):
        clock -= legs[j]
        if clock > closes[j]:
            clock = closes[j]
        if old is not None and j <= meet and clock == old[j]:
            return [*old[:j], clock, *reversed(reversed_starts)]
        reversed_starts.append(clock)
    reversed_starts.reverse()
    return reversed_starts


class ScheduleCache:
    """Schedules of routes seen recently: a recreate changes few routes, and the
    next iteration starts again from routes whose schedules are known."""

    def __init__(self, data: InsertionData, size: int = 4096) -> None:
        self.data = data
        self.size = size
        self.schedules: dict[tuple[int, tuple[int, ...]], _Schedule] = {}
        self._travel_to: list[list[int]] | None = None
        self._cost_to: list[list[int]] | None = None

    @property
    def travel_to(self) -> list[list[int]]:
        """`travel_to[j][i]` = `travel[i][j]`: the column of a node, read once per insertion."""
        if self._travel_to is None:
            self._travel_to = [list(column) for column in zip(*self.data.travel, strict=True)]
        return self._travel_to

    @property
    def cost_to(self) -> list[list[int]]:
        """`cost_to[j][i]` = `cost[i][j]`."""
        if self._cost_to is None:
            self._cost_to = [list(column) for column in zip(*self.data.cost, strict=True)]
        return self._cost_to

    def put(self, vehicle: int, route: Sequence[int], schedule: _Schedule) -> None:
        """Keep a schedule built elsewhere (`_Schedule.inserted`) for the next iterations."""
        if len(self.schedules) >= self.size:
            self.schedules.clear()
        self.schedules[(vehicle, tuple(route))] = schedule

    def get(self, vehicle: int, route: Sequence[int]) -> _Schedule:
        schedule = self.schedules.get((vehicle, tuple(route)))
        if schedule is None:
            schedule = _Schedule(self.data, vehicle, route)
            self.put(vehicle, route, schedule)
        return schedule


def ruin(
    data: InsertionData,
    routes: list[list[int]],
    rng: random.Random,
    *,
    average_removed: float = 10.0,
    max_string: int = 10,
    split_rate: float = 0.0,
    whole_route: bool = False,
) -> tuple[list[list[int]], list[int]]:
    """Remove strings of stops near a random seed stop; returns (routes, removed nodes).

    SISR takes at most one string per route. When fewer routes are in use than
    strings are wanted (one rep's day), a route gives several, or the ruin
    could only ever cut one stretch out of a lone route. With `split_rate`, a
    string is split as in SISR: a few stops in its middle stay where they are.
    With `whole_route`, the first "string" is a whole route drawn at random
    (every route alike, so short ones as often as long ones) and the seed is
    one of its stops: a route longer than the longest string can then close
    in one step.
    """
    position = {node: vehicle for vehicle, route in enumerate(routes) for node in route}
    movable = [node for node in position if node not in data.pinned]
    if not movable:
        return [list(route) for route in routes], []
    used = [route for route in routes if route]
    mean_length = sum(len(route) for route in used) / len(used)
    longest_string = min(float(max_string), mean_length)
    most_strings = 4 * average_removed / (1 + longest_string) - 1
    strings_wanted = int(rng.uniform(1, most_strings + 1))
    routes_repeat = len(used) < strings_wanted
    seed = rng.choice(movable)
    ruined = [list(route) for route in routes]
    touched: set[int] = set()
    strings = 0
    removed: list[int] = []
    if whole_route:
        closable = [v for v, route in enumerate(ruined) if route and not data.pinned.intersection(route)]
        if closable:
            vehicle = rng.choice(closable)
            seed = rng.choice(ruined[vehicle])
            removed.extend(ruined[vehicle])
            ruined[vehicle].clear()
            touched.add(vehicle)
            strings += 1
    for node in (seed, *data.neighbours[seed]):
        if strings >= strings_wanted:
            break
        holder = position.get(node)
        if holder is None or (holder in touched and not routes_repeat):
            continue
        route = ruined[holder]
        if node not in route:
            continue  # already removed with an earlier string
        # uniform() may return its upper end: cap at the route's length
        length = min(len(route), int(rng.uniform(1, min(len(route), longest_string) + 1)))
        kept = 0
        if split_rate and len(route) > length and rng.random() < split_rate:
            # how many stops stay in the middle: 1, 2, 3 ... with halving odds (our choice)
            kept = 1
            while length + kept < len(route) and rng.random() < 0.5:
                kept += 1
        span = length + kept
        at = route.index(node)
        first = rng.randint(max(0, at - span + 1), min(at, len(route) - span))
        window = route[first : first + span]
        if any(stop in data.pinned for stop in window):
            continue
        keep_from = rng.randint(1, length - 1) if kept and length > 1 else length
        string = window[:keep_from] + window[keep_from + kept :]
        route[first : first + span] = window[keep_from : keep_from + kept]
        removed.extend(string)
        touched.add(holder)
        strings += 1
    return ruined, removed


def recreate(
    data: InsertionData,
    routes: list[list[int]],
    removed: Sequence[int],
    rng: random.Random,
    *,
    blink_rate: float = 0.01,
    cache: ScheduleCache | None = None,
    open_route: bool = False,
) -> tuple[list[list[int]], list[int]]:
    """Insert the removed visits at their cheapest feasible positions; returns (routes, left out).

    With `open_route`, the first visit to insert goes to an unused vehicle if
    one can take it, and the visits after it may join it: a route of its own
    is never the cheapest place for a single visit, so without this the
    search could only ever close routes.
    """
    cache = cache or ScheduleCache(data)
    routes = [list(route) for route in routes]
    schedules = [cache.get(vehicle, route) for vehicle, route in enumerate(routes)]
    loads = [sum(data.demand[node] for node in route) for route in routes]
    order = list(removed)
    # SISR sorts the removed visits randomly, by demand or by distance from the seed of the ruin.
    ordering = rng.randrange(3)
    if ordering == 0:
        rng.shuffle(order)
    elif ordering == 1:
        order.sort(key=lambda node: -data.demand[node])
    else:
        anchor = order[0] if order else 0
        order.sort(key=lambda node: data.cost[anchor][node])
    left_out: list[int] = []
    opening = open_route
    for visit_node in order:
        best = None
        if opening:
            best = _best_position(data, cache, routes, schedules, loads, visit_node, rng, blink_rate, empty_only=True)
        if best is None:
            best = _best_position(data, cache, routes, schedules, loads, visit_node, rng, blink_rate)
        if best is None:
            left_out.append(visit_node)
            continue
        opening = False
        vehicle, k, node = best
        routes[vehicle].insert(k, node)
        loads[vehicle] += data.demand[node]
        schedules[vehicle] = schedules[vehicle].inserted(data, k, node)
        cache.put(vehicle, routes[vehicle], schedules[vehicle])
    return routes, left_out


def _best_position(
    data: InsertionData,
    cache: ScheduleCache,
    routes: list[list[int]],
    schedules: list[_Schedule],
    loads: list[int],
    visit_node: int,
    rng: random.Random,
    blink_rate: float,
    *,
    empty_only: bool = False,
) -> tuple[int, int, int] | None:
    """The cheapest feasible (vehicle, position, node copy) for a visit, blinks skipped; None if none."""
    best_cost = UNBOUNDED
    best: tuple[int, int, int] | None = None
    for node in data.copies[visit_node]:
        opens, closes, demand = data.window_open[node], data.window_close[node], data.demand[node]
        travel_from_node, cost_from_node = data.travel[node], data.cost[node]
        travel_to_node, cost_to_node = cache.travel_to[node], cache.cost_to[node]
        vehicles = [v for v in data.allowed[node] if not routes[v]] if empty_only else data.allowed[node]
        for vehicle in vehicles:
            if loads[vehicle] + demand > data.capacity[vehicle] or len(routes[vehicle]) >= data.max_stops[vehicle]:
                continue
            schedule = schedules[vehicle]
            nodes, earliest, latest, arc_cost = schedule.nodes, schedule.earliest, schedule.latest, schedule.arc_cost
            for k in range(len(nodes) - 1):
                # Cost first: most positions are dearer than the best so far,
                # and that test is cheaper than the schedule's.
                after = nodes[k + 1]
                delta = cost_to_node[nodes[k]] + cost_from_node[after] - arc_cost[k]
                if delta >= best_cost:
                    continue
                start = earliest[k] + travel_to_node[nodes[k]]
                if start < opens:
                    start = opens
                if start > closes or start + travel_from_node[after] > latest[k + 1]:
                    continue
                if schedule.lone_break is not None and not schedule.admits_with_break(
                    k, node, start, data, travel_to_node[nodes[k]], travel_from_node[after]
                ):
                    continue
                # A blink skips a position; drawing it only for positions
                # that would become the best skips the same ones in law.
                if rng.random() < blink_rate:
                    continue
                best_cost = delta
                best = (vehicle, k, node)
    return best
