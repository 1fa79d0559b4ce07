"""The table of what syncs: each entity of the wire protocol and the resource
that owns it. The same schemas validate a mutation as a request, the same
policies decide what the caller may do, and the same write path runs."""

from __future__ import annotations

from typing import Any

from server.absences.resources import absence_resource
from server.api.resource import ResourceSpec
from server.crm.resources import (
    contact_resource,
    note_resource,
    opportunity_resource,
    order_resource,
    photo_resource,
)
from server.customers.resources import customer_resource
from server.notifications.resources import notification_resource
from server.planning.resources import plan_resource
from server.tasks.resources import task_resource
from server.visits.resources import visit_resource
from shared.sync.protocol import Entity

SYNCED: dict[Entity, ResourceSpec[Any]] = {
    Entity.customer: customer_resource,
    Entity.contact: contact_resource,
    Entity.opportunity: opportunity_resource,
    Entity.note: note_resource,
    Entity.photo: photo_resource,
    Entity.visit: visit_resource,
    Entity.task: task_resource,
    Entity.plan: plan_resource,
    Entity.absence: absence_resource,
    Entity.order: order_resource,
    Entity.notification: notification_resource,
}
