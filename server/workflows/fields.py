"""Which fields a rule may test and set, per record type.

Conditions read the record's API fields (what its read schema shows), the customer's
fields as `customer.<field>` on records that belong to a customer, and what the change
replaced as `previous_<field>` (an opportunity's `previous_stage`, a customer's
`previous_tier`). `set_field` writes through the resource's own update schema, so a
rule can set exactly what a manager could set by hand.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from server.api.resource import ResourceSpec
from server.crm.resources import opportunity_resource, order_resource
from server.customers.resources import customer_resource
from server.errors import InvalidInput
from server.tasks.resources import task_resource
from server.visits.resources import visit_resource
from server.workflows.schemas import TRIGGER_ENTITY, Trigger

RESOURCES: dict[str, ResourceSpec[Any]] = {
    "customer": customer_resource,
    "visit": visit_resource,
    "opportunity": opportunity_resource,
    "order": order_resource,
    "task": task_resource,
}
PREVIOUS_FIELDS: dict[Trigger, frozenset[str]] = {
    Trigger.opportunity_stage_changed: frozenset({"previous_stage"}),
    Trigger.tier_changed: frozenset({"previous_tier"}),
}
# Never set by a rule: identity, tenancy and bookkeeping.
UNSETTABLE = frozenset({"id", "customer_id", "org_id", "row_version", "created_at", "updated_at", "field_clocks"})


@cache
def condition_fields(trigger: Trigger) -> frozenset[str]:
    entity = TRIGGER_ENTITY[trigger]
    own = set(RESOURCES[entity].read_schema.model_fields)
    if entity != "customer":
        own |= {f"customer.{name}" for name in customer_resource.read_schema.model_fields}
    return frozenset(own | PREVIOUS_FIELDS.get(trigger, frozenset()))


def settable_fields(entity: str) -> frozenset[str]:
    return frozenset(RESOURCES[entity].update_schema.model_fields) - UNSETTABLE


def checked_value(entity: str, field: str, value: Any) -> dict[str, Any]:
    """`{field: value}` as the resource's update schema accepts it, or 422 INVALID_ACTION."""
    if field not in settable_fields(entity):
        allowed = ", ".join(sorted(settable_fields(entity)))
        raise InvalidInput(
            f"set_field: a rule on a {entity} cannot set {field!r}; it can set {allowed}",
            code="UNKNOWN_FIELD",
            extra={"field": field},
        )
    try:
        parsed = RESOURCES[entity].update_schema.model_validate({field: value})
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise InvalidInput(
            f"set_field: {value!r} is not a valid {field}: {message}", code="INVALID_ACTION", extra={"field": field}
        ) from None
    return parsed.model_dump(exclude_unset=True)
