"""Workflow rules as JSON: a trigger, conditions on fields, actions.

Everything an admin sends is checked here before anything is saved: an unknown
trigger, field, operator or action, a value of the wrong type, conditions nested
deeper than `MAX_CONDITION_DEPTH`. What can only be known at run time (a user who
has since been deleted, a webhook switched off) is reported on the rule's runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from server.api.schemas import StrictModel
from shared.enums import TaskKind, TaskPriority

MAX_CONDITION_DEPTH = 4
MAX_CONDITIONS = 50
MAX_ACTIONS = 10


class Trigger(StrEnum):
    """What fires a rule. The first five fire inside the write that causes them; the
    last two are found by the scheduled job (server/workflows/scheduled.py)."""

    lead_created = "lead_created"
    visit_completed = "visit_completed"
    opportunity_stage_changed = "opportunity_stage_changed"
    order_recorded = "order_recorded"
    tier_changed = "tier_changed"
    task_overdue = "task_overdue"
    customer_not_visited = "customer_not_visited"


# The record each trigger is about.
TRIGGER_ENTITY: dict[Trigger, str] = {
    Trigger.lead_created: "customer",
    Trigger.visit_completed: "visit",
    Trigger.opportunity_stage_changed: "opportunity",
    Trigger.order_recorded: "order",
    Trigger.tier_changed: "customer",
    Trigger.task_overdue: "task",
    Trigger.customer_not_visited: "customer",
}
SCHEDULED_TRIGGERS = frozenset({Trigger.task_overdue, Trigger.customer_not_visited})


class Operator(StrEnum):
    equals = "equals"
    not_equals = "not_equals"
    in_ = "in"
    not_in = "not_in"
    greater_than = "greater_than"
    less_than = "less_than"
    is_empty = "is_empty"
    is_not_empty = "is_not_empty"


class Assignee(StrEnum):
    """Whom an action means, resolved against the record that fired the rule."""

    owner = "owner"  # the customer's owner, else the rep of its territory
    visiting_rep = "visiting_rep"  # the visit's rep (a task's assignee, else the owner)
    manager = "manager"  # the manager of the rep above
    admins = "admins"  # every admin of the organisation (notifications only)


class CreateTask(StrictModel):
    type: Literal["create_task"]
    title: str = Field(min_length=1, max_length=300, description="{customer_name} and {field} are filled in")
    description: str | None = Field(default=None, max_length=2_000)
    kind: TaskKind = TaskKind.follow_up
    priority: TaskPriority = TaskPriority.normal
    due_in_days: int = Field(default=0, ge=0, le=365)
    assignee: Assignee | uuid.UUID = Assignee.owner
    required: bool = Field(default=False, description="A failure undoes the write that fired the rule")


class SetField(StrictModel):
    type: Literal["set_field"]
    field: str = Field(min_length=1, max_length=64)
    value: Any = None
    required: bool = False


class Notify(StrictModel):
    type: Literal["notify"]
    recipients: list[Assignee | uuid.UUID] = Field(min_length=1, max_length=20)
    title: str = Field(min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=2_000)
    required: bool = False


class CallWebhook(StrictModel):
    type: Literal["call_webhook"]
    webhook_id: uuid.UUID
    required: bool = False


class SendEmail(StrictModel):
    type: Literal["send_email"]
    to: (
        Literal["owner", "visiting_rep", "manager", "customer"]
        | Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    )
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    required: bool = False


Action = Annotated[CreateTask | SetField | Notify | CallWebhook | SendEmail, Field(discriminator="type")]


class TriggerParams(StrictModel):
    # customer_not_visited: more than frequency x factor days since the last visit
    factor: float = Field(default=1.0, ge=0.1, le=10)


class RuleCreate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2_000)
    trigger: str | None = Field(default=None, max_length=40, description="One of the Trigger values")
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description='{"all": [...]}, {"any": [...]} or {"field": "outcome", "op": "equals", "value": "No answer"}',
    )
    actions: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_ACTIONS,
        description="create_task, set_field, notify, call_webhook or send_email (see the Action schemas)",
    )
    trigger_params: TriggerParams = Field(default_factory=TriggerParams)
    enabled: bool = True
    template: str | None = Field(default=None, max_length=60, description="Start from a built-in template")
    params: dict[str, int] = Field(default_factory=dict, description="The template's parameters, e.g. {'days': 5}")


class RuleUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2_000)
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_ACTIONS)
    trigger_params: TriggerParams | None = None
    enabled: bool | None = None


class RuleRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    trigger: Trigger
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    trigger_params: dict[str, Any]
    enabled: bool
    template: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    row_version: int


class RulePage(BaseModel):
    items: list[RuleRead]


class RunRead(BaseModel):
    id: uuid.UUID
    rule_id: uuid.UUID
    trigger: str
    entity: str
    entity_id: uuid.UUID
    depth: int
    status: str = Field(description="ok | failed | loop_stopped | invalid")
    actions: list[dict[str, Any]]
    error: str | None
    created_at: datetime


class RunPage(BaseModel):
    items: list[RunRead]
    next_cursor: str | None = None


class TemplateParam(BaseModel):
    name: str
    default: int
    minimum: int
    maximum: int
    description: str


class TemplateRead(BaseModel):
    key: str
    name: str
    description: str
    trigger: Trigger
    params: list[TemplateParam]
    rule: dict[str, Any] = Field(description="The rule it creates with the default parameters")


class TemplatePage(BaseModel):
    items: list[TemplateRead]
