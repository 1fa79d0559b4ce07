"""The customer resource: the one description the API, sync, imports and the planner share."""

from __future__ import annotations

from server.api.resource import ResourceSpec
from server.customers.policy import CustomerPolicy
from server.customers.repository import add_customer_analytics, apply_customer_filters
from server.customers.schemas import CustomerCreate, CustomerListQuery, CustomerRead, CustomerUpdate
from server.customers.service import convert_customer_values
from server.models import Customer

customer_resource: ResourceSpec[Customer] = ResourceSpec(
    model=Customer,
    name="customer",
    path="/customers",
    read_schema=CustomerRead,
    create_schema=CustomerCreate,
    update_schema=CustomerUpdate,
    policy=CustomerPolicy(),
    list_query=CustomerListQuery,
    equality_filters={
        "status": Customer.status,
        "tier": Customer.tier,
        "territory_id": Customer.territory_id,
        "owner_id": Customer.owner_id,
        "assigned_by": Customer.assigned_by,
    },
    extra_filters=apply_customer_filters,
    point_fields=("location",),
    convert_values=convert_customer_values,
    enrich=add_customer_analytics,
)
