"""Customer queries: scope, spatial filters, nearest neighbours, containment."""

from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import Select, cast, func, select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_customer
from server.api.filters import parse_bbox, parse_near
from server.models import Customer, CustomerAnalytics, Territory


def geography_point(lat: float, lon: float) -> Any:
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_customer_filters(stmt: Select[Any], query: Any) -> Select[Any]:
    if query.q:
        stmt = stmt.where(Customer.name.ilike(f"%{_escape_like(query.q)}%", escape="\\"))
    if query.bbox:
        box = parse_bbox(query.bbox)
        envelope = func.ST_MakeEnvelope(box.min_lon, box.min_lat, box.max_lon, box.max_lat, 4326)
        # Matches the expression index ix_customers_location_geometry.
        stmt = stmt.where(cast(Customer.location, Geometry).op("&&")(envelope))
    if query.near or query.radius_m is not None:
        circle = parse_near(query.near or "", query.radius_m)
        # use_spheroid=false: the same sphere as shared.geo.haversine_m.
        stmt = stmt.where(
            func.ST_DWithin(Customer.location, geography_point(circle.lat, circle.lon), circle.radius_m, False)
        )
    # RFM segment and churn risk live beside the customer (customer_analytics, a job's output).
    if query.rfm_segment is not None or query.churn_risk is not None:
        analysed = select(CustomerAnalytics.customer_id)
        if query.rfm_segment is not None:
            analysed = analysed.where(CustomerAnalytics.segment == query.rfm_segment)
        if query.churn_risk is not None:
            analysed = analysed.where(CustomerAnalytics.churn_risk.is_(query.churn_risk))
        stmt = stmt.where(Customer.id.in_(analysed))
    return stmt


def add_customer_analytics(session: Session, customers: list[Customer], rows: list[dict[str, Any]]) -> None:
    """A page's segments and churn risk, in one query (read-only fields of the API)."""
    found = {
        customer_id: (segment, risk)
        for customer_id, segment, risk in session.execute(
            select(CustomerAnalytics.customer_id, CustomerAnalytics.segment, CustomerAnalytics.churn_risk).where(
                CustomerAnalytics.customer_id.in_([c.id for c in customers])
            )
        )
    }
    for customer, row in zip(customers, rows, strict=True):
        segment, risk = found.get(customer.id, (None, False))
        row["rfm_segment"], row["churn_risk"] = segment, risk


def nearest(session: Session, actor: Actor, lat: float, lon: float, limit: int) -> list[tuple[Customer, float]]:
    """The visible customers closest to a point, by great-circle distance.

    An admin sees everything: a KNN walk of the GiST index stops after `limit`
    rows. A rep or manager sees a small slice: ranking that slice by exact
    distance is far cheaper than walking the index past everyone else's
    customers, so the candidates are collected first.
    """
    here = geography_point(lat, lon)
    conditions = (
        Customer.org_id == actor.org_id,
        Customer.deleted_at.is_(None),
        Customer.location.is_not(None),
        sees_customer(actor),
    )
    if actor.is_admin:
        distance = func.ST_Distance(Customer.location, here, False).label("distance_m")
        stmt = select(Customer, distance).where(*conditions).order_by(Customer.location.op("<->")(here)).limit(limit)
    else:
        # Only plain columns in the CTE: with the (costly) distance function inside,
        # the planner prefers a parallel sequential scan over the scope indexes.
        candidates = (
            select(Customer.id, Customer.location).where(*conditions).cte("candidates").prefix_with("MATERIALIZED")
        )
        exact_distance = func.ST_Distance(candidates.c.location, here, False)
        closest = (
            select(candidates.c.id, exact_distance.label("distance_m"))
            .order_by(exact_distance, candidates.c.id)
            .limit(limit)
            .subquery()
        )
        stmt = select(Customer, closest.c.distance_m).join(closest, closest.c.id == Customer.id)
    rows = [(customer, float(dist)) for customer, dist in session.execute(stmt)]
    # <-> on geography is the same sphere distance; the exact sort also settles ties.
    rows.sort(key=lambda row: (row[1], row[0].id))
    return rows


def territory_containing(session: Session, org_id: uuid.UUID, lat: float, lon: float) -> uuid.UUID | None:
    """The territory whose area covers the point (the smallest when they overlap)."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    return session.scalar(
        select(Territory.id)
        .where(Territory.org_id == org_id, Territory.deleted_at.is_(None), func.ST_Covers(Territory.geometry, point))
        .order_by(func.ST_Area(Territory.geometry), Territory.id)
        .limit(1)
    )
