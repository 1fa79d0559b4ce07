"""A small, fixed organisation chart for authorization tests.

Organisation A:
- admin `admin_a`
- manager `m1` manages reps `r1`, `r2`; manager `m2` manages rep `r3`
- territories t1 (r1), t2 (r2), t3 (r3): three squares side by side in Lyon
- customers c1 in t1, c2 in t2, c3 in t3; each with a contact, a visit and a
  task by its territory's rep, an opportunity, an order and a note by that rep
- r1 has a day off on 2026-12-24; the organisation is off on 2026-12-25
Organisation B:
- admin `admin_b` with customer `cb` in territory `tb`

Every id is fixed, so tests can name them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from server.access.credentials import hash_password
from server.models import (
    Absence,
    Contact,
    Customer,
    Device,
    Note,
    Opportunity,
    Order,
    Organization,
    Plan,
    PlanningRun,
    PlanningRunPart,
    Task,
    Territory,
    TerritoryRep,
    User,
    Visit,
)
from shared.enums import AbsenceKind, PlanningRunStatus, Role

PASSWORD = "correct-horse-battery"


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def square(lon: float, lat: float, size: float = 0.01) -> str:
    ring = f"{lon} {lat}, {lon + size} {lat}, {lon + size} {lat + size}, {lon} {lat + size}, {lon} {lat}"
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


class World:
    """The fixed ids (class attributes: the world is one and immutable)."""

    org_a = _id(0xA0)
    org_b = _id(0xB0)
    admin_a = _id(0xA1)
    m1 = _id(0xA2)
    m2 = _id(0xA3)
    r1 = _id(0xA4)
    r2 = _id(0xA5)
    r3 = _id(0xA6)
    admin_b = _id(0xB1)
    t1 = _id(0x1001)
    t2 = _id(0x1002)
    t3 = _id(0x1003)
    tb = _id(0x1B01)
    c1 = _id(0x2001)
    c2 = _id(0x2002)
    c3 = _id(0x2003)
    cb = _id(0x2B01)
    r1_phone = _id(0x3001)
    r1_day_off = _id(0x4001)  # 2026-12-24
    holiday_a = _id(0x4002)  # org A, 2026-12-25
    r1_plan = _id(0x5001)  # r1's published day, 2026-11-02: one stop, c1's visit
    m1_run = _id(0x5002)  # m1's run for r1, succeeded, its input since changed (publishing is stale)

    def child(self, kind: str, customer: uuid.UUID) -> uuid.UUID:
        """Ids of the records hanging off a customer (contact, visit, ...)."""
        offsets = {"contact": 1, "visit": 2, "task": 3, "opportunity": 4, "order": 5, "note": 6}
        return uuid.UUID(int=customer.int * 16 + offsets[kind])

    def email(self, user: str) -> str:
        return f"{user.replace('_', '-')}@world.test"


WORLD = World()


def build_world(session: Session) -> World:
    w = WORLD
    password_hash = hash_password(PASSWORD)
    session.add_all(
        [
            Organization(id=w.org_a, name="Org A", slug="org-a", default_country="FR"),
            Organization(id=w.org_b, name="Org B", slug="org-b", default_country="US"),
        ]
    )
    session.flush()

    def user(uid: uuid.UUID, name: str, org: uuid.UUID, role: Role, manager: uuid.UUID | None = None) -> User:
        return User(
            id=uid,
            org_id=org,
            email=w.email(name),
            full_name=name,
            password_hash=password_hash,
            role=role,
            manager_id=manager,
            working_hours={"mon": [["08:00", "17:00"]]},
        )

    session.add_all(
        [
            user(w.admin_a, "admin_a", w.org_a, Role.admin),
            user(w.m1, "m1", w.org_a, Role.manager),
            user(w.m2, "m2", w.org_a, Role.manager),
            user(w.admin_b, "admin_b", w.org_b, Role.admin),
        ]
    )
    session.flush()
    session.add_all(
        [
            user(w.r1, "r1", w.org_a, Role.rep, w.m1),
            user(w.r2, "r2", w.org_a, Role.rep, w.m1),
            user(w.r3, "r3", w.org_a, Role.rep, w.m2),
        ]
    )
    session.flush()
    territories = [
        (w.t1, w.org_a, 4.80, w.r1),
        (w.t2, w.org_a, 4.81, w.r2),
        (w.t3, w.org_a, 4.82, w.r3),
        (w.tb, w.org_b, 4.80, w.admin_b),
    ]
    for tid, org, lon, _ in territories:
        session.add(Territory(id=tid, org_id=org, name=f"T{tid.int}", geometry=square(lon, 45.75)))
    session.flush()
    session.add_all(
        TerritoryRep(org_id=org, territory_id=tid, user_id=rep) for tid, org, _, rep in territories if org == w.org_a
    )
    customers = [
        (w.c1, w.org_a, w.t1, w.r1, 4.805),
        (w.c2, w.org_a, w.t2, w.r2, 4.815),
        (w.c3, w.org_a, w.t3, w.r3, 4.825),
        (w.cb, w.org_b, w.tb, w.admin_b, 4.805),
    ]
    for cid, org, tid, owner, lon in customers:
        session.add(
            Customer(
                id=cid,
                org_id=org,
                name=f"Customer {cid.int:x}",
                territory_id=tid,
                owner_id=owner,
                location=f"SRID=4326;POINT({lon} 45.755)",
                status="customer",
            )
        )
    session.flush()
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for cid, org, _, owner, _ in customers:
        session.add_all(
            [
                Contact(id=w.child("contact", cid), org_id=org, customer_id=cid, name="Contact"),
                Visit(id=w.child("visit", cid), org_id=org, customer_id=cid, rep_id=owner, planned_start=when),
                Task(id=w.child("task", cid), org_id=org, customer_id=cid, assignee_id=owner, title="Task"),
                Opportunity(id=w.child("opportunity", cid), org_id=org, customer_id=cid, title="Deal"),
                Order(
                    id=w.child("order", cid),
                    org_id=org,
                    customer_id=cid,
                    order_date=date(2026, 10, 1),
                    amount=Decimal("100.00"),
                ),
                Note(
                    id=w.child("note", cid), org_id=org, customer_id=cid, author_id=owner, body="Note", occurred_at=when
                ),
            ]
        )
    # r1's phone (the tracking tests report positions through it)
    session.add(Device(id=w.r1_phone, org_id=w.org_a, user_id=w.r1, identifier="r1-phone", name="r1's phone"))
    christmas_eve, christmas = date(2026, 12, 24), date(2026, 12, 25)
    session.add_all(
        [
            Absence(
                id=w.r1_day_off,
                org_id=w.org_a,
                user_id=w.r1,
                starts_on=christmas_eve,
                ends_on=christmas_eve,
                kind=AbsenceKind.day_off,
            ),
            Absence(id=w.holiday_a, org_id=w.org_a, starts_on=christmas, ends_on=christmas, kind=AbsenceKind.holiday),
        ]
    )
    session.flush()
    stop_at = when.isoformat()
    session.add(
        Plan(
            id=w.r1_plan,
            org_id=w.org_a,
            rep_id=w.r1,
            plan_date=when.date(),
            stops=[
                {
                    "visit_id": str(w.child("visit", w.c1)),
                    "customer_id": str(w.c1),
                    "kind": "recurring",
                    "arrival": stop_at,
                    "start": stop_at,
                    "departure": stop_at,
                }
            ],
        )
    )
    params = {"rep_ids": [str(w.r1)], "start_date": "2026-11-02", "days": 1, "time_limit_s": 1, "seed": 0}
    session.add(
        PlanningRun(
            id=w.m1_run,
            org_id=w.org_a,
            created_by=w.m1,
            status=PlanningRunStatus.succeeded,
            params={**params, "publish": False, "organisation_wide": False},
            summary={"due": 0, "planned": 0, "unassigned": 0, "distance_m": 0, "drive_s": 0, "service_s": 0},
            days=[],
            unassigned=[],
        )
    )
    session.flush()
    session.add(
        PlanningRunPart(
            org_id=w.org_a,
            run_id=w.m1_run,
            part=0,
            rep_ids=[str(w.r1)],
            status=PlanningRunStatus.succeeded,
            phase="done",
            percent=100.0,
            watermark="read-before-the-world-changed",
        )
    )
    session.flush()
    return w
