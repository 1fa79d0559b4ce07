"""The plan resource: a rep's planned day, written by the planner and synced read-only to the rep."""

from __future__ import annotations

from server.api.resource import ResourceSpec
from server.models import Plan
from server.planning.policy import PlanPolicy
from server.planning.schemas import PlanRead, PlanUpdate, PlanWrite

plan_resource: ResourceSpec[Plan] = ResourceSpec(
    model=Plan,
    name="plan",
    path="/plans",
    read_schema=PlanRead,
    create_schema=PlanWrite,
    update_schema=PlanUpdate,
    policy=PlanPolicy(),
)
