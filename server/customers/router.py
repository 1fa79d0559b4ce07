from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from server.api.resource import ResourceSpec
from server.api.router_factory import PROBLEM_RESPONSES, crud_router, json_response
from server.customers.policy import CustomerPolicy, convert_customer_values
from server.customers.repository import apply_customer_filters, nearest
from server.customers.schemas import (
    CustomerCreate,
    CustomerListQuery,
    CustomerRead,
    CustomerUpdate,
    NearestQuery,
    NearestResponse,
)
from server.deps import CurrentActor, DbSession
from server.models import Customer
from server.unit_of_work import UnitOfWorkRoute

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
    },
    extra_filters=apply_customer_filters,
    point_fields=("location",),
    convert_values=convert_customer_values,
)

nearest_router = APIRouter(
    prefix="/customers", tags=["customers"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES
)


_nearest_adapter: TypeAdapter[NearestResponse] = TypeAdapter(NearestResponse)


@nearest_router.get("/nearest", response_model=NearestResponse, summary="Customers nearest a point")
def nearest_customers(session: DbSession, actor: CurrentActor, query: Annotated[NearestQuery, Query()]) -> Response:
    """The visible customers closest to (lat, lon), by great-circle distance."""
    rows = nearest(session, actor, query.lat, query.lon, query.limit)
    customers = customer_resource.serialize(session, [customer for customer, _ in rows])
    items = [{"distance_m": distance, "customer": data} for (_, distance), data in zip(rows, customers, strict=True)]
    return json_response(_nearest_adapter, {"items": items})


router = APIRouter()
router.include_router(nearest_router)  # before /customers/{id}
router.include_router(crud_router(customer_resource, tag="customers"))
