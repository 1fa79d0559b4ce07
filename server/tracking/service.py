"""Reading tracks, starting and ending workdays, presence at a visit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.credentials import DEVICE_TOKEN_PREFIX, device_token_hash, verify_device_token
from server.access.visibility import sees_person
from server.config import get_settings
from server.errors import InvalidInput, NotFound, TooManyRequests, Unauthorized
from server.geo import point_out
from server.models import Customer, Device, LastPosition, Organization, Position, User, Visit, Workday
from server.tracking.geometry import Fix, distance_m, longest_dwell_minutes, simplify, stops
from server.tracking.ingest import IngestReport, PointInvalid, point_from_app, store_positions
from server.tracking.osmand import TrackerReport
from server.tracking.privacy import sharing_window, sharing_windows
from server.tracking.throttle import tracker_failures

MAX_TRACK_SPAN = timedelta(days=7)


def visible_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """The user whose positions the caller may ask for (404 for anyone else)."""
    stmt = select(User).where(User.org_id == actor.org_id, User.id == user_id, User.deleted_at.is_(None))
    stmt = stmt.where(sees_person(actor, User.id))
    user = session.scalar(stmt)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def device_of(session: Session, actor: Actor, key: str) -> Device:
    """The caller's own device, named by id or identifier."""
    stmt = select(Device).where(
        Device.org_id == actor.org_id, Device.user_id == actor.user_id, Device.deleted_at.is_(None)
    )
    try:
        stmt = stmt.where(Device.id == uuid.UUID(key))
    except ValueError:
        stmt = stmt.where(Device.identifier == key)
    device = session.scalar(stmt)
    if device is None:
        raise NotFound(f"device {key} is not one of yours", code="UNKNOWN_DEVICE")
    return device


def fixes_between(session: Session, actor: Actor, user_id: uuid.UUID, start: datetime, end: datetime) -> list[Fix]:
    """The user's fixes in [start, end), filtered by what the caller may see."""
    if end <= start:
        raise InvalidInput("end must be after start", code="INVALID_TIME_RANGE", status=400)
    if end - start > MAX_TRACK_SPAN:
        raise InvalidInput("ask for at most 7 days at a time", code="TIME_RANGE_TOO_LONG", status=400)
    # Core, not ORM, results: a day is thousands of plain tuples.
    rows = (
        session.connection()
        .execute(
            select(
                Position.device_time,
                Position.lat,
                Position.lon,
                Position.accuracy_m,
                Position.speed_mps,
                Position.altitude_m,
            )
            .where(
                Position.user_id == user_id,
                Position.org_id == actor.org_id,
                Position.device_time >= start,
                Position.device_time < end,
                Position.valid,
            )
            .order_by(Position.device_time)
        )
        .all()
    )
    fixes = [Fix(*row) for row in rows]
    if user_id != actor.user_id:
        window = sharing_window(session, actor.org_id, user_id, start, end)
        fixes = [fix for fix in fixes if window.allows(fix.time)]
    return fixes


@dataclass
class TrackQuery:
    start: datetime
    end: datetime
    tolerance_m: float = 10.0
    stop_minutes: float = 5.0
    stop_radius_m: float = 50.0


def track(
    session: Session, actor: Actor, user_id: uuid.UUID, query: TrackQuery
) -> tuple[User, list[Fix], dict[str, Any]]:
    user = visible_user(session, actor, user_id)
    fixes = fixes_between(session, actor, user_id, query.start, query.end)
    simplified = simplify(fixes, query.tolerance_m)
    summary = {
        "user_id": str(user_id),
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "points_recorded": len(fixes),
        "distance_m": round(distance_m(fixes), 1),
        "points": [
            {
                "time": f.time.isoformat(),
                "lat": f.lat,
                "lon": f.lon,
                "accuracy_m": f.accuracy_m,
                "speed_mps": f.speed_mps,
            }
            for f in simplified
        ],
        "stops": [
            {
                "lat": s.lat,
                "lon": s.lon,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "minutes": round(s.minutes, 1),
            }
            for s in stops(fixes, radius_m=query.stop_radius_m, min_minutes=query.stop_minutes)
        ],
    }
    return user, simplified, summary


def last_positions(session: Session, actor: Actor) -> list[dict[str, Any]]:
    stmt = select(LastPosition).where(LastPosition.org_id == actor.org_id, sees_person(actor, LastPosition.user_id))
    latest = list(session.scalars(stmt))
    others = [last for last in latest if last.user_id != actor.user_id]
    windows = {}
    if others:
        windows = sharing_windows(
            session,
            actor.org_id,
            [last.user_id for last in others],
            min(last.device_time for last in others),
            max(last.device_time for last in others),
        )
    return [
        {
            "user_id": str(last.user_id),
            "time": last.device_time.isoformat(),
            "lat": last.lat,
            "lon": last.lon,
            "accuracy_m": last.accuracy_m,
            "speed_mps": last.speed_mps,
            "battery_pct": last.battery_pct,
        }
        for last in latest
        if last.user_id == actor.user_id or windows[last.user_id].allows(last.device_time)
    ]


# A phone offline at the tap sends the mark later: it may be this old, and its clock this far ahead.
WORKDAY_MARK_MAX_AGE = timedelta(hours=36)
WORKDAY_MARK_MAX_AHEAD = timedelta(minutes=2)


def _mark_time(at: datetime | None) -> datetime:
    """When the rep tapped start or end (default: now), within what a phone offline for a day may send."""
    now = datetime.now(UTC)
    if at is None:
        return now
    if at > now + WORKDAY_MARK_MAX_AHEAD:
        raise InvalidInput("`at` is in the future (check the phone's clock)", code="TIME_IN_FUTURE")
    if at < now - WORKDAY_MARK_MAX_AGE:
        raise InvalidInput("`at` is more than 36 hours ago", code="TIME_TOO_OLD")
    return at.astimezone(UTC)


def start_workday(session: Session, actor: Actor, at: datetime | None = None) -> Workday:
    """Start the day of `at` (default now; local date); starting again the same day keeps the
    earliest start and reopens it."""
    zone = ZoneInfo(session.scalar(select(Organization.timezone).where(Organization.id == actor.org_id)) or "UTC")
    started = _mark_time(at)
    insert = pg_insert(Workday).values(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        user_id=actor.user_id,
        day=started.astimezone(zone).date(),
        started_at=started,
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["user_id", "day"],
            set_={"ended_at": None, "started_at": func.least(Workday.started_at, insert.excluded.started_at)},
        )
    )
    return _workday_of(session, actor, started.astimezone(zone).date())


def end_workday(session: Session, actor: Actor, at: datetime | None = None) -> Workday:
    """End the day of `at` (default now): positions after it stay private."""
    zone = ZoneInfo(session.scalar(select(Organization.timezone).where(Organization.id == actor.org_id)) or "UTC")
    ended = _mark_time(at)
    workday = _workday_of(session, actor, ended.astimezone(zone).date())
    if ended < workday.started_at:
        raise InvalidInput("the day cannot end before it started", code="END_BEFORE_START")
    workday.ended_at = ended
    session.flush()
    return workday


def _workday_of(session: Session, actor: Actor, day: date) -> Workday:
    workday = session.scalar(
        select(Workday)
        .where(Workday.user_id == actor.user_id, Workday.day == day)
        .execution_options(populate_existing=True)
    )
    if workday is None:
        raise NotFound("no workday started that day", code="WORKDAY_NOT_STARTED")
    return workday


def presence(session: Session, actor: Actor, visit: Visit, *, radius_m: float, minutes: float) -> dict[str, Any]:
    """From the track: was the rep within `radius_m` of the customer for `minutes` between check-in and out?"""
    customer = session.get(Customer, visit.customer_id)
    spot = point_out(customer.location) if customer is not None else None
    if spot is None:
        return {"visit_id": str(visit.id), "present": None, "reason": "the customer has no location"}
    if visit.check_in_at is None or visit.check_out_at is None:
        return {"visit_id": str(visit.id), "present": None, "reason": "the visit has no check-in and check-out"}
    fixes = fixes_between(session, actor, visit.rep_id, visit.check_in_at, visit.check_out_at + timedelta(seconds=1))
    dwell = longest_dwell_minutes(fixes, spot["lat"], spot["lon"], radius_m)
    return {
        "visit_id": str(visit.id),
        "present": dwell >= minutes,
        "longest_dwell_minutes": round(dwell, 1),
        "fixes": len(fixes),
        "radius_m": radius_m,
        "minutes": minutes,
    }


def ingest_app_batch(session: Session, actor: Actor, device_key: str, raw_points: list[Any]) -> dict[str, Any]:
    """A batch from the app: each bad point reported with its index and reason, the good ones stored once."""
    device = device_of(session, actor, device_key)
    report = IngestReport()
    good = []
    for index, raw in enumerate(raw_points):
        try:
            good.append(point_from_app(raw))
        except PointInvalid as problem:
            report.rejected.append({"index": index, "reason": str(problem)})
    report.stored, report.duplicates = store_positions(session, device, good)
    return {"stored": report.stored, "duplicates": report.duplicates, "rejected": report.rejected}


TELEMETRY_EVERY = timedelta(minutes=1)


def store_tracker_report(session: Session, report: TrackerReport, is_json: bool, client: str = "") -> None:
    """A tracker app's report (OsmAnd/Traccar protocol): its device by identifier, its token
    checked (a keyed hash), failures throttled per device and per address."""
    keys = [f"device:{report.identifier}", f"address:{client}"]
    wait = tracker_failures.retry_after(keys)
    if wait is not None:
        raise TooManyRequests(
            f"Too many wrong tokens; try again in {wait} s",
            code="TRACKER_THROTTLED",
            headers={"Retry-After": str(wait)},
        )
    device = session.scalar(select(Device).where(Device.identifier == report.identifier, Device.deleted_at.is_(None)))
    if device is None:
        # The protocol's own answers: 400 to the query form, 404 to the JSON one.
        raise InvalidInput(
            f"Unknown device {report.identifier!r}", code="UNKNOWN_DEVICE", status=404 if is_json else 400
        )
    if device.token_hash is not None:
        secret = get_settings().secret_key
        if not (report.token and verify_device_token(secret, device.token_hash, report.token)):
            tracker_failures.failed(keys)
            raise Unauthorized("This device reports with a token", code="DEVICE_TOKEN_REQUIRED")
        if not device.token_hash.startswith(DEVICE_TOKEN_PREFIX):
            device.token_hash = device_token_hash(secret, report.token)  # stored before keyed hashes
    if report.point is not None:
        store_positions(session, device, [report.point])
    # Telemetry: a heartbeat's always (it has nothing else); a fix's battery is in its position
    # row, so the device row is touched at most once a minute by fixes (one UPDATE per report
    # would double the cost of the busiest endpoint). Never backwards in device time.
    newer = device.last_report_at is None or report.time >= device.last_report_at
    due = (
        report.point is None or device.last_report_at is None or report.time - device.last_report_at >= TELEMETRY_EVERY
    )
    if newer and due:
        device.last_report_at = report.time
        if report.battery_pct is not None:
            device.battery_pct = report.battery_pct
        if report.charging is not None:
            device.charging = report.charging
