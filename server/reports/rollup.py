"""The visits of closed days, summed once by rep and day.

A quarter of a 200-rep organisation is about 200,000 visits: summing them on every
report costs half a second. Days before today (in the organisation's time zone) no
longer change except through an edit, and every edit of a visit or an order marks the
rep-days it touches (triggers of migration 0013). So a report:

1. recomputes the marked rep-days the roll-up covers;
2. extends the covered range to the closed days it asks for;
3. reads the closed days from the roll-up and only today (and later) from the visits.

One organisation's roll-up is refreshed by one request at a time (a transaction-scoped
advisory lock); the refresh runs in the report's own transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.models import ReportDirtyDay, ReportRollup, ReportVisitDay, User

__all__ = ["COUNTERS", "closed_days", "ensure_covered", "read"]

COUNTERS = (
    "planned",
    "planned_done",
    "visits_completed",
    "unplanned_completed",
    "missed",
    "skipped",
    "late",
    "on_site_s",
    "checked_in",
    "verified",
    "unverified",
    "out_of_range",
    "productive",
    "unique_customers",
)


def closed_days(start: date, end: date, today: date) -> tuple[date, date] | None:
    """The part of [start, end] before today, if any."""
    last = min(end, today - timedelta(days=1))
    return (start, last) if start <= last else None


def ensure_covered(
    session: Session, visits_query: Any, org_id: uuid.UUID, timezone: str, first: date, last: date
) -> None:
    """Make the roll-up hold every rep-day of [first, last], fresh. `visits_query` is the
    visits' figures with productive visits (server/reports/queries.py: their one definition)."""
    # One builder per organisation at a time, the very first one included (there is no
    # row to lock yet then): two reports at once wait, then find the work done.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('report_rollup:' || :org))"), {"org": str(org_id)})
    state = session.scalar(select(ReportRollup).where(ReportRollup.org_id == org_id))
    if state is not None and state.timezone != timezone:
        # Days are cut at the organisation's midnight: another zone means other days.
        session.execute(text("DELETE FROM report_visit_days WHERE org_id = :org"), {"org": org_id})
        session.delete(state)
        session.flush()
        state = None
    if state is None:
        session.execute(delete(ReportDirtyDay).where(ReportDirtyDay.org_id == org_id))
        _build(session, visits_query, org_id, timezone, first, last, None)
        session.add(ReportRollup(org_id=org_id, timezone=timezone, first_day=first, last_day=last))
        session.flush()
        return
    dirty = session.execute(
        delete(ReportDirtyDay)
        .where(ReportDirtyDay.org_id == org_id)
        .returning(ReportDirtyDay.rep_id, ReportDirtyDay.day)
    ).all()
    stale = [(rep, day) for rep, day in dirty if state.first_day <= day <= state.last_day]
    if stale:
        _build(session, visits_query, org_id, timezone, min(d for _r, d in stale), max(d for _r, d in stale), stale)
    if first < state.first_day:
        _build(session, visits_query, org_id, timezone, first, state.first_day - timedelta(days=1), None)
        state.first_day = first
    if last > state.last_day:
        _build(session, visits_query, org_id, timezone, state.last_day + timedelta(days=1), last, None)
        state.last_day = last
    session.flush()


def _build(
    session: Session,
    visits_query: Any,
    org_id: uuid.UUID,
    timezone: str,
    first: date,
    last: date,
    only: list[tuple[uuid.UUID, date]] | None,
) -> None:
    """(Re)compute the rep-days of [first, last] (only the pairs `only`, when given)."""
    zone = ZoneInfo(timezone)
    reps = sorted({rep for rep, _day in only}) if only is not None else None
    params = {
        "org": org_id,
        "reps": reps if reps is not None else list(session.scalars(select(User.id).where(User.org_id == org_id))),
        "tz": timezone,
        "start_ts": datetime.combine(first, time(0), zone),
        "end_ts": datetime.combine(last + timedelta(days=1), time(0), zone),
    }
    rows = [dict(row) for row in session.execute(visits_query, params).mappings()]
    if only is not None:
        wanted = set(only)
        rows = [row for row in rows if (row["rep_id"], row["day"]) in wanted]
        pairs = [{"rep": rep, "day": day} for rep, day in only]
        session.execute(
            text("DELETE FROM report_visit_days WHERE org_id = :org AND rep_id = :rep AND day = :day"),
            [{"org": org_id, **pair} for pair in pairs],
        )
    else:
        session.execute(
            text("DELETE FROM report_visit_days WHERE org_id = :org AND day BETWEEN :first AND :last"),
            {"org": org_id, "first": first, "last": last},
        )
    if rows:
        values = [{"org_id": org_id, "rep_id": row["rep_id"], "day": row["day"], **_counters(row)} for row in rows]
        # 16 columns a row: 2,000 rows stay well under PostgreSQL's 65,535 parameters a statement.
        for chunk in range(0, len(values), 2000):
            session.execute(insert(ReportVisitDay).values(values[chunk : chunk + 2000]))


def _counters(row: dict[str, Any]) -> dict[str, Any]:
    return {name: (float(row[name]) if name == "on_site_s" else int(row[name])) for name in COUNTERS}


_READ = text(
    "SELECT rep_id, day, "
    + ", ".join(COUNTERS)
    + " FROM report_visit_days WHERE org_id = :org AND rep_id IN (SELECT unnest(CAST(:reps AS uuid[])))"
    " AND day BETWEEN :first AND :last"
)


def read(session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID], first: date, last: date) -> Any:
    """The rolled-up rows (rep_id, day, counters...) of [first, last]."""
    return session.execute(_READ, {"org": org_id, "reps": rep_ids, "first": first, "last": last})
