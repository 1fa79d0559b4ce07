"""`/analytics/pareto`, `/analytics/segments`, `/analytics/churn-risk`, `/users/{id}/next-actions`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from server.analytics import service
from server.api.router_factory import PROBLEM_RESPONSES
from server.db import defer_in_transaction
from server.deps import CurrentActor, DbSession
from server.errors import Forbidden
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


class ParetoPoint(BaseModel):
    top_percent: int
    customers: int
    revenue_share: float


class TierCut(BaseModel):
    tier: str
    customers: int
    customer_share: float
    revenue: Decimal
    revenue_share: float


class Pareto(BaseModel):
    months: int
    territory_id: uuid.UUID | None
    customers: int
    buyers: int
    total_revenue: Decimal
    curve: list[ParetoPoint]
    tiers: list[TierCut]


class Segment(BaseModel):
    segment: str
    customers: int
    share: float
    revenue_12m: Decimal
    churn_risk: int


class Segments(BaseModel):
    computed_at: datetime | None
    customers: int
    segments: list[Segment]


class AtRiskCustomer(BaseModel):
    customer_id: uuid.UUID
    name: str
    tier: str
    last_order_date: date | None
    days_since_last_order: int | None
    usual_interval_days: float | None
    revenue_at_stake: Decimal


class RepAtRisk(BaseModel):
    rep_id: uuid.UUID | None
    rep_name: str
    customers: list[AtRiskCustomer]
    revenue_at_stake: Decimal


class ChurnRisk(BaseModel):
    reps: list[RepAtRisk]


class NextAction(BaseModel):
    kind: str
    rank: int
    title: str
    detail: str
    entity: str
    entity_id: uuid.UUID
    customer_id: uuid.UUID | None
    customer_name: str | None
    at: datetime | None
    revenue_at_stake: Decimal | None = None
    amount: Decimal | None = None


class NextActions(BaseModel):
    user_id: uuid.UUID
    generated_at: datetime
    items: list[NextAction]


class Queued(BaseModel):
    job_id: int


@router.get(
    "/analytics/pareto", response_model=Pareto, tags=["analytics"], summary="Revenue share of the top customers"
)
def get_pareto(
    session: DbSession,
    actor: CurrentActor,
    territory_id: uuid.UUID | None = None,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> Pareto:
    return Pareto.model_validate(service.pareto(session, actor, territory_id=territory_id, months=months))


@router.get("/analytics/segments", response_model=Segments, tags=["analytics"], summary="Customers per RFM segment")
def get_segments(session: DbSession, actor: CurrentActor, territory_id: uuid.UUID | None = None) -> Segments:
    return Segments.model_validate(service.segments(session, actor, territory_id=territory_id))


@router.get("/analytics/churn-risk", response_model=ChurnRisk, tags=["analytics"], summary="Customers at risk, per rep")
def get_churn_risk(
    session: DbSession,
    actor: CurrentActor,
    rep_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Customers per rep")] = 50,
) -> ChurnRisk:
    return ChurnRisk.model_validate(service.churn_risk(session, actor, rep_id=rep_id, limit=limit))


@router.post(
    "/analytics/recompute",
    response_model=Queued,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["analytics"],
    summary="Recompute RFM segments and churn risk now (admins; nightly otherwise)",
)
def recompute(session: DbSession, actor: CurrentActor) -> Queued:
    if not actor.is_admin:
        raise Forbidden("Only admins start the analytics job", code="ROLE_FORBIDDEN")
    job = defer_in_transaction(session, "fieldforce:recompute_customer_analytics", {"org_id": str(actor.org_id)})
    return Queued(job_id=job)


@router.get(
    "/users/{user_id}/next-actions",
    response_model=NextActions,
    tags=["analytics"],
    summary="The user's next best actions (also synced to their phone)",
)
def get_next_actions(user_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> NextActions:
    return NextActions.model_validate(service.next_actions(session, actor, user_id))
