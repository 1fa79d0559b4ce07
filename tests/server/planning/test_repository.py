"""What a run reads, on the fixed world (real PostGIS): m1's reps r1 and r2 over the week of
Monday 2026-12-21 (r1 is off on the 24th, the organisation on the 25th)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update

from server.models import Customer, Task, User, Visit
from server.planning.problem import build_problem
from server.planning.repository import load_planning_input, load_unserved_customers
from shared.enums import TaskKind
from tests.server.world import WORLD as W

MONDAY = date(2026, 12, 21)


def test_the_run_reads_its_reps_customers_absences_fixed_visits_and_requests(db: Any) -> None:
    visit = W.child("visit", W.c1)
    db.execute(
        update(Visit)
        .where(Visit.id == visit)
        .values(
            fixed=True,
            planned_start=datetime(2026, 12, 21, 10, 0, tzinfo=UTC),
            planned_end=datetime(2026, 12, 21, 10, 30, tzinfo=UTC),
        )
    )
    request = uuid.uuid4()
    db.add(
        Task(
            id=request,
            org_id=W.org_a,
            customer_id=W.c2,
            assignee_id=W.r2,
            kind=TaskKind.service_request,
            title="Fix the fridge",
            due_at=datetime(2026, 12, 23, 17, 0, tzinfo=UTC),
        )
    )
    db.flush()
    data = load_planning_input(db, W.org_a, [W.r1, W.r2], MONDAY, 5)
    assert [rep.id for rep in data.reps] == sorted([W.r1, W.r2])
    r1 = next(rep for rep in data.reps if rep.id == W.r1)
    assert r1.home is None and r1.territory_centre is not None
    assert abs(r1.territory_centre[0] - 45.755) < 1e-6 and abs(r1.territory_centre[1] - 4.805) < 1e-6
    assert {c.id: c.rep_ids for c in data.customers} == {W.c1: frozenset({W.r1}), W.c2: frozenset({W.r2})}
    assert sorted((a.user_id, a.starts_on) for a in data.absences if a.user_id) == [(W.r1, date(2026, 12, 24))]
    assert [a.starts_on for a in data.absences if a.user_id is None] == [date(2026, 12, 25)]
    assert [(f.id, f.rep_id) for f in data.fixed_visits] == [(visit, W.r1)]
    assert [(s.id, s.customer.id) for s in data.service_requests] == [(request, W.c2)]

    built = build_problem(data)
    assert built.no_rep == [] and built.reps_without_start == []
    # The world's reps work on Mondays only: day 0 of this week.
    assert sorted(built.shifts) == [0]
    assert [a.id for a in built.appointments] == [str(visit)]
    assert [r.id for r in built.requests] == [str(request)]


def test_another_teams_customers_and_another_organisations_are_not_read(db: Any) -> None:
    data = load_planning_input(db, W.org_a, [W.r3, W.admin_b], MONDAY, 5)
    assert [rep.id for rep in data.reps] == [W.r3]  # org B's admin is not one of org A's people
    assert [c.id for c in data.customers] == [W.c3]


def test_customers_no_active_rep_may_visit_are_found_for_an_organisation_wide_run(db: Any) -> None:
    assert load_unserved_customers(db, W.org_a) == []  # every world customer has its rep
    # r3 leaves: t3 has no active rep any more, and c3's owner is r3.
    db.execute(update(User).where(User.id == W.r3).values(active=False))
    stray = uuid.uuid4()
    db.add(
        Customer(id=stray, org_id=W.org_a, name="No territory", status="customer", location="SRID=4326;POINT(4.9 45.8)")
    )
    db.add(Customer(id=uuid.uuid4(), org_id=W.org_a, name="Nowhere", status="lead"))  # no location: not planned
    db.flush()
    assert sorted(row.id for row in load_unserved_customers(db, W.org_a)) == sorted([W.c3, stray])
    # Org B has no rep at all: its customer is reported there, never in org A.
    assert [row.id for row in load_unserved_customers(db, W.org_b)] == [W.cb]


def test_a_customers_own_time_on_site_wins_over_its_tiers(db: Any) -> None:
    db.execute(update(Customer).where(Customer.id == W.c1).values(service_minutes=50))
    db.flush()
    data = load_planning_input(db, W.org_a, [W.r1, W.r2], MONDAY, 5)
    built = build_problem(data)
    service = {customer.id: customer.service for customer in built.customers}
    assert service[str(W.c1)] == 50 * 60
    assert (
        service[str(W.c2)] == data.settings.service_minutes[next(c.tier for c in data.customers if c.id == W.c2)] * 60
    )
