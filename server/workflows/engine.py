"""Firing rules: the write path tells the engine what it wrote; the engine finds the
triggers that write is, runs the organisation's matching rules in the same transaction,
and queues the webhooks subscribed to the event.

- Record-triggered rules run where the write runs (HTTP, sync push, imports, the
  planner's publish, jobs): `ResourceSpec` calls `record_written` after every insert
  and change, so the tasks a rule creates commit, and sync, with the write.
- Each action runs in a savepoint: a failing action is undone alone, logged on the run,
  and the person's write stands, unless the action is `required` (then the whole write
  fails with 422 WORKFLOW_ACTION_FAILED).
- A rule's own writes fire rules again one level deeper; at `MAX_DEPTH` the engine
  stops and logs `loop_stopped` instead of running (two rules that undo each other).
- A stored rule that names a field or a user that is gone is logged `invalid`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.policy import WriteContext
from server.errors import AppError
from server.integrations.webhooks import queue_event
from server.models import Customer, WorkflowRule, WorkflowRun
from server.workflows import actions as action_runners
from server.workflows.conditions import UnknownConditionField, holds, json_value
from server.workflows.fields import RESOURCES
from server.workflows.schemas import TRIGGER_ENTITY, Action, Trigger
from shared.enums import CustomerStatus, Role, VisitStatus

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
_RULES_KEY = "workflow_rules"
_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


class WorkflowActionFailed(AppError):
    status, code, title = 422, "WORKFLOW_ACTION_FAILED", "A required workflow action failed"


@dataclass
class Firing:
    """One trigger on one record: the record and what the change replaced."""

    trigger: Trigger
    record: Any
    previous: dict[str, Any] = field(default_factory=dict)
    fire_key: str | None = None  # scheduled triggers: once per occasion

    @property
    def entity(self) -> str:
        return TRIGGER_ENTITY[self.trigger]

    def customer_id(self) -> uuid.UUID | None:
        return self.record.id if self.entity == "customer" else getattr(self.record, "customer_id", None)


class RecordView(Mapping[str, Any]):
    """The fields conditions and messages read: the record's API fields, `previous_*`,
    and `customer.*` (the customer is loaded only when a condition asks for it)."""

    def __init__(self, session: Session, firing: Firing) -> None:
        self._session = session
        self._firing = firing
        self._own = RESOURCES[firing.entity].to_dict(firing.record)
        self._customer: dict[str, Any] | None = None

    def _customer_fields(self) -> dict[str, Any]:
        if self._customer is None:
            customer_id = self._firing.customer_id()
            customer = self._session.get(Customer, customer_id) if customer_id else None
            self._customer = RESOURCES["customer"].to_dict(customer) if customer is not None else {}
        return self._customer

    def __getitem__(self, key: str) -> Any:
        if key in self._own:
            return self._own[key]
        if key.startswith("previous_"):
            return self._firing.previous.get(key.removeprefix("previous_"))
        if key.startswith("customer."):
            fields = self._customer_fields()
            name = key.removeprefix("customer.")
            if name in fields:
                return fields[name]
        if key == "customer_name":
            return self._customer_fields().get("name") if self._firing.entity != "customer" else self._own.get("name")
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._own)

    def __len__(self) -> int:
        return len(self._own)

    def payload(self) -> dict[str, Any]:
        return {name: json_value(value) for name, value in self._own.items() if name != "field_clocks"}


# ---- from a write to its triggers -------------------------------------------------------


def firings_for_write(entity: str, obj: Any, before: Mapping[str, Any] | None) -> list[Firing]:
    """The triggers a write is. `before` holds the old values of the fields it changed
    (None for an insert)."""
    changed = before or {}
    if entity == "customer":
        if before is None:
            return [Firing(Trigger.lead_created, obj)] if obj.status == CustomerStatus.lead else []
        if "tier" in changed and changed["tier"] != obj.tier:
            return [Firing(Trigger.tier_changed, obj, {"tier": json_value(changed["tier"])})]
    elif entity == "visit":
        became_completed = obj.status == VisitStatus.completed and (
            before is None or ("status" in changed and changed["status"] != VisitStatus.completed)
        )
        if became_completed:
            return [Firing(Trigger.visit_completed, obj)]
    elif entity == "opportunity":
        if before is not None and "stage" in changed and changed["stage"] != obj.stage:
            return [Firing(Trigger.opportunity_stage_changed, obj, {"stage": json_value(changed["stage"])})]
    elif entity == "order" and before is None:
        return [Firing(Trigger.order_recorded, obj)]
    return []


def record_written(ctx: WriteContext, entity: str, obj: Any, before: Mapping[str, Any] | None) -> None:
    """Called by the write path after every insert and change."""
    if entity not in RESOURCES:
        return
    for firing in firings_for_write(entity, obj, before):
        fire(ctx, firing)


def fire(ctx: WriteContext, firing: Firing) -> list[WorkflowRun]:
    """Run every enabled rule of the organisation on this trigger, then queue its webhooks."""
    session = ctx.session
    view = RecordView(session, firing)
    runs = [
        run
        for rule in rules_for(session, ctx.actor.org_id, firing.trigger)
        if (run := run_rule(ctx, rule, firing, view)) is not None
    ]
    queue_event(session, ctx.actor.org_id, firing.trigger.value, firing.entity, view.payload)
    return runs


def rules_for(session: Session, org_id: uuid.UUID, trigger: Trigger) -> list[WorkflowRule]:
    """The enabled rules of a trigger, read once per transaction (a write that fires
    many times, a sync push of 200 visits, asks the database once)."""
    cache: dict[uuid.UUID, dict[str, list[WorkflowRule]]] = session.info.setdefault(_RULES_KEY, {})
    by_trigger = cache.get(org_id)
    if by_trigger is None:
        by_trigger = {}
        rules = session.scalars(
            select(WorkflowRule)
            .where(WorkflowRule.org_id == org_id, WorkflowRule.enabled, WorkflowRule.deleted_at.is_(None))
            .order_by(WorkflowRule.created_at, WorkflowRule.id)
        )
        for rule in rules:
            by_trigger.setdefault(rule.trigger, []).append(rule)
        cache[org_id] = by_trigger
    return by_trigger.get(trigger.value, [])


def forget_rules(session: Session) -> None:
    """A rule was saved in this transaction: the next write reads them again."""
    session.info.pop(_RULES_KEY, None)


def rule_actor(rule: WorkflowRule) -> Actor:
    """Rules act for the organisation (they assign tasks to anyone in it), in the name of
    the admin who made the rule."""
    return Actor(
        user_id=rule.created_by or uuid.UUID(int=0), org_id=rule.org_id, role=Role.admin, email="workflow-rules"
    )


def run_rule(ctx: WriteContext, rule: WorkflowRule, firing: Firing, view: RecordView) -> WorkflowRun | None:
    """Evaluate one rule and, when it matches, run its actions and log the run.
    None: the conditions did not hold (nothing is logged)."""
    session = ctx.session
    depth = ctx.rule_depth
    try:
        matched = holds(rule.conditions, view)
    except UnknownConditionField as gone:
        return _log(session, rule, firing, depth, "invalid", [], f"the conditions name {gone}, which no longer exists")
    if not matched:
        return None
    if depth >= MAX_DEPTH:
        logger.warning("workflow rule %s stopped at depth %d on %s %s", rule.id, depth, firing.entity, firing.record.id)
        return _log(
            session,
            rule,
            firing,
            depth,
            "loop_stopped",
            [],
            f"stopped: rules fired rules {depth} deep (the limit is {MAX_DEPTH}); check rules that undo each other",
        )
    acting = WriteContext(session, rule_actor(rule), rule_depth=depth + 1)
    results: list[dict[str, Any]] = []
    status = "ok"
    for raw in rule.actions:
        kind = str(raw.get("type", "?"))
        try:
            action = _ACTION_ADAPTER.validate_python(raw)
        except ValidationError as error:
            results.append({"type": kind, "result": "invalid", "error": error.errors()[0]["msg"]})
            status = "invalid"
            continue
        try:
            with session.begin_nested():
                detail = action_runners.perform(acting, rule, firing, view, action)
            results.append({"type": kind, "result": "ok", **detail})
        except (AppError, action_runners.ActionFailed) as error:
            message = getattr(error, "detail", None) or str(error)
            results.append({"type": kind, "result": "failed", "error": message})
            # "invalid" (the rule names something gone: fix the rule) outranks "failed".
            if isinstance(error, action_runners.ReferenceGone):
                status = "invalid"
            elif status == "ok":
                status = "failed"
            logger.warning("workflow rule %s action %s failed: %s", rule.id, kind, message)
            if getattr(action, "required", False):
                raise WorkflowActionFailed(
                    f"Rule {rule.name!r}: its required {kind} action failed: {message}",
                    extra={"rule_id": str(rule.id), "action": kind},
                ) from None
    return _log(session, rule, firing, depth, status, results, None)


def _log(
    session: Session,
    rule: WorkflowRule,
    firing: Firing,
    depth: int,
    status: str,
    results: list[dict[str, Any]],
    error: str | None,
) -> WorkflowRun:
    run = WorkflowRun(
        org_id=rule.org_id,
        rule_id=rule.id,
        trigger=firing.trigger.value,
        entity=firing.entity,
        entity_id=firing.record.id,
        depth=depth,
        status=status,
        actions=results,
        error=error,
        fire_key=firing.fire_key,
    )
    session.add(run)
    session.flush()
    return run
