"""Contacts, visits, tasks, opportunities, orders and notes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Select

from server.activities.policy import (
    CustomerChildPolicy,
    NotePolicy,
    PersonalRecordPolicy,
    TaskPolicy,
    after_visit_write,
)
from server.activities.schemas import (
    ByCustomerQuery,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    NoteCreate,
    NoteListQuery,
    NoteRead,
    NoteUpdate,
    OpportunityCreate,
    OpportunityListQuery,
    OpportunityRead,
    OpportunityUpdate,
    OrderCreate,
    OrderRead,
    OrderUpdate,
    TaskCreate,
    TaskListQuery,
    TaskRead,
    TaskUpdate,
    VisitCreate,
    VisitListQuery,
    VisitRead,
    VisitUpdate,
)
from server.api.resource import ResourceSpec
from server.api.router_factory import crud_router
from server.customers.policy import normalise_contact_details
from server.models import Contact, Note, Opportunity, Order, Task, Visit
from shared.sync.merge import REP_EDITABLE_FIELDS

contact_resource: ResourceSpec[Contact] = ResourceSpec(
    model=Contact,
    name="contact",
    path="/contacts",
    read_schema=ContactRead,
    create_schema=ContactCreate,
    update_schema=ContactUpdate,
    policy=CustomerChildPolicy(Contact.customer_id, rep_writes=True, rep_deletes=True, not_null={"name"}),
    list_query=ByCustomerQuery,
    equality_filters={"customer_id": Contact.customer_id},
    convert_values=normalise_contact_details,
)


def _visit_window(stmt: Select[Any], query: VisitListQuery) -> Select[Any]:
    if query.planned_from is not None:
        stmt = stmt.where(Visit.planned_start >= query.planned_from)
    if query.planned_to is not None:
        stmt = stmt.where(Visit.planned_start < query.planned_to)
    return stmt


visit_resource: ResourceSpec[Visit] = ResourceSpec(
    model=Visit,
    name="visit",
    path="/visits",
    read_schema=VisitRead,
    create_schema=VisitCreate,
    update_schema=VisitUpdate,
    policy=PersonalRecordPolicy(Visit, "rep_id", customer_required=True, rep_editable=None, not_null={"status"}),
    list_query=VisitListQuery,
    equality_filters={"customer_id": Visit.customer_id, "rep_id": Visit.rep_id, "status": Visit.status},
    extra_filters=_visit_window,
    point_fields=("check_in_location", "check_out_location"),
    after_write=after_visit_write,
)

task_resource: ResourceSpec[Task] = ResourceSpec(
    model=Task,
    name="task",
    path="/tasks",
    read_schema=TaskRead,
    create_schema=TaskCreate,
    update_schema=TaskUpdate,
    policy=TaskPolicy(
        Task,
        "assignee_id",
        customer_required=False,
        rep_editable=set(REP_EDITABLE_FIELDS["task"]),
        not_null={"kind", "title", "priority", "status"},
    ),
    list_query=TaskListQuery,
    equality_filters={
        "customer_id": Task.customer_id,
        "assignee_id": Task.assignee_id,
        "status": Task.status,
        "kind": Task.kind,
    },
)

opportunity_resource: ResourceSpec[Opportunity] = ResourceSpec(
    model=Opportunity,
    name="opportunity",
    path="/opportunities",
    read_schema=OpportunityRead,
    create_schema=OpportunityCreate,
    update_schema=OpportunityUpdate,
    policy=CustomerChildPolicy(Opportunity.customer_id, rep_writes=True, not_null={"title", "stage", "currency"}),
    list_query=OpportunityListQuery,
    equality_filters={"customer_id": Opportunity.customer_id, "stage": Opportunity.stage},
)

order_resource: ResourceSpec[Order] = ResourceSpec(
    model=Order,
    name="order",
    path="/orders",
    read_schema=OrderRead,
    create_schema=OrderCreate,
    update_schema=OrderUpdate,
    # Purchase history comes from the ERP or a manager, never from the field.
    policy=CustomerChildPolicy(Order.customer_id, rep_writes=False, not_null={"order_date", "amount", "currency"}),
    list_query=ByCustomerQuery,
    equality_filters={"customer_id": Order.customer_id},
)

note_resource: ResourceSpec[Note] = ResourceSpec(
    model=Note,
    name="note",
    path="/notes",
    read_schema=NoteRead,
    create_schema=NoteCreate,
    update_schema=NoteUpdate,
    policy=NotePolicy(Note.customer_id, rep_writes=True, rep_deletes=True, not_null={"kind", "body", "occurred_at"}),
    list_query=NoteListQuery,
    equality_filters={"customer_id": Note.customer_id, "kind": Note.kind, "author_id": Note.author_id},
)

router = APIRouter()
for resource, tag in (
    (contact_resource, "contacts"),
    (visit_resource, "visits"),
    (task_resource, "tasks"),
    (opportunity_resource, "opportunities"),
    (order_resource, "orders"),
    (note_resource, "notes"),
):
    router.include_router(crud_router(resource, tag=tag))
