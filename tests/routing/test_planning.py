"""Multi-day planning and re-optimisation on instances small enough to check by hand."""

from __future__ import annotations

import pytest

from routing import Problem, Rep, Visit
from routing.planning import (
    Appointment,
    Fleet,
    Progress,
    RecurringCustomer,
    RepDay,
    ServiceRequest,
    plan_days,
    reoptimize,
)
from tests.routing.test_solve import line

SHIFT = (8 * 3600.0, 17 * 3600.0)


@pytest.fixture(autouse=True, params=["joint", "day-by-day"])
def planning_mode(request, monkeypatch):
    """Every planning test runs both ways: the whole horizon as one problem
    (small plans) and days chosen first, then routed (large plans)."""
    import routing.planning

    if request.param == "day-by-day":
        monkeypatch.setattr(routing.planning, "JOINT_PLAN_PAIRS", 0)
    return request.param


def week(days: int = 3, reps: tuple[str, ...] = ("alice",), **kwargs) -> dict[int, list[Rep]]:
    return {d: [Rep(r, 0, 0, SHIFT, **kwargs) for r in reps] for d in range(days)}


def test_due_days_follow_frequency_and_last_visit():
    """Weekly, last seen 6 days ago: due tomorrow, may go a third of a week early (today)."""
    assert RecurringCustomer("c", 1, 600, 7, last_visit_day=-6).due_days(5) == [(1, [0, 1])]
    assert RecurringCustomer("c", 1, 600, 14, last_visit_day=-1).due_days(5) == []  # due on day 13
    assert RecurringCustomer("c", 1, 600, 7).due_days(3) == [(0, [0, 1, 2])]  # never visited: now
    assert RecurringCustomer("c", 1, 600, 2, last_visit_day=0).due_days(5) == [(2, [2]), (4, [4])]


def test_each_due_customer_is_planned_on_an_allowed_day():
    customers = [
        RecurringCustomer("weekly", 1, 900, 7, last_visit_day=-6),  # days 0-1
        RecurringCustomer("fortnightly", 2, 900, 14, last_visit_day=-14),  # due now: days 0-2 (overdue rule)
        RecurringCustomer("not-due", 3, 900, 28, last_visit_day=-1),
        RecurringCustomer("every-other-day", 4, 600, 2, last_visit_day=-1),  # due days 1, 3 -> day 1 only in 3
    ]
    plan = plan_days(customers, week(3), line(5), time_limit=2)
    assert plan.is_feasible(), plan.result.summary()
    days = {v.customer: v.day for v in plan.visits}
    assert days["weekly"] in (0, 1)
    assert days["fortnightly"] in (0, 1, 2)
    assert "not-due" not in days
    assert days["every-other-day"] == 1
    assert not plan.unassigned


def test_fixed_appointment_stays_on_its_day_rep_and_time():
    appointment = Appointment("meeting", 4, day=2, rep="bob", window=(14 * 3600.0, 14 * 3600.0 + 600), service=1800)
    plan = plan_days(
        [RecurringCustomer("c", 1, 600, 7)],
        week(3, ("alice", "bob")),
        line(5),
        appointments=[appointment],
        time_limit=2,
    )
    route = plan.routes[("bob", 2)]
    stop = next(s for s in route.stops if s.visit == "meeting")
    assert 14 * 3600 <= stop.start <= 14 * 3600 + 600
    assert plan.is_feasible()


def test_a_customer_open_on_some_days_only_is_planned_inside_that_days_window():
    """Never visited, weekly: allowed on days 0-2. Open only on day 2, 14:00-16:00 (a customer's
    Thursday afternoon): planned then. A customer closed on every allowed day is left out."""
    afternoon = (14 * 3600.0, 16 * 3600.0)
    customers = [
        RecurringCustomer("thursday-only", 1, 600, 7, day_windows={2: (afternoon,)}),
        RecurringCustomer("same-every-day", 2, 600, 7, time_windows=((9 * 3600.0, 10 * 3600.0),)),
        RecurringCustomer("closed", 3, 600, 7, day_windows={0: (), 5: (afternoon,)}),
    ]
    plan = plan_days(customers, week(3), line(5), time_limit=2)
    visits = {v.customer: v for v in plan.visits}
    assert visits["thursday-only"].day == 2
    assert afternoon[0] <= visits["thursday-only"].start <= afternoon[1]
    assert 9 * 3600 <= visits["same-every-day"].start <= 10 * 3600
    assert "closed" not in visits
    assert [u.visit for u in plan.unassigned] == ["closed#0"]


def test_service_requests_are_planned_by_their_due_day():
    """Alice works days 0-3 except day 1. A request due on day 1 lands on day 0 (the only working
    day up to it); an overdue one on day 0; one due on day 1 but only open on day 1 cannot fit."""
    shifts = {d: [Rep("alice", 0, 0, SHIFT)] for d in (0, 2, 3)}
    requests = [
        ServiceRequest("repair", 1, 900, due_day=1),
        ServiceRequest("overdue", 2, 900, due_day=-3),
        ServiceRequest("closed", 3, 900, due_day=1, day_windows={1: ((9 * 3600.0, 12 * 3600.0),)}),
        ServiceRequest("later", 4, 900, due_day=9),
    ]
    plan = plan_days([], shifts, line(5), requests=requests, time_limit=2)
    day_of = {stop.visit: day for (_, day), route in plan.routes.items() for stop in route.stops}
    assert (day_of["repair"], day_of["overdue"]) == (0, 0)
    assert day_of["later"] in (0, 2, 3)
    assert [u.visit for u in plan.unassigned] == ["closed"]


def test_rep_days_are_keys_not_parsed_names():
    """A rep id with the character the vehicle names use ("@") plans like any other:
    each route comes back under its RepDay, whatever the name looks like."""
    customers = [RecurringCustomer("c", 1, 600, 7, last_visit_day=-7)]
    plan = plan_days(customers, week(2, ("north@team",)), line(3), time_limit=1)
    assert plan.is_feasible(), plan.result.summary()
    [visit] = plan.visits
    assert visit.rep == "north@team"
    assert plan.routes[RepDay("north@team", visit.day)].stops[0].visit == "c#" + str(visit.due_day)


def test_a_fleet_maps_vehicle_names_back_to_rep_days():
    fleet = Fleet()
    assert fleet.add("a@1", 2) == RepDay("a@1", 2) == ("a@1", 2)
    fleet.add("a", 12)
    assert (fleet["a@1@2"], fleet["a@12"]) == (RepDay("a@1", 2), RepDay("a", 12))
    with pytest.raises(KeyError):
        fleet["bob@1"]  # not a vehicle of this plan


def test_when_the_day_is_too_short_the_least_valuable_is_left_out():
    """One 3-hour day, three 80-minute visits: two fit; the cheapest customer waits."""
    reps = {0: [Rep("alice", 0, 0, (8 * 3600.0, 11 * 3600.0))]}
    customers = [
        RecurringCustomer("gold", 1, 4800, 7, value=100_000),
        RecurringCustomer("silver", 2, 4800, 7, value=50_000),
        RecurringCustomer("bronze", 1, 4800, 7, value=1_000),
    ]
    plan = plan_days(customers, reps, line(3), time_limit=2)
    assert {v.customer for v in plan.visits} == {"gold", "silver"}
    assert [u.visit for u in plan.unassigned] == ["bronze#0"]


def test_customer_only_goes_to_its_territory_reps():
    customers = [RecurringCustomer("c", 1, 600, 7, reps=frozenset({"bob"}))]
    plan = plan_days(customers, week(2, ("alice", "bob")), line(3), time_limit=1)
    assert [(v.customer, v.rep) for v in plan.visits] == [("c", "bob")]


def test_reoptimize_from_the_current_position_and_time():
    """Alice did 'a' and stands at km 3 at 10:00; 'b' (km 2) and 'c' (km 4) remain."""
    problem = Problem(
        (Rep("alice", 0, 0, SHIFT, capacity=10, max_stops=3),),
        (Visit("a", 1, demand=4), Visit("b", 2, demand=4), Visit("c", 4, demand=2)),
        line(5),
    )
    result = reoptimize(problem, [Progress("alice", ("a",), position=3, now=10 * 3600.0)], time_limit=1)
    assert result.is_feasible(), result.summary()
    route = result.routes[0]
    assert {s.visit for s in route.stops} == {"b", "c"}
    assert route.start_time >= 10 * 3600
    # From km 3: to 4 then 2 then home (1+2+2 = 5 km) or 2, 4, home (1+2+4 = 7 km).
    assert [s.visit for s in route.stops] == ["c", "b"]
    assert route.distance == pytest.approx(5000)


def test_reoptimize_rejects_unknown_reps_and_visits():
    problem = Problem((Rep("alice", 0, 0, SHIFT),), (Visit("a", 1),), line(2))
    with pytest.raises(ValueError, match="unknown reps"):
        reoptimize(problem, [Progress("bob", (), 0, 0)])
    with pytest.raises(ValueError, match="do not exist"):
        reoptimize(problem, [Progress("alice", ("zzz",), 0, 0)])
