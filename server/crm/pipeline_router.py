"""`POST /customers/{id}/convert`, `GET /opportunities/{id}/history`, `GET /reports/forecast`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.api.router_factory import PROBLEM_RESPONSES
from server.crm.pipeline import ConvertRequest, ConvertResult, convert_lead, forecast, stage_history
from server.deps import CurrentActor, DbSession
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


class StageChange(BaseModel):
    from_stage: str | None
    to_stage: str
    changed_by: uuid.UUID | None
    changed_by_name: str
    changed_at: datetime


class StageHistory(BaseModel):
    items: list[StageChange]


class ForecastRow(BaseModel):
    key: str
    name: str
    month: str
    opportunities: int
    amount: Decimal
    weighted: Decimal


class ForecastTotal(BaseModel):
    amount: Decimal
    weighted: Decimal


class Forecast(BaseModel):
    start_month: str
    months: list[str]
    group_by: str
    currencies: list[str]
    rows: list[ForecastRow]
    totals: dict[str, ForecastTotal]


@router.post(
    "/customers/{customer_id}/convert",
    response_model=ConvertResult,
    tags=["customers"],
    summary="Convert a lead: status, an opportunity and a follow-up task in one go",
)
def convert(customer_id: uuid.UUID, payload: ConvertRequest, session: DbSession, actor: CurrentActor) -> ConvertResult:
    return ConvertResult.model_validate(convert_lead(session, actor, customer_id, payload))


@router.get(
    "/opportunities/{opportunity_id}/history",
    response_model=StageHistory,
    tags=["opportunities"],
    summary="Who moved the opportunity between stages, and when",
)
def history(opportunity_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> StageHistory:
    return StageHistory.model_validate({"items": stage_history(session, actor, opportunity_id)})


@router.get(
    "/reports/forecast",
    response_model=Forecast,
    tags=["reports"],
    summary="Pipeline forecast: amount x probability by expected-close month, per rep or team",
)
def get_forecast(
    session: DbSession,
    actor: CurrentActor,
    start_month: Annotated[date | None, Query(description="Any day of the first month; default this month")] = None,
    months: Annotated[int, Query(ge=1, le=24)] = 6,
    group_by: Literal["rep", "team"] = "rep",
    team_id: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
) -> Forecast:
    first = start_month or date.today()
    return Forecast.model_validate(
        forecast(session, actor, start_month=first, months=months, group_by=group_by, team_id=team_id, rep_id=rep_id)
    )
