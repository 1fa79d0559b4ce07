"""Customers over HTTP: the resource's CRUD endpoints and the nearest-customers query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from server.api.router_factory import PROBLEM_RESPONSES, crud_router, json_response
from server.customers.repository import nearest
from server.customers.resources import customer_resource
from server.customers.schemas import NearestQuery, NearestResponse
from server.deps import CurrentActor, DbSession
from server.unit_of_work import UnitOfWorkRoute

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
