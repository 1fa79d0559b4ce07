"""From rows to `plan_days`' arguments, on hand-made organisations whose answer is known.

The week used throughout starts on Monday 2027-03-29 in Europe/Paris; the clocks
went forward (+01:00 -> +02:00) the day before, on Sunday 2027-03-28."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from routing import HaversineTravel
from routing.model import Break
from routing.planning import RepDay, plan_days
from server.planning.problem import (
    AbsenceRow,
    CustomerRow,
    FixedVisitRow,
    PlanningInput,
    PlanningSettings,
    RepRow,
    ServiceRequestRow,
    build_problem,
)
from shared.enums import Tier

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2027, 3, 29)
SETTINGS = PlanningSettings(
    zone=PARIS,
    visit_frequency_days={Tier.A: 14, Tier.B: 28, Tier.C: 56},
    service_minutes={Tier.A: 45, Tier.B: 30, Tier.C: 20},
    lunch_window=("12:00", "14:00"),
    lunch_minutes=45,
)
WEEKDAYS_8_TO_5 = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
LYON = (45.764, 4.836)
ALICE, BOB = uuid.UUID(int=1), uuid.UUID(int=2)


def rep(rep_id: uuid.UUID = ALICE, hours: dict[str, list[list[str]]] | None = None) -> RepRow:
    return RepRow(rep_id, hours if hours is not None else WEEKDAYS_8_TO_5, LYON, None)


def customer(number: int, **fields: object) -> CustomerRow:
    spot = (LYON[0] + 0.002 * number, LYON[1])
    return CustomerRow(uuid.UUID(int=100 + number), spot, fields.pop("tier", Tier.B), frozenset({ALICE}), **fields)  # type: ignore[arg-type]


def test_due_dates_count_local_days_across_a_month_boundary() -> None:
    """Tier B (28 days), last seen Wednesday 3 March: due Wednesday 31 March, day 2, and
    may be seen up to 9 days early (days 0-2 of this plan). Tier A set to 7 days by the
    customer, last seen on 26 March (a Friday): due Friday 2 April, day 4."""
    built = build_problem(
        PlanningInput(
            SETTINGS,
            MONDAY,
            5,
            reps=[rep()],
            customers=[
                customer(1, last_visit_at=datetime(2027, 3, 3, 15, 0, tzinfo=PARIS)),
                customer(2, tier=Tier.A, visit_frequency_days=7, last_visit_at=datetime(2027, 3, 26, 9, tzinfo=PARIS)),
            ],
        )
    )
    first, second = built.customers
    assert (first.last_visit_day, first.frequency_days, first.service) == (-26, 28, 30 * 60.0)
    assert first.due_days(5) == [(2, [0, 1, 2])]
    assert (second.last_visit_day, second.frequency_days, second.service) == (-3, 7, 45 * 60.0)
    assert second.due_days(5) == [(4, [2, 3, 4])]


def test_a_last_visit_counts_by_its_local_date_and_planned_times_keep_the_wall_clock() -> None:
    """00:30 on Monday in Paris is still Sunday in UTC: the visit was on day 0, not day -1.
    09:00 on the Sunday the clocks changed is 07:00 UTC; on the Saturday before, 08:00 UTC."""
    late = datetime(2027, 3, 29, 0, 30, tzinfo=PARIS)
    assert late.astimezone(UTC).date() == date(2027, 3, 28)
    built = build_problem(PlanningInput(SETTINGS, MONDAY, 5, reps=[rep()], customers=[customer(1, last_visit_at=late)]))
    assert built.customers[0].last_visit_day == 0
    weekend = build_problem(PlanningInput(SETTINGS, date(2027, 3, 27), 2, reps=[rep()]))
    assert weekend.instant(0, 9 * 3600).astimezone(UTC).hour == 8
    assert weekend.instant(1, 9 * 3600).astimezone(UTC).hour == 7


def test_visit_windows_follow_the_weekday_and_close_the_other_days() -> None:
    tuesday_afternoon = customer(1, visit_windows={"tue": [["14:00", "16:00"]]})
    any_time = customer(2)
    built = build_problem(PlanningInput(SETTINGS, MONDAY, 5, reps=[rep()], customers=[tuesday_afternoon, any_time]))
    windows, anytime = built.customers
    assert windows.day_windows == {0: (), 1: ((14 * 3600.0, 16 * 3600.0),), 2: (), 3: (), 4: ()}
    assert anytime.day_windows is None


def test_no_hours_on_wednesday_an_absence_and_a_holiday_take_days_away() -> None:
    """Alice works Monday to Friday but has Thursday off; Bob never works on Wednesday;
    the organisation is closed on Friday."""
    no_wednesday = {day: spans for day, spans in WEEKDAYS_8_TO_5.items() if day != "wed"}
    built = build_problem(
        PlanningInput(
            SETTINGS,
            MONDAY,
            5,
            reps=[rep(ALICE), rep(BOB, no_wednesday)],
            absences=[
                AbsenceRow(ALICE, date(2027, 4, 1), date(2027, 4, 1)),
                AbsenceRow(None, date(2027, 4, 2), date(2027, 4, 2)),
            ],
        )
    )
    working = {day: sorted(r.id for r in reps) for day, reps in built.shifts.items()}
    assert working == {0: [str(ALICE), str(BOB)], 1: [str(ALICE), str(BOB)], 2: [str(ALICE)], 3: [str(BOB)]}


def test_gaps_in_working_hours_are_breaks_and_the_lunch_comes_from_the_settings() -> None:
    split = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "17:00"]]}
    built = build_problem(PlanningInput(SETTINGS, MONDAY, 2, reps=[rep(hours=split)]))
    [monday], [tuesday] = built.shifts[0], built.shifts[1]
    assert monday.shift == (8 * 3600.0, 17 * 3600.0)
    assert monday.breaks == (Break((12 * 3600.0, 12 * 3600.0), 3600.0),)  # the gap is the lunch
    assert tuesday.breaks == (Break((12 * 3600.0, 14 * 3600.0), 45 * 60.0),)


def test_a_fixed_visit_keeps_its_own_start_and_end() -> None:
    visit = FixedVisitRow(
        uuid.UUID(int=900),
        uuid.UUID(int=101),
        ALICE,
        LYON,
        datetime(2027, 3, 30, 10, 0, tzinfo=PARIS),
        datetime(2027, 3, 30, 10, 45, tzinfo=PARIS),
    )
    built = build_problem(
        PlanningInput(SETTINGS, MONDAY, 5, reps=[rep()], customers=[customer(1)], fixed_visits=[visit])
    )
    [appointment] = built.appointments
    assert (appointment.day, appointment.rep, appointment.window, appointment.service) == (
        1,
        str(ALICE),
        (10 * 3600.0, 10 * 3600.0),
        45 * 60.0,
    )
    assert appointment.location == built.customers[0].location  # the customer's own point, not a copy


def test_who_cannot_be_planned_is_reported() -> None:
    """A customer whose reps are not in the run has no rep; a rep with no home and no territory
    has nowhere to start; a rep without a home starts at their territory's centre."""
    orphan = CustomerRow(uuid.UUID(int=500), LYON, Tier.C, frozenset({uuid.UUID(int=77)}))
    centre = (45.75, 4.85)
    built = build_problem(
        PlanningInput(
            SETTINGS,
            MONDAY,
            1,
            reps=[RepRow(ALICE, WEEKDAYS_8_TO_5, None, centre), RepRow(BOB, WEEKDAYS_8_TO_5, None, None)],
            customers=[orphan],
        )
    )
    assert (built.no_rep, built.reps_without_start) == ([orphan.id], [BOB])
    assert built.points[built.shifts[0][0].start] == centre


def test_the_plan_keeps_the_rules_end_to_end() -> None:
    """Solved for real: nothing on the day Alice does not work, the Tuesday-afternoon customer
    on Tuesday afternoon, the fixed visit at its time."""
    no_wednesday = {day: spans for day, spans in WEEKDAYS_8_TO_5.items() if day != "wed"}
    customers = [customer(n) for n in range(1, 6)] + [customer(6, visit_windows={"tue": [["14:00", "16:00"]]})]
    fixed = FixedVisitRow(
        uuid.UUID(int=900),
        customers[0].id,
        ALICE,
        customers[0].location,
        datetime(2027, 4, 1, 11, 0, tzinfo=PARIS),
        datetime(2027, 4, 1, 11, 30, tzinfo=PARIS),
    )
    built = build_problem(
        PlanningInput(SETTINGS, MONDAY, 5, reps=[rep(hours=no_wednesday)], customers=customers, fixed_visits=[fixed])
    )
    plan = plan_days(
        built.customers,
        built.shifts,
        HaversineTravel(built.lon_lat_points()),
        appointments=built.appointments,
        time_limit=2,
    )
    assert plan.is_feasible(), plan.result.summary()
    assert all(visit.day != 2 for visit in plan.visits)
    tuesday_only = next(v for v in plan.visits if v.customer == str(customers[5].id))
    assert tuesday_only.day == 1 and 14 * 3600 <= tuesday_only.start <= 16 * 3600
    thursday = plan.routes[RepDay(str(ALICE), 3)]
    kept = next(stop for stop in thursday.stops if stop.visit == str(fixed.id))
    assert kept.start == 11 * 3600
    assert built.instant(3, kept.start) == datetime(2027, 4, 1, 11, 0, tzinfo=PARIS)
    assert built.instant(3, kept.start).utcoffset() == timedelta(hours=2)


def test_a_service_request_is_planned_by_its_due_date() -> None:
    """A repair due Tuesday evening, at a customer open any time: planned Monday or Tuesday.
    Alice does not work on Monday, so Tuesday it is, and the request counts local days."""
    no_monday = {day: spans for day, spans in WEEKDAYS_8_TO_5.items() if day != "mon"}
    repair = ServiceRequestRow(uuid.UUID(int=700), customer(3), datetime(2027, 3, 30, 23, 30, tzinfo=PARIS))
    built = build_problem(PlanningInput(SETTINGS, MONDAY, 5, reps=[rep(hours=no_monday)], service_requests=[repair]))
    [request] = built.requests
    assert (request.due_day, request.service, request.reps) == (1, 30 * 60.0, frozenset({str(ALICE)}))
    plan = plan_days(
        [],
        built.shifts,
        HaversineTravel(built.lon_lat_points()),
        requests=built.requests,
        time_limit=1,
    )
    days = {day for (_, day), route in plan.routes.items() for stop in route.stops if stop.visit == str(repair.id)}
    assert days == {1}
