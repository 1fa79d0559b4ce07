"""The recreate's check of a rep's one break, against a brute force over every place the break can go."""

from __future__ import annotations

import itertools
import random

from routing._sisr import InsertionData, ScheduleCache, recreate

BREAK = tuple[int, int, int]  # earliest start, latest start, duration


def break_day(
    positions: list[int],
    service: list[int],
    windows: dict[int, tuple[int, int]],
    lone_break: BREAK,
    shift: tuple[int, int] = (0, 1_000),
) -> InsertionData:
    """Visits on a line; the depot (last node) at 0. `travel` = service at the origin + distance."""
    places = [*positions, 0]
    services = [*service, 0]
    count = len(positions)
    travel = [[services[a] + abs(places[a] - places[b]) for b in range(count + 1)] for a in range(count + 1)]
    cost = [[abs(places[a] - places[b]) for b in range(count + 1)] for a in range(count + 1)]
    return InsertionData(
        travel=travel,
        cost=cost,
        window_open=[windows.get(n, shift)[0] for n in range(count)] + [shift[0]],
        window_close=[windows.get(n, shift)[1] for n in range(count)] + [shift[1]],
        demand=[0] * (count + 1),
        start_node=[count],
        end_node=[count],
        shift_open=[shift[0]],
        shift_close=[shift[1]],
        capacity=[1 << 40],
        max_stops=[1 << 40],
        copies=[[n] for n in range(count)],
        allowed=[frozenset({0})] * count,
        neighbours=[sorted((o for o in range(count) if o != n), key=cost[n].__getitem__) for n in range(count)],
        pinned=frozenset(),
        service=services,
        lone_break=[lone_break],
    )


def feasible_with_break(data: InsertionData, route: list[int]) -> bool:
    """Try the break in every place: before the day, in every leg, after the day.

    Taken in the leg i -> j, the break starts once service at i is over and
    its window is open; service at j starts no earlier than i's start plus the
    leg's travel plus the break, nor before the break ends (as the evaluator).
    """
    opens, closes, duration = data.lone_break[0]  # type: ignore[misc]
    nodes = [data.start_node[0], *route, data.end_node[0]]
    last = len(nodes) - 1
    for place in range(-1, last + 1):  # -1: before the day; k: the leg from nodes[k]; last: after the day
        clock = data.shift_open[0]
        if place == -1:
            begins = max(clock, opens)
            if begins > closes:
                continue
            clock = begins + duration
        ok = True
        for k in range(1, last + 1):
            here, there = nodes[k - 1], nodes[k]
            ready = clock + data.travel[here][there]
            if place == k - 1:
                begins = max(clock + data.service[here], opens)
                if begins > closes:
                    ok = False
                    break
                ready = max(ready + duration, begins + duration)
            window = (
                (data.window_open[there], data.window_close[there])
                if k < last
                else (
                    data.shift_open[0],
                    data.shift_close[0],
                )
            )
            clock = max(ready, window[0])
            if clock > window[1]:
                ok = False
                break
        if ok and place == last:
            ok = max(clock, opens) <= closes
        if ok:
            return True
    return False


def feasible_without_break(data: InsertionData, route: list[int]) -> bool:
    nodes = [data.start_node[0], *route, data.end_node[0]]
    clock = data.shift_open[0]
    for k in range(1, len(nodes)):
        clock = max(clock + data.travel[nodes[k - 1]][nodes[k]], data.window_open[nodes[k]])
        closes = data.window_close[nodes[k]] if k < len(nodes) - 1 else data.shift_close[0]
        if clock > closes:
            return False
    return True


def random_day(rng: random.Random) -> InsertionData:
    """A short day, tight enough that the break often decides where a visit may go."""
    count = rng.randint(2, 7)
    positions = [rng.randint(-50, 50) for _ in range(count)]
    service = [rng.choice([0, 10, 30, 60]) for _ in range(count)]
    windows = {}
    for n in range(count):
        if rng.random() < 0.5:
            opens = rng.randint(0, 300)
            windows[n] = (opens, opens + rng.randint(0, 120))
    break_opens = rng.randint(0, 300)
    lone_break = (break_opens, break_opens + rng.randint(0, 60), rng.randint(10, 90))
    return break_day(positions, service, windows, lone_break, shift=(0, rng.choice([300, 400, 600])))


def test_the_break_check_of_every_insertion_agrees_with_the_brute_force() -> None:
    """Each visit tried at each position of random routes that can take the break:
    recreate places it exactly where some place of the break still works."""
    rng = random.Random(20261201)
    compared = admitted = refused = 0
    while compared < 3_000:
        data = random_day(rng)
        count = len(data.copies)
        route = rng.sample(range(count), rng.randint(0, count - 1))
        if not feasible_with_break(data, route):
            continue
        schedule = ScheduleCache(data).get(0, route)
        for node in set(range(count)) - set(route):
            for k in range(len(route) + 1):
                inserted = [*route[:k], node, *route[k:]]
                expected = feasible_with_break(data, inserted)
                start = max(data.window_open[node], schedule.earliest[k] + data.travel[schedule.nodes[k]][node])
                after = schedule.nodes[k + 1]
                plain = start <= data.window_close[node] and start + data.travel[node][after] <= schedule.latest[k + 1]
                found = plain and schedule.admits_with_break(
                    k, node, start, data, data.travel[schedule.nodes[k]][node], data.travel[node][after]
                )
                assert found == expected, (route, node, k, data.lone_break, data.window_open, data.window_close)
                compared += 1
                admitted += expected
                refused += plain and not expected
    # the sample holds both kinds, and insertions only the break rules out
    assert admitted > 300 and refused > 100, (admitted, refused)


def route_cost(data: InsertionData, route: list[int]) -> int:
    nodes = [data.start_node[0], *route, data.end_node[0]]
    return sum(data.cost[a][b] for a, b in itertools.pairwise(nodes))


def test_recreate_puts_a_visit_where_the_break_still_fits_even_when_dearer() -> None:
    """Over random days: recreate's route costs what the cheapest insertion the
    brute force accepts costs, also where the cheapest one without the break differs."""
    rng = random.Random(7)
    moved = checked = 0
    while checked < 2_000:
        data = random_day(rng)
        count = len(data.copies)
        route = rng.sample(range(count), count - 1)
        (node,) = set(range(count)) - set(route)
        if not feasible_with_break(data, route):
            continue
        options = [[*route[:k], node, *route[k:]] for k in range(len(route) + 1)]
        with_break = [route_cost(data, o) for o in options if feasible_with_break(data, o)]
        without = [route_cost(data, o) for o in options if feasible_without_break(data, o)]
        rebuilt, left = recreate(data, [route], [node], random.Random(0), blink_rate=0.0)
        if not with_break:
            assert (rebuilt, left) == ([route], [node])
        else:
            assert left == [] and feasible_with_break(data, rebuilt[0])
            assert route_cost(data, rebuilt[0]) == min(with_break)
            moved += min(with_break) > min(without)
        checked += 1
    assert moved >= 15, moved


def test_recreate_leaves_out_a_visit_that_only_fits_without_the_break() -> None:
    # A full day: two 200-minute services fill the shift; the break has no room left.
    data = break_day([10, 20], [200, 200], {}, (100, 300, 60), shift=(0, 470))
    assert feasible_without_break(data, [0, 1])
    routes, left = recreate(data, [[0]], [1], random.Random(0), blink_rate=0.0)
    assert (routes, left) == ([[0]], [1])


def test_a_schedule_updated_for_an_insertion_equals_one_built_anew() -> None:
    """`_Schedule.inserted` recomputes only what an insertion changes: it must
    give the very arrays a new build gives, with the break and without."""
    from routing._sisr import _Schedule

    rng = random.Random(5)
    fields = ("nodes", "legs", "arc_cost", "opens", "closes", "earliest", "latest", "after_break", "before_break")
    for round_number in range(400):
        data = random_day(rng)
        if round_number % 2:
            data = InsertionData(**{**data.__dict__, "lone_break": [None]})
        count = len(data.copies)
        route = rng.sample(range(count), rng.randint(0, count - 1))
        schedule = _Schedule(data, 0, route)
        for node in set(range(count)) - set(route):
            for k in range(len(route) + 1):
                updated = schedule.inserted(data, k, node)
                fresh = _Schedule(data, 0, [*route[:k], node, *route[k:]])
                for name in fields:
                    assert getattr(updated, name) == getattr(fresh, name), (name, route, node, k)
