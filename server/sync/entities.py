"""Which resources sync, reusing the API's specs: the same schemas validate a
mutation as a request, and the same policies decide what the caller may do."""

from __future__ import annotations

from typing import Any

from server.activities.policy import PhotoPolicy, PlanPolicy
from server.activities.router import (
    contact_resource,
    note_resource,
    opportunity_resource,
    task_resource,
    visit_resource,
)
from server.activities.schemas import PhotoCreate, PhotoRead, PhotoUpdate, PlanRead, PlanUpdate, PlanWrite
from server.api.resource import ResourceSpec
from server.customers.router import customer_resource
from server.models import Photo, Plan
from shared.sync.protocol import Entity

photo_resource: ResourceSpec[Photo] = ResourceSpec(
    model=Photo,
    name="photo",
    path="/photos",
    read_schema=PhotoRead,
    create_schema=PhotoCreate,
    update_schema=PhotoUpdate,
    policy=PhotoPolicy(),
)

plan_resource: ResourceSpec[Plan] = ResourceSpec(
    model=Plan,
    name="plan",
    path="/plans",
    read_schema=PlanRead,
    create_schema=PlanWrite,
    update_schema=PlanUpdate,
    policy=PlanPolicy(),
)

SYNCED: dict[Entity, ResourceSpec[Any]] = {
    Entity.customer: customer_resource,
    Entity.contact: contact_resource,
    Entity.opportunity: opportunity_resource,
    Entity.note: note_resource,
    Entity.photo: photo_resource,
    Entity.visit: visit_resource,
    Entity.task: task_resource,
    Entity.plan: plan_resource,
}
