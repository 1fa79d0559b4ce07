"""The facts the reports are made of, one set-based query per source table.

Every query is bounded by the organisation, the reps in scope and the period
(`start_ts` inclusive, `end_ts` exclusive, both the organisation's midnights),
and groups by rep and by day in the organisation's time zone. Counters come
back additive (sums and counts), so the service can roll rep-days up to reps
and teams and compute each share from the sums, never as an average of shares.

Definitions (also in docs/reports.md):
- a visit belongs to the day it was planned for, an unplanned one to the day
  it was checked in; cancelled visits count nowhere;
- late: checked in more than 15 minutes after the planned start (as the
  plan adherence of one day, server/planning/adherence.py);
- missed: marked missed, or still planned after its planned end;
- productive: completed, and the customer has an order dated that day;
- drive: GPS segments of at least 2 m/s between fixes at most 10 minutes
  apart, fixes less accurate than 100 m left out;
- time in field: a working day's start to its end (an unended day: to its
  last fix that day).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.reports import rollup

__all__ = [
    "Period",
    "RepDayKey",
    "UniqueCustomers",
    "activity_facts",
    "coverage_facts",
    "pipeline_facts",
    "unique_customers",
    "unique_customers_total",
]

LATE_AFTER_MIN = 15
DRIVE_MIN_SPEED_MPS = 2.0
DRIVE_MAX_GAP_S = 600
TRACK_ACCURACY_M = 100.0

RepDayKey = tuple[uuid.UUID, date]


@dataclass(frozen=True)
class Period:
    org_id: uuid.UUID
    rep_ids: Sequence[uuid.UUID]
    timezone: str
    start_ts: datetime
    end_ts: datetime
    today: date | None = None  # in the organisation's zone: earlier days come from the roll-up

    @property
    def first_day(self) -> date:
        return self.start_ts.date()

    @property
    def last_day(self) -> date:
        return (self.end_ts - timedelta(days=1)).date()

    def params(self) -> dict[str, Any]:
        return {
            "org": self.org_id,
            "reps": list(self.rep_ids),
            "tz": self.timezone,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
        }


# A visit's day: planned visits the day they were planned for, unplanned ones the day of
# their check-in. The period test is written so that the planned_start index serves it.
VISIT_DAY = "(COALESCE(v.planned_start, v.check_in_at) AT TIME ZONE :tz)::date"
IN_PERIOD = (
    "((v.planned_start >= :start_ts AND v.planned_start < :end_ts)"
    " OR (v.planned_start IS NULL AND v.check_in_at >= :start_ts AND v.check_in_at < :end_ts))"
)
# Productive visits need the days each customer ordered: one hash join, not a lookup per visit.
_ORDERS_JOIN = """LEFT JOIN (
    SELECT DISTINCT o.customer_id, o.order_date
    FROM orders o
    WHERE o.org_id = :org AND o.deleted_at IS NULL
      AND o.order_date >= (:start_ts AT TIME ZONE :tz)::date AND o.order_date < (:end_ts AT TIME ZONE :tz)::date
) o ON o.customer_id = v.customer_id AND o.order_date = v.day"""
_PRODUCTIVE = "count(*) FILTER (WHERE v.status = 'completed' AND o.customer_id IS NOT NULL) AS productive"

_VISITS_TEMPLATE = f"""
WITH v AS (
    SELECT v.rep_id, v.customer_id, v.status, v.planned_start, v.planned_end, v.check_in_at, v.check_out_at,
           v.verification_status,
           (COALESCE(v.planned_start, v.check_in_at) AT TIME ZONE :tz)::date AS day
    FROM visits v
    WHERE v.org_id = :org AND v.rep_id IN (SELECT unnest(CAST(:reps AS uuid[])))
      AND v.deleted_at IS NULL AND v.status <> 'cancelled'
      AND {IN_PERIOD}
)
SELECT v.rep_id, v.day,
    count(*) FILTER (WHERE v.planned_start IS NOT NULL) AS planned,
    count(*) FILTER (WHERE v.planned_start IS NOT NULL AND v.status = 'completed') AS planned_done,
    count(*) FILTER (WHERE v.status = 'completed') AS visits_completed,
    count(*) FILTER (WHERE v.planned_start IS NULL AND v.status = 'completed') AS unplanned_completed,
    count(*) FILTER (WHERE v.status = 'missed' OR (v.status = 'planned' AND v.planned_end < now())) AS missed,
    count(*) FILTER (WHERE v.status = 'skipped') AS skipped,
    count(*) FILTER (
        WHERE v.check_in_at > v.planned_start + interval '{LATE_AFTER_MIN} minutes') AS late,
    COALESCE(sum(extract(epoch FROM v.check_out_at - v.check_in_at)) FILTER (
        WHERE v.status = 'completed' AND v.check_out_at > v.check_in_at), 0) AS on_site_s,
    count(*) FILTER (WHERE v.check_in_at IS NOT NULL) AS checked_in,
    count(*) FILTER (WHERE v.check_in_at IS NOT NULL AND v.verification_status = 'verified') AS verified,
    count(*) FILTER (WHERE v.check_in_at IS NOT NULL AND v.verification_status = 'unverified') AS unverified,
    count(*) FILTER (WHERE v.check_in_at IS NOT NULL AND v.verification_status = 'out_of_range') AS out_of_range,
    count(DISTINCT v.customer_id) FILTER (WHERE v.status = 'completed') AS unique_customers,
    {{PRODUCTIVE}}
FROM v {{ORDERS}}
GROUP BY v.rep_id, v.day
"""
_VISITS_WITH_ORDERS = text(_VISITS_TEMPLATE.format(PRODUCTIVE=_PRODUCTIVE, ORDERS=_ORDERS_JOIN))
_VISITS = text(_VISITS_TEMPLATE.format(PRODUCTIVE="0 AS productive", ORDERS=""))

# Distinct customers visited, by rep and day, by rep, by team and in all: a distinct count
# does not add up, so the database counts each level (GROUPING SETS) from one scan.
_UNIQUE_CUSTOMERS = """
WITH pairs AS (
    -- Distinct (key, customer) pairs by hashing, then counted: cheaper than count(DISTINCT).
    SELECT DISTINCT {columns}, v.customer_id
    FROM visits v JOIN users u ON u.id = v.rep_id
    WHERE v.org_id = :org AND v.rep_id IN (SELECT unnest(CAST(:reps AS uuid[])))
      AND v.deleted_at IS NULL AND v.status = 'completed'
      AND {in_period}
)
SELECT {names}, count(*) AS customers, false AS is_total FROM pairs GROUP BY {names}
UNION ALL
SELECT {nulls}, count(*), true FROM (SELECT DISTINCT customer_id FROM pairs) AS everyone
"""
# level -> (the key columns, named)
UNIQUE_LEVELS = {
    "day": ("v.rep_id AS rep_id, " + VISIT_DAY + " AS day", ("rep_id", "day")),
    "rep": ("v.rep_id AS rep_id", ("rep_id",)),
    "team": ("u.manager_id AS team_id", ("team_id",)),
}
_NULL_OF = {"rep_id": "NULL::uuid", "day": "NULL::date", "team_id": "NULL::uuid"}

_WORKDAYS = text("""
SELECT w.user_id AS rep_id, w.day,
    sum(extract(epoch FROM COALESCE(
        w.ended_at,
        (SELECT max(p.device_time) FROM positions p
         WHERE p.user_id = w.user_id AND p.device_time >= w.started_at
           AND p.device_time < w.started_at + interval '24 hours'),
        w.started_at) - w.started_at)) AS in_field_s
FROM workdays w
WHERE w.org_id = :org AND w.user_id = ANY(:reps) AND w.started_at >= :start_ts AND w.started_at < :end_ts
GROUP BY w.user_id, w.day
""")

_DRIVE = text(f"""
WITH fixes AS (
    SELECT p.user_id, p.device_time, p.lat, p.lon,
           lag(p.device_time) OVER w AS prev_time, lag(p.lat) OVER w AS prev_lat, lag(p.lon) OVER w AS prev_lon
    FROM positions p
    WHERE p.org_id = :org AND p.user_id = ANY(:reps) AND p.device_time >= :start_ts AND p.device_time < :end_ts
      AND (p.accuracy_m IS NULL OR p.accuracy_m <= {TRACK_ACCURACY_M}) AND p.valid
    WINDOW w AS (PARTITION BY p.user_id ORDER BY p.device_time)
), segments AS (
    SELECT user_id, (prev_time AT TIME ZONE :tz)::date AS day,
           extract(epoch FROM device_time - prev_time) AS seconds,
           ST_DistanceSphere(ST_MakePoint(prev_lon, prev_lat), ST_MakePoint(lon, lat)) AS metres
    FROM fixes WHERE prev_time IS NOT NULL
)
SELECT user_id AS rep_id, day,
    COALESCE(sum(metres) FILTER (WHERE moving), 0) AS drive_m,
    COALESCE(sum(seconds) FILTER (WHERE moving), 0) AS drive_s,
    count(*) + 1 AS fixes
FROM (
    SELECT *, seconds > 0 AND seconds <= {DRIVE_MAX_GAP_S} AND metres / seconds >= {DRIVE_MIN_SPEED_MPS} AS moving
    FROM segments
) s
GROUP BY user_id, day
""")

# A task's completion time is its status field's clock (the HLC's physical part, in
# milliseconds): every write path stamps it, the web's included.
_TASKS = text("""
SELECT t.assignee_id AS rep_id, t.day, sum(t.done) AS tasks_done, sum(t.overdue) AS tasks_overdue
FROM (
    SELECT assignee_id,
        (to_timestamp(((field_clocks -> 'status' ->> 'h')::bigint >> 16) / 1000.0) AT TIME ZONE :tz)::date AS day,
        1 AS done, 0 AS overdue
    FROM tasks
    WHERE org_id = :org AND assignee_id = ANY(:reps) AND deleted_at IS NULL AND status = 'done'
      AND field_clocks ? 'status'
      AND to_timestamp(((field_clocks -> 'status' ->> 'h')::bigint >> 16) / 1000.0) >= :start_ts
      AND to_timestamp(((field_clocks -> 'status' ->> 'h')::bigint >> 16) / 1000.0) < :end_ts
    UNION ALL
    SELECT assignee_id, (due_at AT TIME ZONE :tz)::date, 0, 1
    FROM tasks
    WHERE org_id = :org AND assignee_id = ANY(:reps) AND deleted_at IS NULL
      AND status IN ('open', 'in_progress') AND due_at < now() AND due_at >= :start_ts AND due_at < :end_ts
) t(assignee_id, day, done, overdue)
GROUP BY t.assignee_id, t.day
""")

_LEADS = text("""
SELECT owner_id AS rep_id, (created_at AT TIME ZONE :tz)::date AS day, count(*) AS leads_created
FROM customers
WHERE org_id = :org AND owner_id IN (SELECT unnest(CAST(:reps AS uuid[]))) AND deleted_at IS NULL AND status = 'lead'
  AND created_at >= :start_ts AND created_at < :end_ts
GROUP BY owner_id, day
""")

_SYNC = text("""
SELECT u.rep_id, u.day, sum(u.mutations) AS mutations, sum(u.conflicts) AS conflicts, sum(u.rejections) AS rejections
FROM (
    SELECT c.user_id AS rep_id, (r.created_at AT TIME ZONE :tz)::date AS day, 1 AS mutations, 0 AS conflicts,
           0 AS rejections
    FROM sync_mutation_results r JOIN sync_clients c ON c.client_id = r.client_id
    WHERE c.org_id = :org AND c.user_id = ANY(:reps) AND r.created_at >= :start_ts AND r.created_at < :end_ts
    UNION ALL
    SELECT user_id, (created_at AT TIME ZONE :tz)::date, 0, 1, 0
    FROM sync_conflicts
    WHERE org_id = :org AND user_id = ANY(:reps) AND created_at >= :start_ts AND created_at < :end_ts
    UNION ALL
    SELECT user_id, (created_at AT TIME ZONE :tz)::date, 0, 0, 1
    FROM sync_rejections
    WHERE org_id = :org AND user_id = ANY(:reps) AND created_at >= :start_ts AND created_at < :end_ts
) u
GROUP BY u.rep_id, u.day
""")

_LAST_SYNC = text("""
SELECT user_id AS rep_id, max(last_seen_at) AS last_sync_at
FROM sync_clients WHERE org_id = :org AND user_id = ANY(:reps) GROUP BY user_id
""")


def visits_query(with_orders: bool) -> Any:
    return _VISITS_WITH_ORDERS if with_orders else _VISITS


# The sources a report can need; a report reads only those its figures come from.
FACT_QUERIES = {
    "visits": _VISITS,
    "workdays": _WORKDAYS,
    "drive": _DRIVE,
    "tasks": _TASKS,
    "leads": _LEADS,
    "sync": _SYNC,
}
SOURCES = frozenset({*FACT_QUERIES, "orders"})


def activity_facts(
    session: Session, period: Period, sources: frozenset[str] = SOURCES
) -> dict[RepDayKey, dict[str, float]]:
    """The additive figures per (rep, day) that had any activity, from `sources` only
    ("orders" adds productive visits to "visits")."""
    facts: dict[RepDayKey, dict[str, float]] = {}
    params = period.params()
    # Room to group a whole organisation's quarter in memory rather than on disk.
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    batches: list[Any] = [
        session.execute(query, params) for name, query in FACT_QUERIES.items() if name in sources and name != "visits"
    ]
    if "visits" in sources:
        batches.extend(_visit_rows(session, period, with_orders="orders" in sources))
    for result in batches:
        # Every query answers (rep_id, day, figures...): the names are read once per batch.
        names = list(result.keys())[2:]
        for rep_id, day, *values in result:
            figures = facts.setdefault((rep_id, day), {})
            for name, value in zip(names, values, strict=True):
                if value is not None:
                    figures[name] = figures.get(name, 0.0) + float(value)
    return facts


def _visit_rows(session: Session, period: Period, with_orders: bool) -> list[Any]:
    """Closed days from the roll-up (refreshed first), today and later from the visits."""
    closed = rollup.closed_days(period.first_day, period.last_day, period.today) if period.today else None
    if closed is None:
        return [session.execute(visits_query(with_orders), period.params())]
    rollup.ensure_covered(session, _VISITS_WITH_ORDERS, period.org_id, period.timezone, *closed)
    batches: list[Any] = [rollup.read(session, period.org_id, list(period.rep_ids), *closed)]
    if period.last_day > closed[1]:
        today = datetime.combine(closed[1] + timedelta(days=1), time(0), ZoneInfo(period.timezone))
        live = replace(period, start_ts=today)
        batches.append(session.execute(visits_query(with_orders), live.params()))
    return batches


@dataclass(frozen=True)
class UniqueCustomers:
    """Distinct customers visited at each level of roll-up."""

    by_rep_day: dict[RepDayKey, int]
    by_rep: dict[uuid.UUID, int]
    by_team: dict[uuid.UUID | None, int]
    total: int


_UNIQUE_TOTAL = f"""
SELECT count(*) FROM (
    SELECT DISTINCT v.customer_id FROM visits v
    WHERE v.org_id = :org AND v.rep_id IN (SELECT unnest(CAST(:reps AS uuid[])))
      AND v.deleted_at IS NULL AND v.status = 'completed' AND {IN_PERIOD}
) AS everyone
"""


def unique_customers_total(session: Session, period: Period) -> int:
    """Distinct customers visited in the whole period (by rep and day, the visits' facts
    carry each rep-day's own count)."""
    return int(session.execute(text(_UNIQUE_TOTAL), period.params()).scalar() or 0)


def unique_customers(session: Session, period: Period, level: str) -> UniqueCustomers:
    """Distinct customers visited by `level` ("day": rep and day, "rep" or "team"), and in all."""
    by_rep_day: dict[RepDayKey, int] = {}
    by_rep: dict[uuid.UUID, int] = {}
    by_team: dict[uuid.UUID | None, int] = {}
    total = 0
    columns, names = UNIQUE_LEVELS[level]
    query = text(
        _UNIQUE_CUSTOMERS.format(
            columns=columns,
            names=", ".join(names),
            nulls=", ".join(f"{_NULL_OF[name]} AS {name}" for name in names),
            in_period=IN_PERIOD,
        )
    )
    for r in session.execute(query, period.params()).mappings():
        if r["is_total"]:
            total = int(r["customers"])
        elif level == "day":
            by_rep_day[(r["rep_id"], r["day"])] = int(r["customers"])
        elif level == "rep":
            by_rep[r["rep_id"]] = int(r["customers"])
        else:
            by_team[r["team_id"]] = int(r["customers"])
    return UniqueCustomers(by_rep_day, by_rep, by_team, total)


def last_sync(session: Session, period: Period) -> dict[uuid.UUID, datetime]:
    return {r.rep_id: r.last_sync_at for r in session.execute(_LAST_SYNC, period.params())}


_COVERAGE = text("""
WITH seen AS (
    -- Each customer's last completed visit before the period's end: one pass over the visits.
    SELECT v.customer_id, max(COALESCE(v.check_in_at, v.planned_start)) AS last_at
    FROM visits v
    WHERE v.org_id = :org AND v.status = 'completed' AND v.deleted_at IS NULL
      AND COALESCE(v.check_in_at, v.planned_start) < :end_ts
    GROUP BY v.customer_id
)
SELECT c.owner_id AS rep_id, c.tier::text AS tier,
    count(*) AS customers,
    count(*) FILTER (WHERE seen.last_at IS NOT NULL
        AND seen.last_at >= :end_ts - make_interval(days => COALESCE(c.visit_frequency_days,
            (:frequencies ::jsonb ->> c.tier::text)::int))) AS seen_in_time
FROM customers c
LEFT JOIN seen ON seen.customer_id = c.id
WHERE c.org_id = :org AND c.owner_id IN (SELECT unnest(CAST(:reps AS uuid[])))
  AND c.deleted_at IS NULL AND c.status IN ('customer', 'prospect')
GROUP BY c.owner_id, c.tier
""")

_PIPELINE = text("""
SELECT c.owner_id AS rep_id, o.stage::text AS stage, count(*) AS opportunities, COALESCE(sum(o.amount), 0) AS amount
FROM opportunities o JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
WHERE o.org_id = :org AND c.owner_id IN (SELECT unnest(CAST(:reps AS uuid[])))
  AND o.deleted_at IS NULL AND c.deleted_at IS NULL
GROUP BY c.owner_id, o.stage
""")


def coverage_facts(
    session: Session, period: Period, frequencies: dict[str, int]
) -> dict[tuple[uuid.UUID, str], tuple[int, int]]:
    """(rep, tier) -> (customers, seen within their frequency before the period's end)."""
    import json

    params = period.params() | {"frequencies": json.dumps(frequencies)}
    return {(r.rep_id, r.tier): (int(r.customers), int(r.seen_in_time)) for r in session.execute(_COVERAGE, params)}


def pipeline_facts(session: Session, period: Period) -> dict[tuple[uuid.UUID, str], tuple[int, float]]:
    """(rep, stage) -> (opportunities, amount) of the customers each rep owns, as they stand."""
    return {
        (r.rep_id, r.stage): (int(r.opportunities), float(r.amount))
        for r in session.execute(_PIPELINE, period.params())
    }
