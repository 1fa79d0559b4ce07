"""A rep's plan as an iCalendar feed (RFC 5545) at a secret, revocable URL.

Calendar apps cannot send a bearer token, so the URL carries a random secret; only a
keyed hash of it is stored (a copy of the database does not open anyone's feed). A new
secret replaces the old one; DELETE revokes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2.functions import ST_X, ST_Y
from sqlalchemy import cast, select, update
from sqlalchemy.orm import Session

from server.models import CalendarFeed, Customer, User, Visit
from shared.enums import VisitStatus

FEED_DAYS_BEHIND = 14
FEED_DAYS_AHEAD = 90
DEFAULT_MINUTES = 30


def token_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), b"calendar-feed:" + token.encode(), hashlib.sha256).hexdigest()


def create_feed(session: Session, secret_key: str, user: User) -> tuple[CalendarFeed, str]:
    """A new secret for the user's feed; any earlier one stops working."""
    revoke_feeds(session, user)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(org_id=user.org_id, user_id=user.id, token_hash=token_hash(secret_key, token))
    session.add(feed)
    session.flush()
    return feed, token


def revoke_feeds(session: Session, user: User) -> int:
    result = session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def feed_user(session: Session, secret_key: str, user_id: uuid.UUID, token: str) -> User | None:
    """The user whose live feed this secret opens (None: wrong, revoked, or user gone)."""
    feed = session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(secret_key, token),
            CalendarFeed.user_id == user_id,
            CalendarFeed.revoked_at.is_(None),
        )
    )
    if feed is None:
        return None
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None or not user.active:
        return None
    return user


# ---- RFC 5545 -------------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """TEXT values: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space,
    never splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_feed(session: Session, user: User, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    geometry = cast(Customer.location, Geometry)
    rows = session.execute(
        select(
            Visit,
            Customer.name,
            Customer.street,
            Customer.postal_code,
            Customer.city,
            ST_Y(geometry),
            ST_X(geometry),
        )
        .join(Customer, (Customer.id == Visit.customer_id) & (Customer.org_id == Visit.org_id))
        .where(
            Visit.org_id == user.org_id,
            Visit.rep_id == user.id,
            Visit.deleted_at.is_(None),
            Visit.planned_start.is_not(None),
            Visit.planned_start >= now - timedelta(days=FEED_DAYS_BEHIND),
            Visit.planned_start < now + timedelta(days=FEED_DAYS_AHEAD),
        )
        .order_by(Visit.planned_start, Visit.id)
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FieldForce//Visit plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text('FieldForce visits: ' + (user.full_name or user.email))}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    for visit, name, street, postal_code, city, lat, lon in rows:
        lines += _event(visit, name, street, postal_code, city, lat, lon, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _event(
    visit: Visit, name: str, street: Any, postal_code: Any, city: Any, lat: Any, lon: Any, now: datetime
) -> list[str]:
    start = visit.planned_start
    assert start is not None
    end = (
        visit.planned_end
        if visit.planned_end and visit.planned_end > start
        else start + timedelta(minutes=DEFAULT_MINUTES)
    )
    address = ", ".join(part for part in (street, " ".join(p for p in (postal_code, city) if p)) if part)
    cancelled = visit.status in (VisitStatus.cancelled, VisitStatus.skipped, VisitStatus.missed)
    details = [f"Status: {visit.status.value.replace('_', ' ')}"]
    if visit.fixed:
        details.append("Appointment agreed with the customer")
    if visit.outcome:
        details.append(f"Outcome: {visit.outcome}")
    event = [
        "BEGIN:VEVENT",
        f"UID:{visit.id}@fieldforce",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{escape_text('Visit: ' + name)}",
        f"DESCRIPTION:{escape_text(chr(10).join(details))}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SEQUENCE:{visit.row_version}",
        f"LAST-MODIFIED:{_stamp(visit.updated_at)}",
    ]
    if address:
        event.append(f"LOCATION:{escape_text(address)}")
    if lat is not None and lon is not None:
        event.append(f"GEO:{lat:.6f};{lon:.6f}")
    event.append("END:VEVENT")
    return event
