"""The one translation between the organisation's rows and `routing`'s planning types.

Pure: no database, no clock. The repository reads rows into the `*Row` types
below; `build_problem` turns them into what `routing.planning.plan_days`
takes; `PlanningProblem.instant` turns a planned (day, seconds) back into an
instant. Dates and time zones are handled here and nowhere else:

- day d of a plan is the local date `start_date + d` in the organisation's zone;
- times inside a day are local wall-clock seconds from midnight, so a rep who
  starts at 08:00 starts at 08:00 on the day the clocks change too; only the
  conversion back to an instant (`instant`) knows about offsets.

What PLANNING.md says, and where it happens here:
- frequency: the customer's own, else the tier's from the settings;
- service time: the customer's own, else the tier's;
- last seen: the local date of `last_visit_at` (never seen: due now);
- windows per weekday; a customer with windows on some weekdays is closed on
  the others, one with none accepts visits any time in the rep's hours;
- a rep's day: their working hours that weekday (none: not working), less
  their absences and the organisation's holidays; gaps between working spans
  are breaks at fixed times; lunch from the settings unless a gap already
  covers its window;
- the day starts and ends at home, else at the centre of the rep's territory;
- fixed visits keep their own start and end, on their rep's day;
- an open service request is a visit due by its task's due date;
- a customer no planned rep may visit is reported (`no_rep`), not planned.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.model import Break, Rep, Window
from routing.planning import Appointment, RecurringCustomer, ServiceRequest
from shared.enums import WEEKDAYS, Tier

WeeklySpans = Mapping[str, Sequence[Sequence[str]]]  # {"mon": [["08:00", "12:00"], ...]}
LatLon = tuple[float, float]


@dataclass(frozen=True)
class PlanningSettings:
    zone: ZoneInfo
    visit_frequency_days: Mapping[Tier, int]
    service_minutes: Mapping[Tier, int]
    lunch_window: tuple[str, str]
    lunch_minutes: int


@dataclass(frozen=True)
class RepRow:
    id: uuid.UUID
    working_hours: WeeklySpans
    home: LatLon | None
    territory_centre: LatLon | None


@dataclass(frozen=True)
class AbsenceRow:
    user_id: uuid.UUID | None  # None: the whole organisation
    starts_on: date
    ends_on: date  # inclusive


@dataclass(frozen=True)
class CustomerRow:
    id: uuid.UUID
    location: LatLon
    tier: Tier
    rep_ids: frozenset[uuid.UUID]  # who may visit: the territory's reps, or the owner
    visit_frequency_days: int | None = None
    service_minutes: int | None = None
    last_visit_at: datetime | None = None
    visit_windows: WeeklySpans = field(default_factory=dict)
    annual_revenue: float = 0.0


@dataclass(frozen=True)
class FixedVisitRow:
    id: uuid.UUID
    customer_id: uuid.UUID
    rep_id: uuid.UUID
    location: LatLon
    planned_start: datetime
    planned_end: datetime


@dataclass(frozen=True)
class ServiceRequestRow:
    """An open task of kind `service_request` with a customer: a visit due by `due_at`."""

    id: uuid.UUID  # the task's
    customer: CustomerRow
    due_at: datetime


@dataclass(frozen=True)
class PlanningInput:
    settings: PlanningSettings
    start_date: date
    days: int
    reps: Sequence[RepRow]
    absences: Sequence[AbsenceRow] = ()
    customers: Sequence[CustomerRow] = ()
    fixed_visits: Sequence[FixedVisitRow] = ()
    service_requests: Sequence[ServiceRequestRow] = ()
    watermark: str = ""  # a digest of the rows read (the repository's), for PLAN_STALE


@dataclass
class PlanningProblem:
    """`plan_days`' arguments, and the way back from its answer to the rows."""

    start_date: date
    zone: ZoneInfo
    customers: list[RecurringCustomer]
    shifts: dict[int, list[Rep]]
    appointments: list[Appointment]
    requests: list[ServiceRequest]
    points: list[LatLon]  # location index -> (lat, lon)
    no_rep: list[uuid.UUID]  # customers no planned rep may visit
    reps_without_start: list[uuid.UUID]  # no home and no territory: not planned

    def instant(self, day: int, seconds: float) -> datetime:
        """A planned time (day of the plan, local seconds from midnight) as an aware instant."""
        local_midnight = datetime.combine(self.start_date + timedelta(days=day), time(0), tzinfo=self.zone)
        # Adding to an aware datetime moves its wall clock: 09:00 stays 09:00 on a day the clocks change.
        return local_midnight + timedelta(seconds=seconds)

    def lon_lat_points(self) -> list[tuple[float, float]]:
        """The locations in the [lon, lat] order of `routing.travel`."""
        return [(lon, lat) for lat, lon in self.points]


def seconds_of(clock: str) -> float:
    """ "08:30" -> 30600.0; "24:00" is the end of the day."""
    hours, minutes = clock.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def seconds_of_day(moment: datetime) -> float:
    """Wall-clock seconds since local midnight of an aware instant already in the zone wanted."""
    return moment.hour * 3600.0 + moment.minute * 60.0 + moment.second + moment.microsecond / 1e6


def local_day(moment: datetime, start_date: date, zone: ZoneInfo) -> int:
    """The plan day (negative before the plan) of an instant, by its local date."""
    return (moment.astimezone(zone).date() - start_date).days


def weekday_of(start_date: date, day: int) -> str:
    return WEEKDAYS[(start_date + timedelta(days=day)).weekday()]


def spans_on(weekly: WeeklySpans, weekday: str) -> list[Window]:
    """The day's spans in seconds, in order; empty when none are given that weekday."""
    return sorted((seconds_of(a), seconds_of(b)) for a, b in weekly.get(weekday, []))


def rep_day(rep_id: str, start: int, spans: list[Window], settings: PlanningSettings) -> Rep:
    """One working day: the shift from the first span's start to the last one's end; every gap
    between spans a break at its fixed time; the lunch unless a gap overlaps its window."""
    shift = (spans[0][0], spans[-1][1])
    gaps = [(spans[k][1], spans[k + 1][0]) for k in range(len(spans) - 1) if spans[k + 1][0] > spans[k][1]]
    breaks = [Break((opens, opens), closes - opens) for opens, closes in gaps]
    lunch_from, lunch_to = (seconds_of(t) for t in settings.lunch_window)
    lunch_in_a_gap = any(opens < lunch_to and closes > lunch_from for opens, closes in gaps)
    lunch_fits = shift[0] <= lunch_from and lunch_to <= shift[1]
    if not lunch_in_a_gap and lunch_fits:
        breaks.append(Break((lunch_from, lunch_to), settings.lunch_minutes * 60.0))
    return Rep(rep_id, start, start, shift, breaks=tuple(sorted(breaks, key=lambda b: b.window)))


def _days_off(absences: Sequence[AbsenceRow], rep: uuid.UUID, start_date: date, days: int) -> set[int]:
    off: set[int] = set()
    for absence in absences:
        if absence.user_id not in (None, rep):
            continue
        first = max(0, (absence.starts_on - start_date).days)
        last = min(days - 1, (absence.ends_on - start_date).days)
        off.update(range(first, last + 1))
    return off


def build_problem(data: PlanningInput) -> PlanningProblem:
    settings, start_date, days = data.settings, data.start_date, data.days
    points: list[LatLon] = []

    def location(point: LatLon) -> int:
        points.append(point)
        return len(points) - 1

    shifts: dict[int, list[Rep]] = {}
    planned_reps: set[uuid.UUID] = set()
    reps_without_start: list[uuid.UUID] = []
    for rep in data.reps:
        home = rep.home or rep.territory_centre
        if home is None:
            reps_without_start.append(rep.id)
            continue
        start = location(home)
        planned_reps.add(rep.id)
        off = _days_off(data.absences, rep.id, start_date, days)
        for day in range(days):
            spans = spans_on(rep.working_hours, weekday_of(start_date, day))
            if spans and day not in off:
                shifts.setdefault(day, []).append(rep_day(str(rep.id), start, spans, settings))

    customers: list[RecurringCustomer] = []
    no_rep: list[uuid.UUID] = []
    customer_location: dict[uuid.UUID, int] = {}
    for row in data.customers:
        allowed = row.rep_ids & planned_reps
        if not allowed:
            no_rep.append(row.id)
            continue
        customer_location[row.id] = location(row.location)
        customers.append(
            RecurringCustomer(
                str(row.id),
                customer_location[row.id],
                service=_service_seconds(row, settings),
                frequency_days=row.visit_frequency_days or settings.visit_frequency_days[row.tier],
                last_visit_day=None
                if row.last_visit_at is None
                else local_day(row.last_visit_at, start_date, settings.zone),
                day_windows=_day_windows(row.visit_windows, start_date, days),
                value=row.annual_revenue,
                reps=frozenset(str(rep) for rep in allowed),
            )
        )

    appointments = []
    for visit in data.fixed_visits:
        day = local_day(visit.planned_start, start_date, settings.zone)
        working = {rep.id for rep in shifts.get(day, [])}
        if not 0 <= day < days or str(visit.rep_id) not in working:
            continue  # outside the horizon, or its rep is not planned that day: it stays as it is
        begins = seconds_of_day(visit.planned_start.astimezone(settings.zone))
        where = customer_location.get(visit.customer_id)
        appointments.append(
            Appointment(
                str(visit.id),
                where if where is not None else location(visit.location),
                day,
                str(visit.rep_id),
                (begins, begins),  # it keeps its own start ...
                service=(visit.planned_end - visit.planned_start).total_seconds(),  # ... and its own end
            )
        )
    requests = []
    for request in data.service_requests:
        row = request.customer
        allowed = row.rep_ids & planned_reps
        if not allowed:
            no_rep.append(row.id)
            continue
        if row.id not in customer_location:
            customer_location[row.id] = location(row.location)
        requests.append(
            ServiceRequest(
                str(request.id),
                customer_location[row.id],
                service=_service_seconds(row, settings),
                due_day=local_day(request.due_at, start_date, settings.zone),
                day_windows=_day_windows(row.visit_windows, start_date, days),
                reps=frozenset(str(rep) for rep in allowed),
            )
        )
    return PlanningProblem(
        start_date, settings.zone, customers, shifts, appointments, requests, points, no_rep, reps_without_start
    )


def _service_seconds(row: CustomerRow, settings: PlanningSettings) -> float:
    """The customer's own time on site, else its tier's."""
    return 60.0 * (row.service_minutes or settings.service_minutes[row.tier])


def _day_windows(weekly: WeeklySpans, start_date: date, days: int) -> dict[int, tuple[Window, ...]] | None:
    """None (any time) for a customer with no windows; else each plan day's windows by its weekday."""
    if not any(weekly.values()):
        return None
    return {day: tuple(spans_on(weekly, weekday_of(start_date, day))) for day in range(days)}


__all__ = [
    "AbsenceRow",
    "CustomerRow",
    "FixedVisitRow",
    "PlanningInput",
    "PlanningProblem",
    "PlanningSettings",
    "RepRow",
    "ServiceRequestRow",
    "build_problem",
    "local_day",
]
