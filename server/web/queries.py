"""Page-level reads: what a page shows beyond one API call, through the same resources
(so the same visibility) as the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_person
from server.customers.resources import customer_resource
from server.models import Customer, Device, LastPosition, Plan, SyncClient, SyncConflict, SyncRejection, User, Visit
from server.planning.plans import plan_views
from server.planning.resources import plan_resource
from server.tracking.service import presence
from server.visits.resources import visit_resource
from shared.enums import Tier, VerificationStatus, VisitStatus
from shared.value import visit_frequency_days

SILENT_AFTER = timedelta(minutes=30)
PENDING_FOR = timedelta(hours=4)


def people_in_view(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Reps and managers the actor sees, with their team's manager, by name."""
    users = list(
        session.scalars(
            select(User)
            .where(User.org_id == actor.org_id, User.deleted_at.is_(None), sees_person(actor, User.id))
            .order_by(User.full_name, User.email)
        )
    )
    names = {u.id: u.full_name or u.email for u in users}
    return [
        {
            "id": str(u.id),
            "name": u.full_name or u.email,
            "email": u.email,
            "role": u.role.value,
            "active": u.active,
            "manager_id": str(u.manager_id) if u.manager_id else None,
            "team": names.get(u.manager_id, "") if u.manager_id else "",
        }
        for u in users
    ]


def plans_of_day(session: Session, actor: Actor, day: date, rep_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The published days the actor sees for `day`, each stop with its visit and customer."""
    query = plan_resource.base_query(actor).where(Plan.plan_date == day)
    if rep_id is not None:
        query = query.where(Plan.rep_id == rep_id)
    views = plan_views(session, list(session.scalars(query)))
    customer_ids = {stop["customer_id"] for view in views for stop in view["stops"] if stop.get("customer_id")}
    customers = customers_by_id(session, actor, customer_ids)
    for view in views:
        for stop in view["stops"]:
            stop["customer"] = customers.get(str(stop.get("customer_id")))
    return views


def customers_by_id(session: Session, actor: Actor, ids: set[Any]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    wanted = [uuid.UUID(str(i)) for i in ids]
    rows = list(session.scalars(customer_resource.base_query(actor).where(Customer.id.in_(wanted))))
    return {str(row["id"]): row for row in customer_resource.serialize(session, rows)}


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), zone)
    return start, start + timedelta(days=1)


def visits_of_day(session: Session, actor: Actor, rep_id: uuid.UUID, day: date, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The rep's visits that day (planned for it, or checked in that day), each with its
    customer and whether the GPS track puts the rep there."""
    start, end = day_bounds(day, zone)
    moment = func.coalesce(Visit.planned_start, Visit.check_in_at)
    rows = list(
        session.scalars(
            visit_resource.base_query(actor)
            .where(Visit.rep_id == rep_id, moment >= start, moment < end)
            .order_by(moment)
        )
    )
    views = visit_resource.serialize(session, rows)
    customers = customers_by_id(session, actor, {row.customer_id for row in rows})
    for visit, view in zip(rows, views, strict=True):
        view["customer"] = customers.get(str(visit.customer_id))
        view["presence"] = (
            presence(session, actor, visit, radius_m=150.0, minutes=5.0) if visit.check_in_at is not None else None
        )
    return views


# ---- customers ------------------------------------------------------------------------


def customer_list(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    tier: Tier | None = None,
    status: str | None = None,
    territory_id: uuid.UUID | None = None,
    overdue: bool = False,
    not_visited_since: date | None = None,
    frequencies: dict[Tier, int] | None = None,
    limit: int = 200,
) -> tuple[list[dict[str, Any]], int]:
    """Visible customers matching the filters, by name; and how many match in all."""
    frequencies = frequencies or {}
    query: Select[Any] = customer_resource.base_query(actor)
    if q:
        query = query.where(Customer.name.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    if tier is not None:
        query = query.where(Customer.tier == tier)
    if status:
        query = query.where(Customer.status == status)
    if territory_id is not None:
        query = query.where(Customer.territory_id == territory_id)
    if not_visited_since is not None:
        query = query.where(
            or_(
                Customer.last_visit_at.is_(None),
                Customer.last_visit_at < datetime.combine(not_visited_since, time(0), UTC),
            )
        )
    if overdue:
        # Overdue: never visited, or the last visit is older than the customer's frequency
        # (its own, else its tier's in the organisation's settings).
        tier_days = case(*[(Customer.tier == t, frequencies.get(t, visit_frequency_days(t))) for t in Tier])
        frequency = func.coalesce(Customer.visit_frequency_days, tier_days)
        query = query.where(
            or_(
                Customer.last_visit_at.is_(None),
                Customer.last_visit_at + func.make_interval(0, 0, 0, frequency) < datetime.now(UTC),
            )
        )
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(session.scalars(query.order_by(Customer.name, Customer.id).limit(limit)))
    return customer_resource.serialize(session, rows), total


# ---- exceptions -----------------------------------------------------------------------


def exceptions(session: Session, actor: Actor, since: datetime, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """What needs a manager's eye: missed and late visits, check-ins away from the customer,
    silent phones, sync conflicts and rejections, phones quiet for hours."""
    visible_visits = visit_resource.base_query(actor)
    names = {p["id"]: p["name"] for p in people_in_view(session, actor)}
    missed = list(
        session.scalars(
            visible_visits.where(
                Visit.planned_start >= since,
                Visit.planned_start < now,
                or_(
                    Visit.status == VisitStatus.missed,
                    and_(Visit.status == VisitStatus.planned, Visit.planned_end < now),
                    and_(
                        Visit.check_in_at.is_not(None), Visit.check_in_at > Visit.planned_start + timedelta(minutes=15)
                    ),
                ),
            )
            .order_by(Visit.planned_start.desc())
            .limit(200)
        )
    )
    away = list(
        session.scalars(
            visible_visits.where(
                Visit.check_in_at >= since, Visit.verification_status == VerificationStatus.out_of_range
            )
            .order_by(Visit.check_in_at.desc())
            .limit(200)
        )
    )
    customers = customers_by_id(session, actor, {v.customer_id for v in missed + away})

    def visit_row(visit: Visit, what: str) -> dict[str, Any]:
        return {
            "what": what,
            "visit_id": str(visit.id),
            "rep_id": str(visit.rep_id),
            "rep": names.get(str(visit.rep_id), ""),
            "customer": (customers.get(str(visit.customer_id)) or {}).get("name", ""),
            "customer_id": str(visit.customer_id),
            "planned_start": visit.planned_start,
            "check_in_at": visit.check_in_at,
            "distance_m": visit.verification_distance_m,
        }

    missed_rows = [
        visit_row(v, "late" if v.check_in_at is not None and v.status is not VisitStatus.missed else "missed")
        for v in missed
    ]
    silent = session.execute(
        select(LastPosition.user_id, LastPosition.device_time, LastPosition.battery_pct)
        .where(
            LastPosition.org_id == actor.org_id,
            sees_person(actor, LastPosition.user_id),
            LastPosition.device_time < now - SILENT_AFTER,
            LastPosition.device_time >= now - timedelta(days=1),
        )
        .order_by(LastPosition.device_time)
    ).all()
    conflicts = session.execute(
        select(
            SyncConflict.user_id, SyncConflict.entity, SyncConflict.field, SyncConflict.reason, SyncConflict.created_at
        )
        .where(
            SyncConflict.org_id == actor.org_id,
            sees_person(actor, SyncConflict.user_id),
            SyncConflict.created_at >= since,
            SyncConflict.resolved_at.is_(None),
        )
        .order_by(SyncConflict.created_at.desc())
        .limit(200)
    ).all()
    rejections = session.execute(
        select(SyncRejection.user_id, SyncRejection.entity, SyncRejection.created_at)
        .where(
            SyncRejection.org_id == actor.org_id,
            sees_person(actor, SyncRejection.user_id),
            SyncRejection.created_at >= since,
            SyncRejection.resolved_at.is_(None),
        )
        .order_by(SyncRejection.created_at.desc())
        .limit(200)
    ).all()
    # A phone that has not synced for hours while its rep is at work holds changes the
    # office cannot see yet.
    quiet = session.execute(
        select(SyncClient.user_id, func.max(SyncClient.last_seen_at).label("last_seen"))
        .where(SyncClient.org_id == actor.org_id, sees_person(actor, SyncClient.user_id))
        .group_by(SyncClient.user_id)
        .having(func.max(SyncClient.last_seen_at) < now - PENDING_FOR)
        .having(func.max(SyncClient.last_seen_at) >= now - timedelta(days=7))
    ).all()
    return {
        "missed_late": missed_rows,
        "away": [visit_row(v, "away from the customer") for v in away],
        "silent": [
            {
                "rep_id": str(r.user_id),
                "rep": names.get(str(r.user_id), ""),
                "last_fix": r.device_time,
                "battery": r.battery_pct,
            }
            for r in silent
        ],
        "conflicts": [
            {
                "rep": names.get(str(r.user_id), ""),
                "entity": r.entity,
                "field": r.field,
                "reason": r.reason,
                "at": r.created_at,
            }
            for r in conflicts
        ],
        "rejections": [
            {"rep": names.get(str(r.user_id), ""), "entity": r.entity, "at": r.created_at} for r in rejections
        ],
        "quiet_phones": [
            {"rep_id": str(r.user_id), "rep": names.get(str(r.user_id), ""), "last_sync": r.last_seen} for r in quiet
        ],
    }


def devices(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Device, User.full_name, User.email)
        .join(User, User.id == Device.user_id)
        .where(Device.org_id == actor.org_id, Device.deleted_at.is_(None), sees_person(actor, Device.user_id))
        .order_by(User.full_name, Device.identifier)
    ).all()
    return [
        {"id": str(d.id), "identifier": d.identifier, "name": d.name, "user": full or email} for d, full, email in rows
    ]
