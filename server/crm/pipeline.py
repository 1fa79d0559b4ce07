"""From lead to pipeline: converting a lead, an opportunity's stage history, the forecast."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.policy import WriteContext
from server.api.schemas import Currency, Money, StrictModel
from server.crm.resources import opportunity_resource
from server.customers.resources import customer_resource
from server.errors import Conflict, Forbidden, InvalidInput
from server.models import Customer, Opportunity, OpportunityStageChange, Organization, User
from server.organizations.settings import stage_probabilities
from server.reports.service import reps_in_scope
from server.tasks.resources import task_resource
from shared.enums import CustomerStatus, OpportunityStage, Role, TaskKind, TaskStatus

FORECAST_MAX_MONTHS = 24


class ConvertOpportunity(StrictModel):
    title: str = Field(min_length=1, max_length=300)
    stage: OpportunityStage = OpportunityStage.qualified
    amount: Money | None = Field(default=None, ge=0)
    currency: Currency = "EUR"
    probability: int | None = Field(default=None, ge=0, le=100)
    expected_close_date: date | None = None


class ConvertFollowUp(StrictModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    due_in_days: int = Field(default=3, ge=0, le=365)
    assignee_id: uuid.UUID | None = Field(default=None, description="Defaults to the customer's owner, else you")


class ConvertRequest(StrictModel):
    status: CustomerStatus = Field(default=CustomerStatus.prospect, description="prospect or customer")
    opportunity: ConvertOpportunity
    follow_up: ConvertFollowUp = Field(default_factory=ConvertFollowUp)


class ConvertResult(BaseModel):
    customer: dict[str, Any]
    opportunity: dict[str, Any]
    task: dict[str, Any]


def convert_lead(session: Session, actor: Actor, customer_id: uuid.UUID, request: ConvertRequest) -> dict[str, Any]:
    """Lead -> prospect or customer, with an opportunity and a follow-up task, in one
    transaction (the request's): any failure leaves the lead as it was."""
    if request.status not in (CustomerStatus.prospect, CustomerStatus.customer):
        raise InvalidInput("status: a lead converts to a prospect or a customer", extra={"field": "status"})
    ctx = WriteContext(session, actor)
    customer = customer_resource.get_visible(session, actor, customer_id, for_update=True)
    if customer.status != CustomerStatus.lead:
        raise Conflict(
            f"customer {customer_id} is a {customer.status}, not a lead: it was converted already",
            code="ALREADY_CONVERTED",
        )
    if actor.is_rep and customer.owner_id != actor.user_id:
        raise Forbidden("A rep converts only the leads they own", code="NOT_OWNER")
    # A customer's status is a manager's field; converting their own lead is the one
    # status change a rep makes, so it is written with a manager's field rights.
    status_ctx = WriteContext(session, dataclasses.replace(actor, role=Role.manager)) if actor.is_rep else ctx
    customer_resource.change(status_ctx, customer, {"status": request.status})
    opportunity = opportunity_resource.insert(
        ctx, {"customer_id": customer.id, **request.opportunity.model_dump(exclude_none=True)}
    )
    follow_up = request.follow_up
    assignee = follow_up.assignee_id or customer.owner_id or actor.user_id
    if actor.is_rep:
        assignee = actor.user_id
    task = task_resource.insert(
        ctx,
        {
            "customer_id": customer.id,
            "assignee_id": assignee,
            "kind": TaskKind.follow_up,
            "title": follow_up.title or f"Follow up: {opportunity.title}"[:300],
            "due_at": datetime.now(UTC) + timedelta(days=follow_up.due_in_days),
            "status": TaskStatus.open,
        },
    )
    return {
        "customer": customer_resource.to_dict(customer),
        "opportunity": opportunity_resource.to_dict(opportunity),
        "task": task_resource.to_dict(task),
    }


def stage_history(session: Session, actor: Actor, opportunity_id: uuid.UUID) -> list[dict[str, Any]]:
    opportunity = opportunity_resource.get_visible(session, actor, opportunity_id)
    rows = session.execute(
        select(OpportunityStageChange, User.full_name, User.email)
        .outerjoin(User, User.id == OpportunityStageChange.changed_by)
        .where(OpportunityStageChange.opportunity_id == opportunity.id)
        .order_by(OpportunityStageChange.changed_at, OpportunityStageChange.id)
    )
    return [
        {
            "from_stage": change.from_stage,
            "to_stage": change.to_stage,
            "changed_by": change.changed_by,
            "changed_by_name": (name or email) if change.changed_by else "workflow rule",
            "changed_at": change.changed_at,
        }
        for change, name, email in rows
    ]


def _month(day: date | None) -> str:
    assert day is not None  # the query asks for a close date in the window
    return f"{day.year:04d}-{day.month:02d}"


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def forecast(
    session: Session,
    actor: Actor,
    *,
    start_month: date,
    months: int,
    group_by: str,
    team_id: uuid.UUID | None,
    rep_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Open and won opportunities closing in each month: amount, and amount x probability
    (the stage's default where none is set), per rep (the customer's owner) or team."""
    if not 1 <= months <= FORECAST_MAX_MONTHS:
        raise InvalidInput(f"months: 1 to {FORECAST_MAX_MONTHS}", code="INVALID_PERIOD", extra={"field": "months"})
    first = start_month.replace(day=1)
    end = _add_months(first, months)
    reps = {rep.id: rep for rep in reps_in_scope(session, actor, team_id, rep_id)}
    org = session.get(Organization, actor.org_id)
    assert org is not None
    defaults = stage_probabilities(org)
    rows = session.execute(
        select(
            Customer.owner_id,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.probability,
            Opportunity.expected_close_date,
            Opportunity.currency,
        )
        .join(Customer, (Customer.id == Opportunity.customer_id) & (Customer.org_id == Opportunity.org_id))
        .where(
            Opportunity.org_id == actor.org_id,
            Opportunity.deleted_at.is_(None),
            Customer.deleted_at.is_(None),
            Opportunity.stage != OpportunityStage.lost,
            Opportunity.expected_close_date >= first,
            Opportunity.expected_close_date < end,
            Customer.owner_id.in_(list(reps)),
        )
    )
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"opportunities": 0, "amount": Decimal(0), "weighted": Decimal(0)}
    )
    names: dict[str, str] = {}
    currencies: set[str] = set()
    for owner_id, stage, amount, probability, close_date, currency in rows:
        rep = reps.get(owner_id) if owner_id is not None else None
        if rep is None:  # the query keeps only owners in scope
            continue
        key = str(rep.team_id) if group_by == "team" else str(rep.id)
        names[key] = rep.team if group_by == "team" else rep.name
        chance = probability if probability is not None else defaults[OpportunityStage(stage)]
        cell = cells[(key, _month(close_date))]
        cell["opportunities"] += 1
        cell["amount"] += amount or Decimal(0)
        cell["weighted"] += (amount or Decimal(0)) * Decimal(chance) / 100
        currencies.add(currency)
    month_names = [_month(_add_months(first, i)) for i in range(months)]
    return {
        "start_month": month_names[0],
        "months": month_names,
        "group_by": group_by,
        "currencies": sorted(currencies),
        "rows": [
            {
                "key": key,
                "name": names[key],
                "month": month,
                "opportunities": cell["opportunities"],
                "amount": round(cell["amount"], 2),
                "weighted": round(cell["weighted"], 2),
            }
            for (key, month), cell in sorted(cells.items(), key=lambda item: (names[item[0][0]], item[0][1]))
        ],
        "totals": {
            month: {
                "amount": round(sum((c["amount"] for (k, m), c in cells.items() if m == month), Decimal(0)), 2),
                "weighted": round(sum((c["weighted"] for (k, m), c in cells.items() if m == month), Decimal(0)), 2),
            }
            for month in month_names
        },
    }
