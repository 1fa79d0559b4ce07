"""What a planning run reads, in a few set-based queries, as the builder's rows.

One query per kind of row, whatever the number of reps or customers: the
organisation and its settings, the reps (with their territories' centre), the
absences that touch the horizon, the customers in scope (with who may visit
them), the fixed visits and the open service requests.

In scope (PLANNING.md): customers with a location, status `customer` or
`prospect`, in the territories of the reps planned or owned by them. Who may
visit a customer: the planned reps of its territory, and its owner when the
owner is planned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2 import Geometry
from sqlalchemy import Float, cast, func, or_, select
from sqlalchemy.orm import Session

from server.models import Absence, Customer, Organization, Task, Territory, TerritoryRep, User, Visit
from server.organizations.settings import effective_settings
from server.planning.problem import (
    AbsenceRow,
    CustomerRow,
    FixedVisitRow,
    LatLon,
    PlanningInput,
    PlanningSettings,
    RepRow,
    ServiceRequestRow,
)
from shared.enums import CustomerStatus, TaskKind, TaskStatus, VisitStatus

PLANNED_STATUSES = (CustomerStatus.customer, CustomerStatus.prospect)


def _lat_lon(column: Any) -> tuple[Any, Any]:
    point = cast(column, Geometry)
    return func.ST_Y(point), func.ST_X(point)


def load_planning_input(
    session: Session, org_id: uuid.UUID, rep_ids: Sequence[uuid.UUID], start_date: date, days: int
) -> PlanningInput:
    org = session.get(Organization, org_id)
    if org is None:
        raise LookupError(f"organisation {org_id} not found")
    effective = effective_settings(org)
    settings = PlanningSettings(
        zone=ZoneInfo(effective.timezone),
        visit_frequency_days=effective.visit_frequency_days,
        service_minutes=effective.service_minutes,
        lunch_window=effective.lunch.window,
        lunch_minutes=effective.lunch.minutes,
    )
    reps = _reps(session, org_id, rep_ids)
    planned = [rep.id for rep in reps]
    customers = _customers(session, org_id, planned)
    last_day = start_date + timedelta(days=days - 1)
    return PlanningInput(
        settings=settings,
        start_date=start_date,
        days=days,
        reps=reps,
        absences=_absences(session, org_id, planned, start_date, last_day),
        customers=list(customers.values()),
        fixed_visits=_fixed_visits(session, org_id, planned, customers, start_date, last_day, settings.zone),
        service_requests=_service_requests(session, org_id, customers),
    )


def _reps(session: Session, org_id: uuid.UUID, rep_ids: Sequence[uuid.UUID]) -> list[RepRow]:
    home_lat, home_lon = _lat_lon(User.home_location)
    centres = (
        select(
            TerritoryRep.user_id.label("user_id"),
            func.ST_Y(func.ST_Centroid(func.ST_Collect(Territory.geometry))).label("lat"),
            func.ST_X(func.ST_Centroid(func.ST_Collect(Territory.geometry))).label("lon"),
        )
        .join(Territory, Territory.id == TerritoryRep.territory_id)
        .where(TerritoryRep.org_id == org_id, Territory.deleted_at.is_(None))
        .group_by(TerritoryRep.user_id)
        .subquery()
    )
    rows = session.execute(
        select(User.id, User.working_hours, home_lat, home_lon, centres.c.lat, centres.c.lon)
        .outerjoin(centres, centres.c.user_id == User.id)
        .where(User.org_id == org_id, User.id.in_(rep_ids), User.deleted_at.is_(None), User.active.is_(True))
        .order_by(User.id)
    )
    return [
        RepRow(
            user_id,
            hours or {},
            _point(lat, lon),
            _point(centre_lat, centre_lon),
        )
        for user_id, hours, lat, lon, centre_lat, centre_lon in rows
    ]


def _absences(
    session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID], first: date, last: date
) -> list[AbsenceRow]:
    rows = session.execute(
        select(Absence.user_id, Absence.starts_on, Absence.ends_on).where(
            Absence.org_id == org_id,
            Absence.deleted_at.is_(None),
            or_(Absence.user_id.is_(None), Absence.user_id.in_(rep_ids)),
            Absence.starts_on <= last,
            Absence.ends_on >= first,
        )
    )
    return [AbsenceRow(user_id, starts_on, ends_on) for user_id, starts_on, ends_on in rows]


def _customers(session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID]) -> dict[uuid.UUID, CustomerRow]:
    """Customers in scope, with the planned reps who may visit each."""
    territory_reps: dict[uuid.UUID, set[uuid.UUID]] = {}
    for territory_id, user_id in session.execute(
        select(TerritoryRep.territory_id, TerritoryRep.user_id).where(
            TerritoryRep.org_id == org_id, TerritoryRep.user_id.in_(rep_ids)
        )
    ):
        territory_reps.setdefault(territory_id, set()).add(user_id)
    lat, lon = _lat_lon(Customer.location)
    rows = session.execute(
        select(
            Customer.id,
            lat,
            lon,
            Customer.tier,
            Customer.territory_id,
            Customer.owner_id,
            Customer.visit_frequency_days,
            Customer.last_visit_at,
            Customer.visit_windows,
            cast(func.coalesce(Customer.annual_revenue, 0), Float),
        )
        .where(
            Customer.org_id == org_id,
            Customer.deleted_at.is_(None),
            Customer.location.is_not(None),
            Customer.status.in_(PLANNED_STATUSES),
            or_(Customer.territory_id.in_(list(territory_reps)), Customer.owner_id.in_(rep_ids)),
        )
        .order_by(Customer.id)
    )
    planned = set(rep_ids)
    customers = {}
    for customer_id, c_lat, c_lon, tier, territory_id, owner_id, frequency, last_visit, windows, revenue in rows:
        allowed = set(territory_reps.get(territory_id, set())) if territory_id else set()
        if owner_id in planned:
            allowed.add(owner_id)
        customers[customer_id] = CustomerRow(
            customer_id,
            (c_lat, c_lon),
            tier,
            frozenset(allowed),
            visit_frequency_days=frequency,
            last_visit_at=last_visit,
            visit_windows=windows or {},
            annual_revenue=float(revenue),
        )
    return customers


def _fixed_visits(
    session: Session,
    org_id: uuid.UUID,
    rep_ids: list[uuid.UUID],
    customers: dict[uuid.UUID, CustomerRow],
    first: date,
    last: date,
    zone: ZoneInfo,
) -> list[FixedVisitRow]:
    begins = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    rows = session.execute(
        select(Visit.id, Visit.customer_id, Visit.rep_id, Visit.planned_start, Visit.planned_end).where(
            Visit.org_id == org_id,
            Visit.deleted_at.is_(None),
            Visit.fixed.is_(True),
            Visit.status == VisitStatus.planned,
            Visit.rep_id.in_(rep_ids),
            Visit.planned_start >= begins,
            Visit.planned_start < ends,
            Visit.planned_end.is_not(None),
        )
    )
    return [
        FixedVisitRow(visit_id, customer_id, rep_id, customers[customer_id].location, start, end)
        for visit_id, customer_id, rep_id, start, end in rows
        # a fixed visit at a customer out of scope stays as it is; the times are filtered in SQL
        if customer_id in customers and start is not None and end is not None
    ]


def _service_requests(
    session: Session, org_id: uuid.UUID, customers: dict[uuid.UUID, CustomerRow]
) -> list[ServiceRequestRow]:
    rows = session.execute(
        select(Task.id, Task.customer_id, Task.due_at).where(
            Task.org_id == org_id,
            Task.deleted_at.is_(None),
            Task.kind == TaskKind.service_request,
            Task.status.in_((TaskStatus.open, TaskStatus.in_progress)),
            Task.customer_id.in_(list(customers)),
            Task.due_at.is_not(None),
        )
    )
    return [
        ServiceRequestRow(task_id, customers[customer_id], due_at)
        for task_id, customer_id, due_at in rows
        if customer_id is not None and due_at is not None  # both filtered in SQL; typed as optional
    ]


def _point(lat: float | None, lon: float | None) -> LatLon | None:
    return None if lat is None or lon is None else (float(lat), float(lon))
