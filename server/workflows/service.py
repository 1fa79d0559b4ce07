"""Saving and reading rules: admins edit them, managers read them, reps do not see them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.api.pagination import decode_cursor, encode_cursor
from server.errors import Forbidden, InvalidInput, NotFound
from server.models import User, Webhook, WorkflowRule, WorkflowRun
from server.workflows.conditions import check_conditions
from server.workflows.engine import forget_rules
from server.workflows.fields import checked_value
from server.workflows.schemas import (
    TRIGGER_ENTITY,
    Action,
    Assignee,
    CallWebhook,
    CreateTask,
    Notify,
    RuleCreate,
    RuleUpdate,
    SetField,
    Trigger,
)
from server.workflows.templates import TEMPLATES

_ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])
RUN_FIELDS = ("id", "rule_id", "trigger", "entity", "entity_id", "depth", "status", "actions", "error", "created_at")
ACTION_TYPES = ("create_task", "set_field", "notify", "call_webhook", "send_email")


def _must_read(actor: Actor) -> None:
    if actor.is_rep:
        raise Forbidden("Workflow rules are for managers and admins", code="ROLE_FORBIDDEN")


def _must_edit(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins change workflow rules", code="ROLE_FORBIDDEN")


def to_read(rule: WorkflowRule) -> dict[str, Any]:
    return {
        name: getattr(rule, name)
        for name in (
            "id",
            "name",
            "description",
            "trigger",
            "conditions",
            "actions",
            "trigger_params",
            "enabled",
            "template",
            "created_by",
            "created_at",
            "updated_at",
            "row_version",
        )
    }


def checked_actions(session: Session, actor: Actor, trigger: Trigger, raw: list[Any]) -> list[dict[str, Any]]:
    """Each action known, well formed and naming things that exist; stored as JSON."""
    for index, item in enumerate(raw):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in ACTION_TYPES:
            raise InvalidInput(
                f"actions[{index}]: {str(kind)[:40]!r} is not an action; use one of {', '.join(ACTION_TYPES)}",
                code="UNKNOWN_ACTION",
                extra={"field": f"actions[{index}]"},
            )
    try:
        actions = _ACTIONS.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"actions[{where}]: {first['msg']}", code="INVALID_ACTION", extra={"field": f"actions[{where}]"}
        ) from None
    if not actions:
        raise InvalidInput("actions: a rule needs at least one action", code="INVALID_ACTION")
    entity = TRIGGER_ENTITY[trigger]
    for action in actions:
        people: list[Assignee | uuid.UUID] = []
        if isinstance(action, CreateTask):
            people = [action.assignee]
            if action.assignee is Assignee.admins:
                raise InvalidInput("create_task: a task has one assignee; admins is for notify", code="INVALID_ACTION")
        elif isinstance(action, Notify):
            people = list(action.recipients)
        elif isinstance(action, SetField):
            checked_value(entity, action.field, action.value)
        elif isinstance(action, CallWebhook):
            hook = session.get(Webhook, action.webhook_id)
            if hook is None or hook.org_id != actor.org_id or hook.deleted_at is not None:
                raise InvalidInput(
                    f"call_webhook: no webhook {action.webhook_id}",
                    code="INVALID_REFERENCE",
                    extra={"field": "webhook_id"},
                )
        for person in people:
            if isinstance(person, uuid.UUID):
                found = session.scalar(
                    select(User.id).where(User.org_id == actor.org_id, User.id == person, User.deleted_at.is_(None))
                )
                if found is None:
                    raise InvalidInput(f"no user {person} in your organisation", code="INVALID_REFERENCE")
    return [action.model_dump(mode="json") for action in actions]


def _trigger(value: str | None) -> Trigger:
    try:
        return Trigger(value or "")
    except ValueError:
        known = ", ".join(t.value for t in Trigger)
        raise InvalidInput(
            f"trigger: {str(value)[:40]!r} is not a trigger; use one of {known}",
            code="UNKNOWN_TRIGGER",
            extra={"field": "trigger"},
        ) from None


def create_rule(session: Session, actor: Actor, payload: RuleCreate) -> WorkflowRule:
    _must_edit(actor)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True, mode="json")
    if payload.template is not None:
        template = TEMPLATES.get(payload.template)
        if template is None:
            raise InvalidInput(
                f"template: no template {payload.template!r}; GET /workflow-rules/templates lists them",
                code="UNKNOWN_TEMPLATE",
                extra={"field": "template"},
            )
        built = template.rule(payload.params)
        # What the admin sent wins over the template's defaults (a name, extra conditions).
        values = {**built, **{k: v for k, v in values.items() if k not in ("params",)}}
    values.pop("params", None)
    if not values.get("name"):
        raise InvalidInput("name is required", code="INVALID_INPUT", extra={"field": "name"})
    trigger = _trigger(values.get("trigger"))
    conditions = values.get("conditions") or {}
    check_conditions(trigger, conditions)
    actions = checked_actions(session, actor, trigger, list(values.get("actions") or []))
    rule = WorkflowRule(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        name=values["name"],
        description=values.get("description"),
        trigger=trigger.value,
        conditions=conditions,
        actions=actions,
        trigger_params=dict(values.get("trigger_params") or {"factor": 1.0}),
        enabled=values.get("enabled", True),
        template=payload.template,
        created_by=actor.user_id,
    )
    session.add(rule)
    session.flush()
    forget_rules(session)
    return rule


def get_rule(session: Session, actor: Actor, rule_id: uuid.UUID, *, for_update: bool = False) -> WorkflowRule:
    _must_read(actor)
    stmt = select(WorkflowRule).where(
        WorkflowRule.org_id == actor.org_id, WorkflowRule.id == rule_id, WorkflowRule.deleted_at.is_(None)
    )
    rule = session.scalar(stmt.with_for_update() if for_update else stmt)
    if rule is None:
        raise NotFound(f"workflow rule {rule_id} not found")
    return rule


def list_rules(session: Session, actor: Actor) -> list[WorkflowRule]:
    _must_read(actor)
    return list(
        session.scalars(
            select(WorkflowRule)
            .where(WorkflowRule.org_id == actor.org_id, WorkflowRule.deleted_at.is_(None))
            .order_by(WorkflowRule.created_at, WorkflowRule.id)
        )
    )


def change_rule(session: Session, actor: Actor, rule_id: uuid.UUID, update: RuleUpdate) -> WorkflowRule:
    _must_edit(actor)
    rule = get_rule(session, actor, rule_id, for_update=True)
    changes = update.model_dump(exclude_unset=True, mode="json")
    nulled = sorted(name for name, value in changes.items() if value is None and name != "description")
    if nulled:
        raise InvalidInput(f"{nulled[0]} cannot be null", extra={"field": nulled[0]})
    trigger = Trigger(rule.trigger)
    if "conditions" in changes:
        check_conditions(trigger, changes["conditions"])
    if "actions" in changes:
        changes["actions"] = checked_actions(session, actor, trigger, changes["actions"])
    for name, value in changes.items():
        setattr(rule, name, value)
    session.flush()
    forget_rules(session)
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: uuid.UUID) -> None:
    _must_edit(actor)
    rule = get_rule(session, actor, rule_id, for_update=True)
    rule.deleted_at = datetime.now(UTC)
    rule.enabled = False
    session.flush()
    forget_rules(session)


def list_runs(session: Session, actor: Actor, rule_id: uuid.UUID, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """Newest first; the cursor is the last run's id within its second (created_at, id)."""
    rule = get_rule(session, actor, rule_id)
    stmt = select(WorkflowRun).where(WorkflowRun.org_id == actor.org_id, WorkflowRun.rule_id == rule.id)
    if cursor:
        last = session.get(WorkflowRun, decode_cursor(cursor))
        if last is not None:
            stmt = stmt.where(tuple_(WorkflowRun.created_at, WorkflowRun.id) < tuple_(last.created_at, last.id))
    rows = list(session.scalars(stmt.order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return {
        "items": [
            {
                name: getattr(run, name)
                for name in (
                    "id",
                    "rule_id",
                    "trigger",
                    "entity",
                    "entity_id",
                    "depth",
                    "status",
                    "actions",
                    "error",
                    "created_at",
                )
            }
            for run in page
        ],
        "next_cursor": encode_cursor(page[-1].id) if len(rows) > limit and page else None,
    }


def list_templates(actor: Actor) -> list[dict[str, Any]]:
    _must_read(actor)
    return [
        {
            "key": template.key,
            "name": template.name,
            "description": template.description,
            "trigger": template.trigger,
            "params": [vars(param) for param in template.params],
            "rule": template.rule({}),
        }
        for template in TEMPLATES.values()
    ]
