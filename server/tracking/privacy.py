"""Who may see a rep's positions: the rep always; others only inside the rep's working
hours (their weekly schedule, in the organisation's time zone) on a day the rep started."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Organization, User, Workday

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SharingWindow:
    """When a rep's positions may be shown to someone else."""

    zone: ZoneInfo
    hours: dict[str, list[list[str]]]
    workdays: tuple[tuple[datetime, datetime], ...]

    def allows(self, moment: datetime) -> bool:
        if not any(start <= moment <= end for start, end in self.workdays):
            return False
        local = moment.astimezone(self.zone)
        clock = local.strftime("%H:%M")
        return any(span[0] <= clock < span[1] for span in self.hours.get(WEEKDAYS[local.weekday()], []))


def sharing_window(
    session: Session, org_id: uuid.UUID, user_id: uuid.UUID, start: datetime, end: datetime
) -> SharingWindow:
    zone_name = session.scalar(select(Organization.timezone).where(Organization.id == org_id)) or "UTC"
    hours = session.scalar(select(User.working_hours).where(User.id == user_id, User.org_id == org_id)) or {}
    zone = ZoneInfo(zone_name)
    days = session.execute(
        select(Workday.day, Workday.started_at, Workday.ended_at).where(
            Workday.user_id == user_id,
            Workday.org_id == org_id,
            Workday.started_at <= end,
            (Workday.ended_at.is_(None)) | (Workday.ended_at >= start),
        )
    ).all()
    # A day left open ends at local midnight: forgetting to end it never shares tomorrow.
    spans = tuple(
        (started, ended or datetime.combine(day + timedelta(days=1), time(0), zone)) for day, started, ended in days
    )
    return SharingWindow(zone, hours, spans)


def shareable(window: SharingWindow, times: Sequence[datetime]) -> list[bool]:
    return [window.allows(moment) for moment in times]
