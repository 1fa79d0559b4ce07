"""The CRM's costs on the seeded 100,000-customer organisation (issue 19).

    python -m bench.crm [--customers 100000] [--reps 200] [--writes 400]

1. Workflow rules on the write path: a visit completed through the resource write path
   (what HTTP and sync push run), each in its own transaction and rolled back, with no
   rules, with 20 active rules none of which match, and with 20 rules of which one
   matches and creates a task. The added time is the p95 difference.
2. The RFM and churn job over the organisation's customers and orders, twice: the first
   run (nothing computed before) stores every customer's figures, the second finds no
   segment or risk changed.

Uses the bench database of bench/api_load.py (built once, ~4 minutes).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.api_load import SLUG, prepare_database
from bench.common import record_results
from server.access.actor import load_actor
from server.access.policy import WriteContext
from server.analytics.rfm import recompute_customer_analytics
from server.models import Customer, Order, Organization, User, Visit, WorkflowRule
from server.visits.resources import visit_resource
from shared.enums import Role, VisitStatus


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _rules(org_id: uuid.UUID, admin_id: uuid.UUID, matching: bool) -> list[WorkflowRule]:
    """20 rules on visit_completed, as an organisation would have them: each tests the
    outcome and the customer's tier; with `matching`, the last one fires and creates a task."""
    rules = []
    for n in range(20):
        fires = matching and n == 19
        outcome = "bench outcome" if fires else f"outcome that never happens {n}"
        rules.append(
            WorkflowRule(
                org_id=org_id,
                name=f"bench rule {n}",
                trigger="visit_completed",
                conditions={
                    "all": [
                        {"field": "outcome", "op": "equals", "value": outcome},
                        {"field": "customer.tier", "op": "in", "value": ["A", "B", "C"]},
                    ]
                },
                actions=[
                    {
                        "type": "create_task",
                        "title": "Follow up with {customer_name}",
                        "kind": "follow_up",
                        "priority": "normal",
                        "due_in_days": 3,
                        "assignee": "visiting_rep",
                        "required": False,
                    }
                ],
                created_by=admin_id,
            )
        )
    return rules


CONFIGURATIONS = ("none", "none-matching", "one-matching")


def time_writes(url: str, writes: int) -> dict[str, list[float]]:
    """Milliseconds per write path call (the visit's change and everything it sets off), per
    configuration. The configurations take turns write by write, so whatever else the
    machine does falls on all of them alike."""
    engine = create_engine(url)
    samples: dict[str, list[float]] = {rules: [] for rules in CONFIGURATIONS}
    with Session(engine) as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == SLUG))
        admin = session.scalar(select(User).where(User.org_id == org_id, User.role == Role.admin).limit(1))
        manager = session.scalar(select(User).where(User.org_id == org_id, User.role == Role.manager).limit(1))
        assert org_id is not None and admin is not None and manager is not None
        visit_ids = list(
            session.scalars(
                select(Visit.id)
                .join(User, User.id == Visit.rep_id)
                .where(Visit.org_id == org_id, User.manager_id == manager.id)
                .limit(writes)
            )
        )
    for visit_id, rules in ((v, r) for v in visit_ids for r in CONFIGURATIONS):
        with Session(engine) as session, session.begin():
            if rules != "none":
                session.add_all(_rules(org_id, admin.id, matching=rules == "one-matching"))
                session.flush()
            actor = load_actor(session, session.get(User, manager.id))  # type: ignore[arg-type]
            visit = visit_resource.get_visible(session, actor, visit_id, for_update=True)
            visit.status = VisitStatus.planned  # (the seeded history is done; not timed, rolled back)
            session.flush()
            session.info.clear()  # a new request: the rules are read again
            started = time.perf_counter()
            visit_resource.change(
                WriteContext(session, actor),
                visit,
                {"status": VisitStatus.completed, "outcome": "bench outcome", "check_out_at": datetime.now(UTC)},
            )
            session.flush()
            samples[rules].append((time.perf_counter() - started) * 1000)
            session.rollback()
    engine.dispose()
    return samples


def time_rfm(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    out: dict[str, Any] = {}
    with Session(engine) as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == SLUG))
        out["customers"] = session.scalar(select(func.count()).where(Customer.org_id == org_id))
        out["orders"] = session.scalar(select(func.count()).where(Order.org_id == org_id))
    assert org_id is not None
    for run in ("first", "second"):
        with Session(engine) as session, session.begin():
            if run == "first":
                session.execute(text("DELETE FROM customer_analytics WHERE org_id = :o"), {"o": org_id})
        with Session(engine) as session, session.begin():
            started = time.perf_counter()
            result = recompute_customer_analytics(session, org_id)
        out[f"{run}_run_s"] = round(time.perf_counter() - started, 2)
        out[f"{run}_run_changed"] = result["changed"]
        print(f"RFM and churn, {run} run: {out[f'{run}_run_s']} s, {result['changed']} customers changed")
    with Session(engine) as session:
        segments = session.execute(
            text(
                "SELECT segment, count(*), count(*) FILTER (WHERE churn_risk) FROM customer_analytics "
                "WHERE org_id = :o GROUP BY segment ORDER BY segment"
            ),
            {"o": org_id},
        ).all()
    out["segments"] = {segment: {"customers": n, "churn_risk": risk} for segment, n, risk in segments}
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    url = prepare_database(args.customers, args.reps, args.rebuild)
    results: dict[str, Any] = {"rules": {}}
    time_writes(url, 20)  # warm the caches and the connection
    measured = time_writes(url, args.writes)
    for rules in CONFIGURATIONS:
        samples = measured[rules]
        figures = {
            "writes": len(samples),
            "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(percentile(samples, 0.95), 2),
        }
        results["rules"][rules] = figures
        print(f"write path, rules {rules}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms")
    base = results["rules"]["none"]["p95_ms"]
    for rules in ("none-matching", "one-matching"):
        results["rules"][rules]["added_p95_ms"] = round(results["rules"][rules]["p95_ms"] - base, 2)
        print(f"rules add at p95 ({rules}): {results['rules'][rules]['added_p95_ms']} ms")
    results["rfm"] = time_rfm(url)
    path = record_results("crm", argv, vars(args), results)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
