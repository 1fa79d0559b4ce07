"""What a visit write sets in motion beyond its own row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.access.policy import WriteContext
from server.errors import InvalidInput
from server.models import Customer, Visit
from server.tracking.verification import verify_visit
from shared.enums import VisitStatus


def check_visit_times(visit: Visit) -> None:
    """Checked on the stored row, so a PATCH of one end is checked against the other."""
    for start, end in (("planned_start", "planned_end"), ("check_in_at", "check_out_at")):
        begin, finish = getattr(visit, start), getattr(visit, end)
        if begin is not None and finish is not None and finish < begin:
            raise InvalidInput(f"{end} is before {start}", code="INVALID_TIME_RANGE", extra={"field": end})


def after_visit_write(ctx: WriteContext, visit: Visit, relations: dict[str, Any]) -> None:
    """Check-ins are verified against the customer's location; a completed visit moves
    the customer's last_visit_at forward (never back)."""
    check_visit_times(visit)
    verify_visit(ctx.session, visit)
    if visit.status is not VisitStatus.completed:
        return
    when = visit.check_out_at or visit.check_in_at or visit.planned_end or datetime.now(UTC)
    customer = ctx.session.get(Customer, visit.customer_id)
    if customer is not None and (customer.last_visit_at is None or customer.last_visit_at < when):
        customer.last_visit_at = when
