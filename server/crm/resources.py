"""The CRM resources: contacts, opportunities, orders, notes and photo metadata."""

from __future__ import annotations

from server.access.contact_details import normalise_contact_details
from server.api.filters import ByCustomerQuery
from server.api.resource import ResourceSpec
from server.crm.opportunities import OpportunityPolicy, record_first_stage, record_stage_change
from server.crm.policy import CustomerChildPolicy, NotePolicy, PhotoPolicy
from server.crm.schemas import (
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
    PhotoCreate,
    PhotoRead,
    PhotoUpdate,
)
from server.models import Contact, Note, Opportunity, Order, Photo

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

opportunity_resource: ResourceSpec[Opportunity] = ResourceSpec(
    model=Opportunity,
    name="opportunity",
    path="/opportunities",
    read_schema=OpportunityRead,
    create_schema=OpportunityCreate,
    update_schema=OpportunityUpdate,
    policy=OpportunityPolicy(Opportunity.customer_id, rep_writes=True, not_null={"title", "stage", "currency"}),
    list_query=OpportunityListQuery,
    equality_filters={"customer_id": Opportunity.customer_id, "stage": Opportunity.stage},
    on_change=record_stage_change,
    after_create=record_first_stage,
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

# Photo metadata syncs; the bytes are a content-addressed file (server/sync/files.py).
# No HTTP CRUD: phones write photos through sync push only.
photo_resource: ResourceSpec[Photo] = ResourceSpec(
    model=Photo,
    name="photo",
    path="/photos",
    read_schema=PhotoRead,
    create_schema=PhotoCreate,
    update_schema=PhotoUpdate,
    policy=PhotoPolicy(),
)
