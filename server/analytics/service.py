"""The analytics endpoints' reads, each over the customers the caller sees."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_customer, sees_person
from server.analytics.rfm import SEGMENTS
from server.errors import NotFound
from server.models import (
    Customer,
    CustomerAnalytics,
    Opportunity,
    Order,
    Organization,
    Task,
    Territory,
    TerritoryRep,
    User,
)
from server.organizations.settings import effective_settings
from shared.enums import CustomerStatus, OpportunityStage, TaskStatus, Tier

PARETO_POINTS = (1, 5, 10, 20, 30, 50, 80, 100)


def _visible_customers(actor: Actor, territory_id: uuid.UUID | None) -> Any:
    stmt = select(Customer.id, Customer.tier).where(
        Customer.org_id == actor.org_id, Customer.deleted_at.is_(None), sees_customer(actor)
    )
    if territory_id is not None:
        stmt = stmt.where(Customer.territory_id == territory_id)
    return stmt


def _check_territory(session: Session, actor: Actor, territory_id: uuid.UUID | None) -> None:
    if territory_id is None:
        return
    found = session.scalar(
        select(Territory.id).where(
            Territory.org_id == actor.org_id, Territory.id == territory_id, Territory.deleted_at.is_(None)
        )
    )
    if found is None or not (actor.is_admin or territory_id in actor.territory_ids):
        raise NotFound(f"territory {territory_id} not found", code="TERRITORY_NOT_FOUND")


def pareto(session: Session, actor: Actor, *, territory_id: uuid.UUID | None, months: int) -> dict[str, Any]:
    """Share of revenue from the top x % of customers (by revenue over the last `months`),
    and the A/B/C cut: customers and revenue per tier."""
    _check_territory(session, actor, territory_id)
    since = date.today() - timedelta(days=30 * months)
    customers = _visible_customers(actor, territory_id).subquery()
    revenue = (
        select(Order.customer_id, func.sum(Order.amount).label("revenue"))
        .where(Order.org_id == actor.org_id, Order.deleted_at.is_(None), Order.order_date >= since)
        .group_by(Order.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(customers.c.tier, func.coalesce(revenue.c.revenue, 0))
        .select_from(customers)
        .outerjoin(revenue, revenue.c.customer_id == customers.c.id)
        .order_by(func.coalesce(revenue.c.revenue, 0).desc(), customers.c.id)
    ).all()
    amounts = [Decimal(amount) for _, amount in rows]
    total = sum(amounts, Decimal(0))
    count = len(amounts)
    curve = []
    running = Decimal(0)
    cumulative = []
    for amount in amounts:
        running += amount
        cumulative.append(running)
    for percent in PARETO_POINTS:
        top = max(1, round(count * percent / 100)) if count else 0
        share = float(cumulative[top - 1] / total) if total and top else 0.0
        curve.append({"top_percent": percent, "customers": top, "revenue_share": round(share, 4)})
    tiers: dict[str, dict[str, Any]] = {t.value: {"customers": 0, "revenue": Decimal(0)} for t in Tier}
    for tier, amount in rows:
        tiers[Tier(tier).value]["customers"] += 1
        tiers[Tier(tier).value]["revenue"] += Decimal(amount)
    return {
        "months": months,
        "territory_id": territory_id,
        "customers": count,
        "buyers": sum(1 for a in amounts if a > 0),
        "total_revenue": round(total, 2),
        "curve": curve,
        "tiers": [
            {
                "tier": name,
                "customers": cell["customers"],
                "customer_share": round(cell["customers"] / count, 4) if count else 0.0,
                "revenue": round(cell["revenue"], 2),
                "revenue_share": round(float(cell["revenue"] / total), 4) if total else 0.0,
            }
            for name, cell in tiers.items()
        ],
    }


def segments(session: Session, actor: Actor, *, territory_id: uuid.UUID | None) -> dict[str, Any]:
    """Customers and 12-month revenue per RFM segment, as the last job computed them."""
    _check_territory(session, actor, territory_id)
    customers = _visible_customers(actor, territory_id).subquery()
    rows = session.execute(
        select(
            CustomerAnalytics.segment,
            func.count(),
            func.coalesce(func.sum(CustomerAnalytics.revenue_12m), 0),
            func.count().filter(CustomerAnalytics.churn_risk),
            func.max(CustomerAnalytics.computed_at),
        )
        .join(customers, customers.c.id == CustomerAnalytics.customer_id)
        .group_by(CustomerAnalytics.segment)
    ).all()
    found = {segment: (count, revenue, at_risk, at) for segment, count, revenue, at_risk, at in rows}
    total = sum(count for count, _, _, _ in found.values())
    computed = [at for _, _, _, at in found.values() if at is not None]
    return {
        "computed_at": max(computed) if computed else None,
        "customers": total,
        "segments": [
            {
                "segment": name,
                "customers": found.get(name, (0, 0, 0, None))[0],
                "share": round(found.get(name, (0, 0, 0, None))[0] / total, 4) if total else 0.0,
                "revenue_12m": round(Decimal(found.get(name, (0, 0, 0, None))[1]), 2),
                "churn_risk": found.get(name, (0, 0, 0, None))[2],
            }
            for name in SEGMENTS
        ],
    }


def _rep_of_customer() -> Any:
    """The customer's owner, else the first rep (by id) on its territory."""
    first_territory_rep = (
        select(TerritoryRep.user_id)
        .where(TerritoryRep.org_id == Customer.org_id, TerritoryRep.territory_id == Customer.territory_id)
        .order_by(TerritoryRep.user_id)
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    return func.coalesce(Customer.owner_id, first_territory_rep)


def churn_risk(session: Session, actor: Actor, *, rep_id: uuid.UUID | None, limit: int) -> dict[str, Any]:
    """At-risk customers per rep, most revenue at stake first."""
    rep = _rep_of_customer().label("rep_id")
    stmt = (
        select(
            rep,
            Customer.id,
            Customer.name,
            Customer.tier,
            CustomerAnalytics.last_order_date,
            CustomerAnalytics.recency_days,
            CustomerAnalytics.usual_interval_days,
            CustomerAnalytics.revenue_12m,
        )
        .join(CustomerAnalytics, CustomerAnalytics.customer_id == Customer.id)
        .where(
            Customer.org_id == actor.org_id,
            Customer.deleted_at.is_(None),
            CustomerAnalytics.churn_risk,
            sees_customer(actor),
        )
        .order_by(CustomerAnalytics.revenue_12m.desc(), Customer.id)
    )
    if rep_id is not None:
        visible_rep = session.scalar(
            select(User.id).where(User.org_id == actor.org_id, User.id == rep_id, sees_person(actor, User.id))
        )
        if visible_rep is None:
            raise NotFound(f"rep {rep_id} not found", code="REP_NOT_FOUND")
        stmt = stmt.where(_rep_of_customer() == rep_id)
    by_rep: dict[uuid.UUID | None, list[dict[str, Any]]] = defaultdict(list)
    for rep_value, customer_id, name, tier, last_order, recency, interval, revenue in session.execute(stmt):
        if len(by_rep[rep_value]) < limit:
            by_rep[rep_value].append(
                {
                    "customer_id": customer_id,
                    "name": name,
                    "tier": tier,
                    "last_order_date": last_order,
                    "days_since_last_order": recency,
                    "usual_interval_days": round(interval, 1) if interval is not None else None,
                    "revenue_at_stake": revenue,
                }
            )
    names = {
        user_id: full_name or email
        for user_id, full_name, email in session.execute(
            select(User.id, User.full_name, User.email).where(User.id.in_([r for r in by_rep if r is not None]))
        )
    }
    reps = [
        {
            "rep_id": rep_value,
            "rep_name": names.get(rep_value, "Unassigned") if rep_value else "Unassigned",
            "customers": items,
            "revenue_at_stake": sum((item["revenue_at_stake"] for item in items), Decimal(0)),
        }
        for rep_value, items in by_rep.items()
    ]
    reps.sort(key=lambda r: (-Decimal(str(r["revenue_at_stake"])), str(r["rep_name"])))
    return {"reps": reps}


def next_actions(session: Session, actor: Actor, user_id: uuid.UUID, *, limit: int = 50) -> dict[str, Any]:
    """What the user should do next: overdue tasks, overdue A customers, customers at risk,
    opportunities closing this month, most pressing first."""
    user = session.scalar(
        select(User).where(
            User.org_id == actor.org_id, User.id == user_id, User.deleted_at.is_(None), sees_person(actor, User.id)
        )
    )
    if user is None:
        raise NotFound(f"user {user_id} not found")
    org = session.get(Organization, actor.org_id)
    assert org is not None
    settings = effective_settings(org)
    now = datetime.now(UTC)
    today = now.date()
    territories = select(TerritoryRep.territory_id).where(
        TerritoryRep.org_id == actor.org_id, TerritoryRep.user_id == user.id
    )
    theirs = and_(
        Customer.org_id == actor.org_id,
        Customer.deleted_at.is_(None),
        or_(Customer.owner_id == user.id, Customer.territory_id.in_(territories)),
    )
    items: list[dict[str, Any]] = []
    for task_id, title, due_at, customer_id, customer_name in session.execute(
        select(Task.id, Task.title, Task.due_at, Task.customer_id, Customer.name)
        .outerjoin(Customer, (Customer.id == Task.customer_id) & (Customer.org_id == Task.org_id))
        .where(
            Task.org_id == actor.org_id,
            Task.assignee_id == user.id,
            Task.deleted_at.is_(None),
            Task.status.in_([TaskStatus.open, TaskStatus.in_progress]),
            Task.due_at < now,
        )
        .order_by(Task.due_at)
        .limit(limit)
    ):
        days = (now - due_at).days if due_at is not None else 0
        items.append(
            _item(
                "overdue_task",
                0,
                title,
                f"due {days} day{'s' if days != 1 else ''} ago",
                "task",
                task_id,
                customer_id,
                customer_name,
                due_at,
            )
        )
    frequency_a = settings.visit_frequency_days[Tier.A]
    due_line = func.coalesce(Customer.visit_frequency_days, literal(frequency_a))
    for customer_id, name, last_visit in session.execute(
        select(Customer.id, Customer.name, Customer.last_visit_at)
        .where(
            theirs,
            Customer.tier == Tier.A,
            Customer.status.in_([CustomerStatus.customer, CustomerStatus.prospect]),
            or_(
                Customer.last_visit_at.is_(None),
                Customer.last_visit_at < func.now() - func.make_interval(0, 0, 0, due_line),
            ),
        )
        .order_by(Customer.last_visit_at.asc().nulls_first(), Customer.id)
        .limit(limit)
    ):
        detail = f"last visit {last_visit.date().isoformat()}" if last_visit else "never visited"
        items.append(
            _item(
                "overdue_a_customer", 1, f"Visit {name}", detail, "customer", customer_id, customer_id, name, last_visit
            )
        )
    for customer_id, name, revenue, recency in session.execute(
        select(Customer.id, Customer.name, CustomerAnalytics.revenue_12m, CustomerAnalytics.recency_days)
        .join(CustomerAnalytics, CustomerAnalytics.customer_id == Customer.id)
        .where(theirs, CustomerAnalytics.churn_risk)
        .order_by(CustomerAnalytics.revenue_12m.desc(), Customer.id)
        .limit(limit)
    ):
        item = _item(
            "churn_risk",
            2,
            f"{name} is ordering less",
            f"no order for {recency} days",
            "customer",
            customer_id,
            customer_id,
            name,
            None,
        )
        item["revenue_at_stake"] = revenue
        items.append(item)
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    for opp_id, title, close_date, amount, customer_id, name in session.execute(
        select(
            Opportunity.id,
            Opportunity.title,
            Opportunity.expected_close_date,
            Opportunity.amount,
            Customer.id,
            Customer.name,
        )
        .join(Customer, (Customer.id == Opportunity.customer_id) & (Customer.org_id == Opportunity.org_id))
        .where(
            theirs,
            Opportunity.deleted_at.is_(None),
            Opportunity.stage.not_in([OpportunityStage.won, OpportunityStage.lost]),
            Opportunity.expected_close_date >= month_start,
            Opportunity.expected_close_date < next_month,
        )
        .order_by(Opportunity.expected_close_date, Opportunity.id)
        .limit(limit)
    ):
        item = _item(
            "closing_this_month",
            3,
            title,
            f"closes {close_date.isoformat() if close_date else 'this month'}",
            "opportunity",
            opp_id,
            customer_id,
            name,
            None,
        )
        item["amount"] = amount
        items.append(item)
    items.sort(key=lambda i: i["rank"])
    return {"user_id": user.id, "generated_at": now, "items": items[:limit]}


def _item(
    kind: str,
    rank: int,
    title: str,
    detail: str,
    entity: str,
    entity_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    customer_name: str | None,
    at: datetime | None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "rank": rank,
        "title": title,
        "detail": detail,
        "entity": entity,
        "entity_id": entity_id,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "at": at,
    }
