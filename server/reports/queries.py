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
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["Period", "RepDayKey", "activity_facts", "coverage_facts", "pipeline_facts", "unique_customer_visits"]

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

    def params(self) -> dict[str, Any]:
        return {
            "org": self.org_id,
            "reps": list(self.rep_ids),
            "tz": self.timezone,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
        }


_VISITS = text(f"""
WITH v AS (
    SELECT v.rep_id, v.customer_id, v.status, v.planned_start, v.planned_end, v.check_in_at, v.check_out_at,
           v.verification_status,
           (COALESCE(v.planned_start, v.check_in_at) AT TIME ZONE :tz)::date AS day
    FROM visits v
    WHERE v.org_id = :org AND v.rep_id = ANY(:reps) AND v.deleted_at IS NULL AND v.status <> 'cancelled'
      AND COALESCE(v.planned_start, v.check_in_at) >= :start_ts
      AND COALESCE(v.planned_start, v.check_in_at) < :end_ts
)
SELECT rep_id, day,
    count(*) FILTER (WHERE planned_start IS NOT NULL) AS planned,
    count(*) FILTER (WHERE planned_start IS NOT NULL AND status = 'completed') AS planned_done,
    count(*) FILTER (WHERE status = 'completed') AS visits_completed,
    count(*) FILTER (WHERE planned_start IS NULL AND status = 'completed') AS unplanned_completed,
    count(*) FILTER (WHERE status = 'missed' OR (status = 'planned' AND planned_end < now())) AS missed,
    count(*) FILTER (WHERE status = 'skipped') AS skipped,
    count(*) FILTER (
        WHERE check_in_at > planned_start + interval '{LATE_AFTER_MIN} minutes') AS late,
    COALESCE(sum(extract(epoch FROM check_out_at - check_in_at)) FILTER (
        WHERE status = 'completed' AND check_out_at > check_in_at), 0) AS on_site_s,
    count(*) FILTER (WHERE check_in_at IS NOT NULL) AS checked_in,
    count(*) FILTER (WHERE check_in_at IS NOT NULL AND verification_status = 'verified') AS verified,
    count(*) FILTER (WHERE check_in_at IS NOT NULL AND verification_status = 'unverified') AS unverified,
    count(*) FILTER (WHERE check_in_at IS NOT NULL AND verification_status = 'out_of_range') AS out_of_range,
    count(*) FILTER (WHERE status = 'completed' AND EXISTS (
        SELECT 1 FROM orders o
        WHERE o.org_id = :org AND o.customer_id = v.customer_id AND o.order_date = v.day AND o.deleted_at IS NULL
    )) AS productive
FROM v
GROUP BY rep_id, day
""")

_UNIQUE_CUSTOMERS = text("""
SELECT DISTINCT v.rep_id, (COALESCE(v.planned_start, v.check_in_at) AT TIME ZONE :tz)::date AS day, v.customer_id
FROM visits v
WHERE v.org_id = :org AND v.rep_id = ANY(:reps) AND v.deleted_at IS NULL AND v.status = 'completed'
  AND COALESCE(v.planned_start, v.check_in_at) >= :start_ts
  AND COALESCE(v.planned_start, v.check_in_at) < :end_ts
""")

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
      AND (p.accuracy_m IS NULL OR p.accuracy_m <= {TRACK_ACCURACY_M})
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
WHERE org_id = :org AND owner_id = ANY(:reps) AND deleted_at IS NULL AND status = 'lead'
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

FACT_QUERIES = (_VISITS, _WORKDAYS, _DRIVE, _TASKS, _LEADS, _SYNC)


def activity_facts(session: Session, period: Period) -> dict[RepDayKey, dict[str, float]]:
    """Every additive figure per (rep, day) that had any activity."""
    facts: dict[RepDayKey, dict[str, float]] = {}
    params = period.params()
    for query in FACT_QUERIES:
        for row in session.execute(query, params).mappings():
            key = (row["rep_id"], row["day"])
            figures = facts.setdefault(key, {})
            for name, value in row.items():
                if name not in ("rep_id", "day") and value is not None:
                    figures[name] = figures.get(name, 0.0) + float(value)
    return facts


def unique_customer_visits(session: Session, period: Period) -> set[tuple[uuid.UUID, date, uuid.UUID]]:
    """(rep, day, customer) of completed visits: "unique customers" is a distinct count, which
    does not add up across days."""
    return {(r.rep_id, r.day, r.customer_id) for r in session.execute(_UNIQUE_CUSTOMERS, period.params())}


def last_sync(session: Session, period: Period) -> dict[uuid.UUID, datetime]:
    return {r.rep_id: r.last_sync_at for r in session.execute(_LAST_SYNC, period.params())}


_COVERAGE = text("""
SELECT c.owner_id AS rep_id, c.tier::text AS tier,
    count(*) AS customers,
    count(*) FILTER (WHERE seen.last_at IS NOT NULL
        AND seen.last_at >= :end_ts - make_interval(days => COALESCE(c.visit_frequency_days,
            (:frequencies ::jsonb ->> c.tier::text)::int))) AS seen_in_time
FROM customers c
LEFT JOIN LATERAL (
    SELECT max(COALESCE(v.check_in_at, v.planned_start)) AS last_at FROM visits v
    WHERE v.org_id = :org AND v.customer_id = c.id AND v.status = 'completed' AND v.deleted_at IS NULL
      AND COALESCE(v.check_in_at, v.planned_start) < :end_ts
) seen ON true
WHERE c.org_id = :org AND c.owner_id = ANY(:reps) AND c.deleted_at IS NULL AND c.status IN ('customer', 'prospect')
GROUP BY c.owner_id, c.tier
""")

_PIPELINE = text("""
SELECT c.owner_id AS rep_id, o.stage::text AS stage, count(*) AS opportunities, COALESCE(sum(o.amount), 0) AS amount
FROM opportunities o JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
WHERE o.org_id = :org AND c.owner_id = ANY(:reps) AND o.deleted_at IS NULL AND c.deleted_at IS NULL
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
