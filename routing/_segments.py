"""Stretches of a route that a focused descent keeps as they are, as single stops.

After a ruin and recreate, only the parts of the routes near the change are
worth searching again: the rest was already a local optimum. A focused descent
(`routing._ortools`) therefore gives OR-Tools a model in which each untouched
stretch of consecutive stops is one node. That node behaves exactly like the
stretch: its window is the span of start times at its first stop that keep
every stop of the stretch inside its window, and its duration is the time from
the start at its first stop to the start at its last one (waiting included).
This is the concatenation of route segments of Vidal et al. ("A unified
solution framework for multi-attribute vehicle routing problems", EJOR 2014),
without time warp because the routes it is applied to are feasible. A break
cannot be taken inside a stretch, so `break_gaps` finds the stops that must
stay single for the rep's breaks to fit where they could fall.

Like `routing._sisr`, this module knows nothing of OR-Tools and works in the
adapter's integer units on its node numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from routing._sisr import InsertionData, ScheduleCache

__all__ = ["Segment", "break_gaps", "changed_positions", "compress_route", "segment_of"]


@dataclass(frozen=True)
class Segment:
    """Consecutive stops kept together, seen from outside as one stop.

    A service that starts at the first stop at any time t in [opens, closes]
    keeps every stop in its window and starts at the last stop at
    max(t, opens) + duration. `travel` into the segment goes to `first`, out
    of it from `last`.
    """

    members: tuple[int, ...]
    opens: int
    closes: int
    duration: int
    demand: int

    @property
    def first(self) -> int:
        return self.members[0]

    @property
    def last(self) -> int:
        return self.members[-1]


def segment_of(data: InsertionData, members: Sequence[int]) -> Segment:
    """Concatenate consecutive stops into one segment."""
    if not members:
        raise ValueError("a segment needs at least one stop")
    opens, closes, duration = data.window_open[members[0]], data.window_close[members[0]], 0
    for before, node in itertools.pairwise(members):
        reach = duration + data.travel[before][node]
        # Even starting as late as allowed, the segment arrives before `node` opens: it waits.
        wait = max(data.window_open[node] - reach - closes, 0)
        opens = max(data.window_open[node] - reach, opens) - wait
        closes = min(data.window_close[node] - reach, closes)
        duration = reach + wait
        if closes < opens:
            raise ValueError(f"stops {list(members)} cannot be served in this order within their windows")
    return Segment(tuple(members), opens, closes, duration, sum(data.demand[node] for node in members))


def changed_positions(data: InsertionData, vehicle: int, before: Sequence[int], after: Sequence[int]) -> list[bool]:
    """Which stops of `after` have an arc (in or out) that `before` did not have."""
    start, end = data.start_node[vehicle], data.end_node[vehicle]
    old_arcs = set(itertools.pairwise([start, *before, end]))
    nodes = [start, *after, end]
    return [
        (nodes[k - 1], nodes[k]) not in old_arcs or (nodes[k], nodes[k + 1]) not in old_arcs
        for k in range(1, len(nodes) - 1)
    ]


def break_gaps(
    schedules: ScheduleCache, vehicle: int, route: Sequence[int], breaks: Sequence[tuple[int, int, int]]
) -> list[bool]:
    """Which stops of `route` border a gap between stops where one of the rep's breaks could fall.

    `breaks` are (earliest start, latest start, duration). A break is taken
    between two stops (or before the first, or after the last), never inside a
    folded stretch, so the stops on both sides of every such gap must stay free.
    The test is loose on purpose: without the breaks, a stop's service starts
    no earlier than its earliest start and no later than its latest, and a
    break fits in the gap after stop k only if it can start once k has started
    (earliest[k] <= latest break start) and end before k + 1 must start
    (latest[k + 1] >= earliest break end).
    """
    free = [False] * len(route)
    if not breaks or not route:
        return free
    schedule = schedules.get(vehicle, route)
    earliest, latest = schedule.earliest, schedule.latest
    for gap in range(len(route) + 1):  # the gap after node `gap` of [start, *route, end]
        if any(earliest[gap] <= closes and latest[gap + 1] >= opens + duration for opens, closes, duration in breaks):
            for position in (gap - 1, gap):
                if 0 <= position < len(route):
                    free[position] = True
    return free


def compress_route(
    data: InsertionData,
    route: Sequence[int],
    changed: Sequence[bool],
    radius: int,
    kept_free: Sequence[bool] = (),
) -> list[int | Segment]:
    """The route with every stop farther than `radius` positions from a change folded into segments.

    Stops flagged in `kept_free` stay free too, with no radius around them.
    Pinned stops, and every stop before the last of them, stay in one leading
    segment so that their positions cannot change.
    """
    free = list(kept_free) or [False] * len(route)
    for position, is_changed in enumerate(changed):
        if is_changed:
            for near in range(max(0, position - radius), min(len(route), position + radius + 1)):
                free[near] = True
    last_pinned = max((position for position, node in enumerate(route) if node in data.pinned), default=-1)
    for position in range(last_pinned + 1):
        free[position] = False
    compressed: list[int | Segment] = []
    run: list[int] = []
    for position, node in enumerate(route):
        if free[position]:
            if run:
                compressed.append(segment_of(data, run))
                run = []
            compressed.append(node)
        else:
            if position == last_pinned + 1 and run:
                # the pinned prefix is its own segment, so it can be kept first
                compressed.append(segment_of(data, run))
                run = []
            run.append(node)
    if run:
        compressed.append(segment_of(data, run))
    return compressed
