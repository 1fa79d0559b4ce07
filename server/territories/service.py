"""Territory import and export, assignment by containment, coverage."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.policy import WriteContext
from server.access.visibility import sees_customer
from server.api.pagination import decode_cursor, encode_cursor
from server.api.resource import ResourceSpec
from server.db import rows_affected
from server.errors import AppError, InvalidInput
from server.geo import point_out
from server.models import Customer, Territory, TerritoryRep, Visit
from server.territories.geojson import area_problem, normalised
from shared.enums import Tier, VisitStatus
from shared.value import visit_frequency_days

MAX_IMPORT_FEATURES = 500

# Customers that were in the territory or lie in its (new) area get the territory
# that covers them now (the smallest when several do), in the same transaction:
# the sync change log sees every move.
_REASSIGN = text(
    """
    UPDATE customers AS c SET territory_id = moved.territory_id
      FROM (
        SELECT k.id,
               (SELECT t.id FROM territories AS t
                 WHERE t.org_id = k.org_id AND t.deleted_at IS NULL
                   AND ST_Covers(t.geometry, k.location::geometry)
                 ORDER BY ST_Area(t.geometry), t.id LIMIT 1) AS territory_id
          FROM customers AS k
         WHERE k.org_id = :org_id AND k.deleted_at IS NULL AND k.location IS NOT NULL
           AND (k.territory_id = :territory_id
                OR k.location::geometry && (SELECT geometry FROM territories WHERE id = :territory_id))
      ) AS moved
     WHERE c.id = moved.id AND c.territory_id IS DISTINCT FROM moved.territory_id
    """
)

_OVERLAPS = text(
    """
    SELECT a.id AS a, b.id AS b, a.name AS a_name, b.name AS b_name,
           ST_Area(ST_Intersection(a.geometry, b.geometry)::geography) AS area_m2
      FROM territories AS a JOIN territories AS b
        ON a.org_id = b.org_id AND a.id < b.id AND ST_Intersects(a.geometry, b.geometry)
     WHERE a.org_id = :org_id AND a.deleted_at IS NULL AND b.deleted_at IS NULL
       AND (a.id = ANY(:ids) OR b.id = ANY(:ids))
       AND ST_Area(ST_Intersection(a.geometry, b.geometry)) > 0
     ORDER BY area_m2 DESC
    """
)


class GeoJsonImportFailed(AppError):
    status, code, title = 422, "IMPORT_FAILED", "Import failed"


def reassign_customers(session: Session, org_id: uuid.UUID, territory_id: uuid.UUID) -> int:
    session.flush()
    return rows_affected(session.execute(_REASSIGN, {"org_id": org_id, "territory_id": territory_id}))


def overlaps(session: Session, org_id: uuid.UUID, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return [
        {"a": str(r.a), "b": str(r.b), "a_name": r.a_name, "b_name": r.b_name, "area_m2": round(r.area_m2, 1)}
        for r in session.execute(_OVERLAPS, {"org_id": org_id, "ids": ids})
    ]


# Where other tools put a feature's name, tried in this order after `name` and the key the
# caller names (QGIS and shapefile exports use NAME, uMap and others title, ...).
COMMON_NAME_KEYS = ("name", "NAME", "Name", "title", "Title", "territory", "TERRITORY", "Territory", "label")


def feature_name(feature: dict[str, Any], name_property: str | None) -> tuple[str, str] | None:
    """(name, where it was found) or None."""
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    keys = ["name", *([name_property] if name_property else []), *COMMON_NAME_KEYS]
    for key in dict.fromkeys(keys):
        value = properties.get(key) if properties else None
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:200], key
    ident = feature.get("id")
    if isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident).strip():
        return str(ident).strip()[:200], "id"
    return None


def import_collection(
    ctx: WriteContext, spec: ResourceSpec[Territory], collection: Any, name_property: str | None = None
) -> dict[str, Any]:
    """All features are checked first; one bad feature imports nothing."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise GeoJsonImportFailed("Send a GeoJSON FeatureCollection", code="NOT_A_FEATURE_COLLECTION")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise GeoJsonImportFailed("The FeatureCollection has no features", code="NO_FEATURES")
    if len(features) > MAX_IMPORT_FEATURES:
        raise GeoJsonImportFailed(f"At most {MAX_IMPORT_FEATURES} territories per import", code="TOO_MANY_FEATURES")
    errors = []
    for index, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append({"index": index, "code": "NOT_A_FEATURE", "detail": "each item is a GeoJSON Feature"})
            continue
        if properties is not None and not isinstance(properties, dict):
            errors.append({"index": index, "code": "NOT_A_FEATURE", "detail": "properties must be an object"})
            continue
        if feature_name(feature, name_property) is None:
            wanted = f"properties.{name_property}, " if name_property else ""
            errors.append(
                {
                    "index": index,
                    "code": "MISSING_NAME",
                    "detail": f"no name: give properties.name, {wanted}one of {', '.join(COMMON_NAME_KEYS[1:])}, "
                    "or a feature id (or say which property holds it: ?name_property=)",
                }
            )
            continue
        problem = area_problem(ctx.session, feature.get("geometry"))
        if problem is not None:
            errors.append({"index": index, "code": problem.code, "detail": problem.detail})
    if errors:
        raise GeoJsonImportFailed(
            f"{len(errors)} of {len(features)} features are not valid territories; nothing was imported",
            extra={"errors": errors},
        )
    created = []
    names_from: dict[str, int] = {}
    for feature in features:
        properties = feature.get("properties") or {}
        found = feature_name(feature, name_property)
        assert found is not None  # checked above
        name, source = found
        names_from[source] = names_from.get(source, 0) + 1
        payload = {"name": name, "geometry": feature["geometry"]}
        for key in ("color", "rep_ids"):
            if properties.get(key) is not None:
                payload[key] = properties[key]
        created.append(spec.create(ctx, spec.create_schema.model_validate(payload)))
    ids = [t.id for t in created]
    return {
        "created": [str(i) for i in ids],
        "overlaps": overlaps(ctx.session, ctx.actor.org_id, ids),
        "names_from": names_from,
    }


def export_collection(session: Session, spec: ResourceSpec[Territory], actor: Actor) -> dict[str, Any]:
    territories = list(session.scalars(spec.base_query(actor).order_by(Territory.name, Territory.id)))
    rows = spec.serialize(session, territories)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(row["id"]),
                "geometry": row["geometry"],
                "properties": {"name": row["name"], "color": row["color"], "rep_ids": [str(r) for r in row["rep_ids"]]},
            }
            for row in rows
        ],
    }


def unassigned_customers(session: Session, actor: Actor, limit: int, cursor: str | None) -> dict[str, Any]:
    """Customers with a location that no territory covers (as far as the caller may see)."""
    stmt = select(Customer).where(
        Customer.org_id == actor.org_id,
        Customer.deleted_at.is_(None),
        Customer.location.is_not(None),
        Customer.territory_id.is_(None),
        sees_customer(actor),
    )
    if cursor:
        stmt = stmt.where(Customer.id > decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(Customer.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [{"id": str(c.id), "name": c.name, "location": point_out(c.location)} for c in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }


def coverage(session: Session, territory: Territory, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """Customers by tier; visits due and done in the period (default: this calendar month)."""
    now = datetime.now(UTC)
    start = start or now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = end or (start + timedelta(days=32)).replace(day=1)
    customers = session.execute(
        select(Customer.id, Customer.tier, Customer.visit_frequency_days, Customer.last_visit_at).where(
            Customer.org_id == territory.org_id, Customer.territory_id == territory.id, Customer.deleted_at.is_(None)
        )
    ).all()
    by_tier = Counter(str(c.tier) for c in customers)
    due: Counter[str] = Counter()
    for c in customers:
        frequency = timedelta(days=visit_frequency_days(c.tier, c.visit_frequency_days))
        if c.last_visit_at is None or c.last_visit_at + frequency < end:
            due[str(c.tier)] += 1
    done_rows = session.execute(
        select(Customer.tier, func.count(func.distinct(Visit.customer_id)))
        .join(Customer, Customer.id == Visit.customer_id)
        .where(
            Visit.org_id == territory.org_id,
            Customer.territory_id == territory.id,
            Visit.deleted_at.is_(None),
            Visit.status == VisitStatus.completed,
            func.coalesce(Visit.check_out_at, Visit.check_in_at, Visit.planned_start) >= start,
            func.coalesce(Visit.check_out_at, Visit.check_in_at, Visit.planned_start) < end,
        )
        .group_by(Customer.tier)
    ).all()
    done = {str(tier): count for tier, count in done_rows}
    tiers = [t.value for t in Tier]
    return {
        "territory_id": str(territory.id),
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "customers": {t: by_tier.get(t, 0) for t in tiers},
        "visits_due": {t: due.get(t, 0) for t in tiers},
        "customers_visited": {t: done.get(t, 0) for t in tiers},
    }


def geometry_value(ctx: WriteContext, values: dict[str, Any]) -> None:
    """GeoJSON -> a normalised MultiPolygon, or 422 with the problem's code (SELF_INTERSECTION, ...)."""
    area = values.get("geometry")
    if area is None:
        return
    problem = area_problem(ctx.session, area)
    if problem is not None:
        raise InvalidInput(f"geometry: {problem.detail}", code=problem.code, extra={"field": "geometry"})
    values["geometry"] = normalised(area)


def set_reps(ctx: WriteContext, territory: Territory, relations: dict[str, Any]) -> None:
    rep_ids = relations.get("rep_ids")
    if rep_ids is None:
        return
    ctx.session.execute(
        delete(TerritoryRep).where(TerritoryRep.org_id == territory.org_id, TerritoryRep.territory_id == territory.id)
    )
    ctx.session.add_all(
        TerritoryRep(org_id=territory.org_id, territory_id=territory.id, user_id=rep_id) for rep_id in set(rep_ids)
    )
    # A change of assignment is a change of the territory (sync scopes follow it).
    territory.row_version += 1


def add_rep_ids(session: Session, territories: list[Territory], rows: list[dict[str, Any]]) -> None:
    links = session.execute(
        select(TerritoryRep.territory_id, TerritoryRep.user_id).where(
            TerritoryRep.territory_id.in_([t.id for t in territories])
        )
    ).all()
    by_territory: dict[uuid.UUID, list[uuid.UUID]] = {}
    for territory_id, user_id in links:
        by_territory.setdefault(territory_id, []).append(user_id)
    for territory, row in zip(territories, rows, strict=True):
        row["rep_ids"] = sorted(by_territory.get(territory.id, []))
