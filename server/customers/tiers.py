"""Recompute customer tiers from purchase history (trailing 12 months)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.access.actor import system_actor
from server.access.policy import WriteContext
from server.api.resource import announce_write
from server.models import Customer, Order
from shared.enums import CustomerStatus, Tier
from shared.value import abc_tiers


def recompute_tiers(session: Session, org_id: uuid.UUID, *, months: int = 12) -> dict[str, int]:
    """Set every active customer's tier by its share of revenue; returns tier counts.

    Only changed rows are written, so their row_version (and sync) moves only
    when the tier really changes.
    """
    since = datetime.now(UTC).date() - timedelta(days=30 * months)
    revenue = (
        select(Order.customer_id, func.sum(Order.amount).label("revenue"))
        .where(Order.org_id == org_id, Order.deleted_at.is_(None), Order.order_date >= since)
        .group_by(Order.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(Customer, func.coalesce(revenue.c.revenue, 0))
        .outerjoin(revenue, revenue.c.customer_id == Customer.id)
        .where(Customer.org_id == org_id, Customer.deleted_at.is_(None), Customer.status != CustomerStatus.inactive)
        .order_by(Customer.id)
    ).all()
    tiers = abc_tiers([float(amount) for _, amount in rows])
    counts = {"A": 0, "B": 0, "C": 0, "changed": 0}
    changed: list[tuple[Customer, Tier]] = []
    for (customer, _), tier in zip(rows, tiers, strict=True):
        counts[tier.value] += 1
        if customer.tier != tier:
            changed.append((customer, customer.tier))
            customer.tier = tier
            counts["changed"] += 1
    session.flush()
    # A customer moving between tiers fires the organisation's tier_changed rules.
    ctx = WriteContext(session, system_actor(org_id))
    for customer, previous in changed:
        announce_write(ctx, "customer", customer, {"tier": previous})
    return counts
