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

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2 import Geometry
from sqlalchemy import Float, cast, func, or_, select
from sqlalchemy.orm import Session

from server.models import (
    Absence,
    Customer,
    CustomerAnalytics,
    Organization,
    Task,
    Territory,
    TerritoryRep,
    User,
    Visit,
)
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
from shared.enums import CustomerStatus, Role, TaskKind, TaskStatus, VisitStatus

PLANNED_STATUSES = (CustomerStatus.customer, CustomerStatus.prospect)


def _lat_lon(column: Any) -> tuple[Any, Any]:
    point = cast(column, Geometry)
    return func.ST_Y(point), func.ST_X(point)


class Watermark:
    """A digest of every row a run read, with its row_version, and of the settings.

    Publishing reads the same rows again: a different digest means the input
    changed since the run read it (a customer edited, moved or added, a visit
    fixed, an absence entered), so the plan may be wrong (`PLAN_STALE`).
    """

    def __init__(self) -> None:
        self._entries: list[str] = []

    def add(self, kind: str, row_id: uuid.UUID, row_version: int) -> None:
        self._entries.append(f"{kind}:{row_id}:{row_version}")

    def add_value(self, kind: str, value: object) -> None:
        self._entries.append(f"{kind}={value!r}")

    def hexdigest(self) -> str:
        # Sorted: the digest does not depend on the order rows come back in.
        return hashlib.sha256(";".join(sorted(self._entries)).encode()).hexdigest()


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
    watermark = Watermark()
    watermark.add_value("settings", settings)
    reps = _reps(session, org_id, rep_ids, watermark)
    planned = [rep.id for rep in reps]
    watermark.add_value("at_risk_visit_factor", org.at_risk_visit_factor)
    customers = _customers(session, org_id, planned, watermark, settings, org.at_risk_visit_factor)
    last_day = start_date + timedelta(days=days - 1)
    return PlanningInput(
        settings=settings,
        start_date=start_date,
        days=days,
        reps=reps,
        absences=_absences(session, org_id, planned, start_date, last_day, watermark),
        customers=list(customers.values()),
        fixed_visits=_fixed_visits(session, org_id, planned, customers, start_date, last_day, settings.zone, watermark),
        service_requests=_service_requests(session, org_id, customers, watermark),
        watermark=watermark.hexdigest(),
    )


def _reps(session: Session, org_id: uuid.UUID, rep_ids: Sequence[uuid.UUID], watermark: Watermark) -> list[RepRow]:
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
        select(User.id, User.row_version, User.working_hours, home_lat, home_lon, centres.c.lat, centres.c.lon)
        .outerjoin(centres, centres.c.user_id == User.id)
        .where(User.org_id == org_id, User.id.in_(rep_ids), User.deleted_at.is_(None), User.active.is_(True))
        .order_by(User.id)
    )
    reps = []
    for user_id, row_version, hours, lat, lon, centre_lat, centre_lon in rows:
        watermark.add("user", user_id, row_version)
        watermark.add_value(f"centre:{user_id}", (centre_lat, centre_lon))
        reps.append(RepRow(user_id, hours or {}, _point(lat, lon), _point(centre_lat, centre_lon)))
    return reps


def _absences(
    session: Session, org_id: uuid.UUID, rep_ids: list[uuid.UUID], first: date, last: date, watermark: Watermark
) -> list[AbsenceRow]:
    rows = session.execute(
        select(Absence.id, Absence.row_version, Absence.user_id, Absence.starts_on, Absence.ends_on).where(
            Absence.org_id == org_id,
            Absence.deleted_at.is_(None),
            or_(Absence.user_id.is_(None), Absence.user_id.in_(rep_ids)),
            Absence.starts_on <= last,
            Absence.ends_on >= first,
        )
    )
    absences = []
    for absence_id, row_version, user_id, starts_on, ends_on in rows:
        watermark.add("absence", absence_id, row_version)
        absences.append(AbsenceRow(user_id, starts_on, ends_on))
    return absences


def _customers(
    session: Session,
    org_id: uuid.UUID,
    rep_ids: list[uuid.UUID],
    watermark: Watermark,
    settings: PlanningSettings,
    at_risk_visit_factor: float,
) -> dict[uuid.UUID, CustomerRow]:
    """Customers in scope, with the planned reps who may visit each. A customer at risk of
    churning (server/analytics) is due sooner: their frequency times `at_risk_visit_factor`."""
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
            Customer.row_version,
            lat,
            lon,
            Customer.tier,
            Customer.territory_id,
            Customer.owner_id,
            Customer.visit_frequency_days,
            Customer.service_minutes,
            Customer.last_visit_at,
            Customer.visit_windows,
            cast(func.coalesce(Customer.annual_revenue, 0), Float),
            func.coalesce(CustomerAnalytics.churn_risk, False),
        )
        .outerjoin(CustomerAnalytics, CustomerAnalytics.customer_id == Customer.id)
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
    for (
        customer_id,
        row_version,
        c_lat,
        c_lon,
        tier,
        territory_id,
        owner_id,
        frequency,
        minutes,
        last_visit,
        windows,
        revenue,
        churn_risk,
    ) in rows:
        watermark.add("customer", customer_id, row_version)
        if churn_risk and at_risk_visit_factor < 1:
            usual = frequency or settings.visit_frequency_days[tier]
            frequency = max(1, round(usual * at_risk_visit_factor))
        allowed = set(territory_reps.get(territory_id, set())) if territory_id else set()
        if owner_id in planned:
            allowed.add(owner_id)
        customers[customer_id] = CustomerRow(
            customer_id,
            (c_lat, c_lon),
            tier,
            frozenset(allowed),
            visit_frequency_days=frequency,
            service_minutes=minutes,
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
    watermark: Watermark,
) -> list[FixedVisitRow]:
    begins = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    rows = session.execute(
        select(
            Visit.id, Visit.row_version, Visit.customer_id, Visit.rep_id, Visit.planned_start, Visit.planned_end
        ).where(
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
    fixed = []
    for visit_id, row_version, customer_id, rep_id, start, end in rows:
        watermark.add("visit", visit_id, row_version)
        # a fixed visit at a customer out of scope stays as it is; the times are filtered in SQL
        if customer_id in customers and start is not None and end is not None:
            fixed.append(FixedVisitRow(visit_id, customer_id, rep_id, customers[customer_id].location, start, end))
    return fixed


def _service_requests(
    session: Session, org_id: uuid.UUID, customers: dict[uuid.UUID, CustomerRow], watermark: Watermark
) -> list[ServiceRequestRow]:
    rows = session.execute(
        select(Task.id, Task.row_version, Task.customer_id, Task.due_at).where(
            Task.org_id == org_id,
            Task.deleted_at.is_(None),
            Task.kind == TaskKind.service_request,
            Task.status.in_((TaskStatus.open, TaskStatus.in_progress)),
            Task.customer_id.in_(list(customers)),
            Task.due_at.is_not(None),
        )
    )
    requests = []
    for task_id, row_version, customer_id, due_at in rows:
        watermark.add("task", task_id, row_version)
        if customer_id is not None and due_at is not None:  # both filtered in SQL; typed as optional
            requests.append(ServiceRequestRow(task_id, customers[customer_id], due_at))
    return requests


def load_unserved_customers(session: Session, org_id: uuid.UUID) -> list[CustomerRow]:
    """Customers in planning's scope whom no active rep of the organisation may visit: their
    territory has no rep (or they have none) and their owner is not an active rep. An
    organisation-wide run reports them (`no_rep`) instead of silently leaving them out."""
    active_reps = select(User.id).where(
        User.org_id == org_id, User.deleted_at.is_(None), User.active.is_(True), User.role == Role.rep
    )
    served_territories = select(TerritoryRep.territory_id).where(
        TerritoryRep.org_id == org_id, TerritoryRep.user_id.in_(active_reps)
    )
    lat, lon = _lat_lon(Customer.location)
    rows = session.execute(
        select(Customer.id, lat, lon, Customer.tier, Customer.visit_frequency_days, Customer.last_visit_at)
        .where(
            Customer.org_id == org_id,
            Customer.deleted_at.is_(None),
            Customer.location.is_not(None),
            Customer.status.in_(PLANNED_STATUSES),
            or_(Customer.territory_id.is_(None), Customer.territory_id.not_in(served_territories)),
            or_(Customer.owner_id.is_(None), Customer.owner_id.not_in(active_reps)),
        )
        .order_by(Customer.id)
    )
    return [
        CustomerRow(customer_id, (c_lat, c_lon), tier, frozenset(), visit_frequency_days=frequency, last_visit_at=last)
        for customer_id, c_lat, c_lon, tier, frequency, last in rows
    ]


def _point(lat: float | None, lon: float | None) -> LatLon | None:
    return None if lat is None or lon is None else (float(lat), float(lon))
