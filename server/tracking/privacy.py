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
from shared.enums import WEEKDAYS


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


def sharing_windows(
    session: Session, org_id: uuid.UUID, user_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, SharingWindow]:
    """The windows of several reps over [start, end], in three queries whatever their number."""
    zone = ZoneInfo(session.scalar(select(Organization.timezone).where(Organization.id == org_id)) or "UTC")
    hours = dict(
        session.execute(select(User.id, User.working_hours).where(User.org_id == org_id, User.id.in_(user_ids))).all()
    )
    spans: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {user: [] for user in user_ids}
    days = session.execute(
        select(Workday.user_id, Workday.day, Workday.started_at, Workday.ended_at).where(
            Workday.org_id == org_id,
            Workday.user_id.in_(user_ids),
            Workday.started_at <= end,
            (Workday.ended_at.is_(None)) | (Workday.ended_at >= start),
        )
    )
    for user, day, started, ended in days:
        # A day left open ends at local midnight: forgetting to end it never shares tomorrow.
        spans[user].append((started, ended or datetime.combine(day + timedelta(days=1), time(0), zone)))
    return {user: SharingWindow(zone, hours.get(user) or {}, tuple(spans[user])) for user in user_ids}


def sharing_window(
    session: Session, org_id: uuid.UUID, user_id: uuid.UUID, start: datetime, end: datetime
) -> SharingWindow:
    return sharing_windows(session, org_id, [user_id], start, end)[user_id]
