"""The hand-counted week of the reports' tests (see test_reports.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from server.models import (
    Customer,
    Order,
    Organization,
    Position,
    SyncClient,
    SyncConflict,
    SyncMutationResult,
    Task,
    Visit,
    Workday,
)
from shared.enums import TaskStatus, VerificationStatus, VisitStatus
from tests.server.world import WORLD as W

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=PARIS)


def visit(
    db: Session,
    rep: uuid.UUID,
    customer: uuid.UUID,
    planned: datetime | None,
    status: VisitStatus,
    check_in: datetime | None = None,
    minutes_on_site: int = 0,
    verification: VerificationStatus = VerificationStatus.pending,
) -> None:
    db.add(
        Visit(
            org_id=W.org_a,
            rep_id=rep,
            customer_id=customer,
            planned_start=planned,
            planned_end=planned + timedelta(minutes=45) if planned else None,
            status=status,
            check_in_at=check_in,
            check_out_at=check_in + timedelta(minutes=minutes_on_site) if check_in and minutes_on_site else None,
            verification_status=verification,
        )
    )


@pytest.fixture
def week(db: Session) -> None:
    db.execute(update(Organization).where(Organization.id == W.org_a).values(timezone="Europe/Paris"))
    done, ok = VisitStatus.completed, VerificationStatus.verified
    # r1, Monday: two visits done at c1 (the second checked in 30 minutes late), one missed, one
    # skipped, one cancelled (counts nowhere), and an unplanned visit at c2 without a usable fix.
    visit(db, W.r1, W.c1, paris(5, 9), done, paris(5, 9, 5), 30, ok)
    visit(db, W.r1, W.c1, paris(5, 11), done, paris(5, 11, 30), 30, VerificationStatus.out_of_range)
    visit(db, W.r1, W.c1, paris(5, 14), VisitStatus.missed)
    visit(db, W.r1, W.c1, paris(5, 16), VisitStatus.skipped)
    visit(db, W.r1, W.c1, paris(5, 17), VisitStatus.cancelled)
    visit(db, W.r1, W.c2, None, done, paris(5, 18), 20, VerificationStatus.unverified)
    # r1, Tuesday 01:30 in Paris (Monday 23:30 UTC): done at c3, on time.
    visit(db, W.r1, W.c3, paris(6, 1, 30), done, paris(6, 1, 35), 15, ok)
    # r2, Monday: one visit done at c2, on time.
    visit(db, W.r2, W.c2, paris(5, 10), done, paris(5, 10), 45, ok)
    # c1 ordered on Monday: r1's two visits there that day were productive.
    db.add(Order(org_id=W.org_a, customer_id=W.c1, order_date=date(2026, 10, 5), amount=Decimal("250.00")))
    # r1's working day, 08:00 to 18:30, and a track: 3 km in 5 minutes (driving), a stop, then a
    # 24-minute gap (not counted: the phone was not reporting).
    db.add(
        Workday(org_id=W.org_a, user_id=W.r1, day=date(2026, 10, 5), started_at=paris(5, 8), ended_at=paris(5, 18, 30))
    )
    for at, lat in (
        (paris(5, 8), 45.75),
        (paris(5, 8, 5), 45.777),
        (paris(5, 8, 6), 45.777),
        (paris(5, 8, 30), 45.804),
    ):
        db.add(Position(org_id=W.org_a, device_id=W.r1_phone, user_id=W.r1, device_time=at, lat=lat, lon=4.80))
    # Tasks: one done on Monday at 10:00 (its status clock says when), one due Tuesday and open.
    done_task = Task(org_id=W.org_a, assignee_id=W.r1, title="Send the offer", status=TaskStatus.done)
    db.add(done_task)
    db.add(Task(org_id=W.org_a, assignee_id=W.r1, title="Call back", due_at=paris(6, 10)))
    # A lead r1 created on Tuesday.
    db.add(Customer(org_id=W.org_a, name="New lead", owner_id=W.r1, status="lead", created_at=paris(6, 12)))
    # r1's phone synced two changes on Monday; one lost a merge on Tuesday.
    client_id = uuid.uuid4()
    db.add(SyncClient(client_id=client_id, org_id=W.org_a, user_id=W.r1, protocol=1, last_seen_at=paris(6, 9)))
    db.flush()
    for mid in (1, 2):
        db.add(SyncMutationResult(client_id=client_id, mid=mid, payload_hash="x", result={}, created_at=paris(5, 12)))
    db.add(
        SyncConflict(
            org_id=W.org_a,
            user_id=W.r1,
            entity="customer",
            entity_id=W.c1,
            mutation={},
            reason="lost_to_later_edit",
            created_at=paris(6, 9),
        )
    )
    db.flush()
    status_ms = int(paris(5, 10).timestamp() * 1000)
    db.execute(
        text(
            "UPDATE tasks SET field_clocks = jsonb_set(field_clocks, '{status}', CAST(:clock AS jsonb)) WHERE id = :id"
        ),
        {"clock": f'{{"v": 1, "h": {status_ms << 16}, "c": "server"}}', "id": done_task.id},
    )
    db.flush()
