"""What a rule does: create a task, set a field, notify people, call a webhook, send an email.

Every action writes through the resources' write path (or records what leaves the
server in the same transaction, for the job queue to send), so what a rule creates is
checked, versioned and synced like anything a person creates.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from server.access.policy import WriteContext
from server.integrations.email import queue_email
from server.integrations.webhooks import queue_delivery
from server.models import Customer, TerritoryRep, User, Webhook, WorkflowRule
from server.notifications.service import notify
from server.workflows.fields import RESOURCES, checked_value
from server.workflows.schemas import Assignee, CallWebhook, CreateTask, Notify, SendEmail, SetField
from shared.enums import Role, TaskStatus

if TYPE_CHECKING:
    from server.workflows.engine import Firing

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


class ActionFailed(Exception):
    """The action could not run (no one to assign, no address); logged on the run."""


class ReferenceGone(ActionFailed):
    """The rule names a user or webhook that no longer exists: the rule needs fixing."""


def fill(template: str, record: Mapping[str, Any]) -> str:
    """`{customer_name}`, `{outcome}`, `{customer.city}`: the record's values; an unknown
    placeholder stays as written."""

    def value(match: re.Match[str]) -> str:
        try:
            found = record[match.group(1)]
        except KeyError:
            return match.group(0)
        return "" if found is None else str(getattr(found, "value", found))

    return _PLACEHOLDER.sub(value, template)


def perform(
    ctx: WriteContext, rule: WorkflowRule, firing: Firing, record: Mapping[str, Any], action: Any
) -> dict[str, Any]:
    """Run one validated action; returns what it did (for the run's log)."""
    if isinstance(action, CreateTask):
        return _create_task(ctx, firing, record, action)
    if isinstance(action, SetField):
        return _set_field(ctx, firing, action)
    if isinstance(action, Notify):
        return _notify(ctx, rule, firing, record, action)
    if isinstance(action, CallWebhook):
        return _call_webhook(ctx, rule, firing, record, action)
    if isinstance(action, SendEmail):
        return _send_email(ctx, rule, firing, record, action)
    raise ActionFailed(f"unknown action {type(action).__name__}")


# ---- people -------------------------------------------------------------------------------


def _live_user(ctx: WriteContext, user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    user = ctx.session.get(User, user_id)
    if user is None or user.org_id != ctx.actor.org_id or user.deleted_at is not None or not user.active:
        return None
    return user


def _customer(ctx: WriteContext, firing: Firing) -> Customer | None:
    customer_id = firing.customer_id()
    return ctx.session.get(Customer, customer_id) if customer_id else None


def _owner(ctx: WriteContext, firing: Firing) -> User | None:
    """The customer's owner, else the first active rep of its territory."""
    customer = _customer(ctx, firing)
    if customer is None:
        return None
    owner = _live_user(ctx, customer.owner_id)
    if owner is not None or customer.territory_id is None:
        return owner
    return ctx.session.scalar(
        select(User)
        .join(TerritoryRep, (TerritoryRep.user_id == User.id) & (TerritoryRep.org_id == User.org_id))
        .where(
            TerritoryRep.org_id == ctx.actor.org_id,
            TerritoryRep.territory_id == customer.territory_id,
            User.role == Role.rep,
            User.active,
            User.deleted_at.is_(None),
        )
        .order_by(User.id)
        .limit(1)
    )


def _visiting_rep(ctx: WriteContext, firing: Firing) -> User | None:
    record = firing.record
    for attribute in ("rep_id", "assignee_id"):
        if hasattr(record, attribute):
            return _live_user(ctx, getattr(record, attribute)) or _owner(ctx, firing)
    return _owner(ctx, firing)


def people(ctx: WriteContext, firing: Firing, who: Assignee | uuid.UUID) -> list[User]:
    """The users an assignee or recipient means; ActionFailed when nobody."""
    if isinstance(who, uuid.UUID):
        user = _live_user(ctx, who)
        if user is None:
            raise ReferenceGone(f"user {who} no longer exists or is deactivated")
        return [user]
    if who is Assignee.admins:
        return list(
            ctx.session.scalars(
                select(User)
                .where(User.org_id == ctx.actor.org_id, User.role == Role.admin, User.active, User.deleted_at.is_(None))
                .order_by(User.id)
            )
        )
    rep = _owner(ctx, firing) if who is Assignee.owner else _visiting_rep(ctx, firing)
    if who is Assignee.manager:
        manager = _live_user(ctx, rep.manager_id) if rep is not None else None
        if manager is None:
            raise ActionFailed("the rep has no manager to tell")
        return [manager]
    if rep is None:
        raise ActionFailed(f"the {firing.entity} has no {who.value.replace('_', ' ')}")
    return [rep]


# ---- the actions ----------------------------------------------------------------------------


def _create_task(ctx: WriteContext, firing: Firing, record: Mapping[str, Any], action: CreateTask) -> dict[str, Any]:
    if action.assignee is Assignee.admins:
        raise ActionFailed("a task has one assignee; admins is for notifications")
    assignee = people(ctx, firing, action.assignee)[0]
    task = RESOURCES["task"].insert(
        ctx,
        {
            "customer_id": firing.customer_id(),
            "assignee_id": assignee.id,
            "kind": action.kind,
            "title": fill(action.title, record)[:300],
            "description": fill(action.description, record) if action.description else None,
            "priority": action.priority,
            "due_at": datetime.now(UTC) + timedelta(days=action.due_in_days),
            "status": TaskStatus.open,
        },
    )
    return {"task_id": str(task.id), "assignee_id": str(assignee.id)}


def _set_field(ctx: WriteContext, firing: Firing, action: SetField) -> dict[str, Any]:
    try:
        changes = checked_value(firing.entity, action.field, action.value)
    except Exception as error:
        raise ReferenceGone(getattr(error, "detail", str(error))) from None
    spec = RESOURCES[firing.entity]
    spec.change(ctx, firing.record, changes)
    return {"field": action.field}


def _notify(
    ctx: WriteContext, rule: WorkflowRule, firing: Firing, record: Mapping[str, Any], action: Notify
) -> dict[str, Any]:
    recipients: dict[uuid.UUID, User] = {}
    for who in action.recipients:
        for user in people(ctx, firing, who):
            recipients[user.id] = user
    created = [
        notify(
            ctx,
            user.id,
            title=fill(action.title, record),
            body=fill(action.body, record) if action.body else None,
            entity=firing.entity,
            entity_id=firing.record.id,
            rule_id=rule.id,
        )
        for user in recipients.values()
    ]
    return {"notified": [str(n.recipient_id) for n in created]}


def _call_webhook(
    ctx: WriteContext, rule: WorkflowRule, firing: Firing, record: Mapping[str, Any], action: CallWebhook
) -> dict[str, Any]:
    webhook = ctx.session.get(Webhook, action.webhook_id)
    if webhook is None or webhook.org_id != ctx.actor.org_id or webhook.deleted_at is not None:
        raise ReferenceGone(f"webhook {action.webhook_id} no longer exists")
    if not webhook.active:
        raise ActionFailed(f"webhook {webhook.id} is switched off ({webhook.disabled_reason or 'by an admin'})")
    payload = getattr(record, "payload", lambda: dict(record))()
    delivery = queue_delivery(ctx.session, webhook, firing.trigger.value, firing.entity, payload, rule_id=rule.id)
    return {"delivery_id": str(delivery.id)}


def _send_email(
    ctx: WriteContext, rule: WorkflowRule, firing: Firing, record: Mapping[str, Any], action: SendEmail
) -> dict[str, Any]:
    address: str | None
    if action.to == "customer":
        customer = _customer(ctx, firing)
        address = customer.email if customer is not None else None
    elif action.to in ("owner", "visiting_rep", "manager"):
        address = people(ctx, firing, Assignee(action.to))[0].email
    else:
        address = action.to
    if not address:
        raise ActionFailed(f"the {action.to.replace('_', ' ')} has no email address")
    message = queue_email(
        ctx.session,
        ctx.actor.org_id,
        address,
        fill(action.subject, record),
        fill(action.body, record),
        rule_id=rule.id,
    )
    return {"email_id": str(message.id), "to": address}
