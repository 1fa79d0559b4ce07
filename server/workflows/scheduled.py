"""Time-based triggers, found by a job every few minutes: a task past its due time, a
customer not visited for longer than their frequency times the rule's factor.

Each fires once per rule, record and occasion: the run's `fire_key` is the task's due
time, or the customer's last visit, so a task moved to a later date or a customer
visited and overdue again fires anew, and nothing fires twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, select
from sqlalchemy.orm import Session

from server.access.actor import system_actor
from server.access.policy import WriteContext
from server.models import Customer, Organization, Task, WorkflowRule, WorkflowRun
from server.organizations.settings import effective_settings
from server.workflows.engine import Firing, RecordView, run_rule
from server.workflows.schemas import SCHEDULED_TRIGGERS, Trigger
from shared.enums import CustomerStatus, TaskStatus

BATCH = 500  # records per rule per run; the next run continues
# The occasion key, in UTC on both sides (SQL's to_char and Python's strftime agree).
_KEY_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS'


def _not_fired(rule: WorkflowRule, entity_id: Any, key: Any) -> Any:
    return ~exists().where(
        WorkflowRun.rule_id == rule.id, WorkflowRun.entity_id == entity_id, WorkflowRun.fire_key == key
    )


def run_scheduled_rules(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Every organisation's enabled time-based rules; returns runs logged per trigger."""
    now = now or datetime.now(UTC)
    counts = {trigger.value: 0 for trigger in SCHEDULED_TRIGGERS}
    rules = session.scalars(
        select(WorkflowRule)
        .where(
            WorkflowRule.enabled,
            WorkflowRule.deleted_at.is_(None),
            WorkflowRule.trigger.in_([t.value for t in SCHEDULED_TRIGGERS]),
        )
        .order_by(WorkflowRule.org_id, WorkflowRule.created_at)
    ).all()
    for rule in rules:
        ctx = WriteContext(session, system_actor(rule.org_id))
        for firing in _due(session, rule, now):
            if run_rule(ctx, rule, firing, RecordView(session, firing)) is not None:
                counts[rule.trigger] += 1
    return counts


def _due(session: Session, rule: WorkflowRule, now: datetime) -> list[Firing]:
    if rule.trigger == Trigger.task_overdue:
        key = func.to_char(func.timezone("UTC", Task.due_at), _KEY_FORMAT)
        tasks = session.scalars(
            select(Task)
            .where(
                Task.org_id == rule.org_id,
                Task.deleted_at.is_(None),
                Task.status.in_([TaskStatus.open, TaskStatus.in_progress]),
                Task.due_at < now,
                _not_fired(rule, Task.id, key),
            )
            .order_by(Task.due_at, Task.id)
            .limit(BATCH)
        ).all()
        return [Firing(Trigger.task_overdue, task, fire_key=_task_key(task)) for task in tasks]
    org = session.get(Organization, rule.org_id)
    assert org is not None
    frequencies = effective_settings(org).visit_frequency_days
    factor = float((rule.trigger_params or {}).get("factor", 1.0))
    tier_days = func.coalesce(
        Customer.visit_frequency_days, case({tier: days for tier, days in frequencies.items()}, value=Customer.tier)
    )
    since = func.coalesce(Customer.last_visit_at, Customer.created_at)
    key = func.coalesce(func.to_char(func.timezone("UTC", Customer.last_visit_at), _KEY_FORMAT), literal("never"))
    customers = session.scalars(
        select(Customer)
        .where(
            Customer.org_id == rule.org_id,
            Customer.deleted_at.is_(None),
            Customer.status.in_([CustomerStatus.customer, CustomerStatus.prospect]),
            since < literal(now) - func.make_interval(0, 0, 0, 0, 0, 0, tier_days * factor * 86400),
            _not_fired(rule, Customer.id, key),
        )
        .order_by(since, Customer.id)
        .limit(BATCH)
    ).all()
    return [Firing(Trigger.customer_not_visited, c, fire_key=_customer_key(c)) for c in customers]


def _task_key(task: Task) -> str:
    assert task.due_at is not None
    return task.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _customer_key(customer: Customer) -> str:
    if customer.last_visit_at is None:
        return "never"
    return customer.last_visit_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
