"""Published days: a rep's plan with its stops in order and each stop's visit as it stands now."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.errors import InvalidInput
from server.models import Plan, Visit
from server.planning.resources import plan_resource
from server.visits.resources import visit_resource

MAX_PLAN_DAYS = 400


def list_plans(
    session: Session,
    actor: Actor,
    rep_id: uuid.UUID | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
) -> list[dict[str, Any]]:
    if date_from is not None and date_to is not None:
        if date_to < date_from:
            raise InvalidInput("date_to is before date_from", code="INVALID_DATE_RANGE")
        if (date_to - date_from).days > MAX_PLAN_DAYS:
            raise InvalidInput(f"ask for at most {MAX_PLAN_DAYS} days at a time", code="INVALID_DATE_RANGE")
    query = plan_resource.base_query(actor)
    if rep_id is not None:
        query = query.where(Plan.rep_id == rep_id)
    if date_from is not None:
        query = query.where(Plan.plan_date >= date_from)
    if date_to is not None:
        query = query.where(Plan.plan_date <= date_to)
    plans = list(session.scalars(query.order_by(Plan.plan_date, Plan.rep_id).limit(limit)))
    return plan_views(session, plans)


def get_plan(session: Session, actor: Actor, plan_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    return plan_resource.get_visible(session, actor, plan_id, for_update=for_update)


def plan_views(session: Session, plans: list[Plan]) -> list[dict[str, Any]]:
    visit_ids = {uuid.UUID(stop["visit_id"]) for plan in plans for stop in plan.stops if stop.get("visit_id")}
    visits = list(session.scalars(select(Visit).where(Visit.id.in_(visit_ids)))) if visit_ids else []
    by_id = {str(row["id"]): row for row in visit_resource.serialize(session, visits)}
    views = []
    for plan, row in zip(plans, plan_resource.serialize(session, plans), strict=True):
        row["stops"] = [dict(stop, visit=by_id.get(str(stop.get("visit_id")))) for stop in plan.stops]
        views.append(row)
    return views
