"""Territories: CRUD, GeoJSON import and export, unassigned customers, coverage."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from pydantic import AwareDatetime

from server.access.policy import WriteContext
from server.api.router_factory import PROBLEM_RESPONSES, crud_router
from server.customers.resources import customer_resource
from server.deps import CurrentActor, DbSession
from server.territories import balancing, service
from server.territories.resources import territory_resource
from server.territories.schemas import (
    BalanceApplied,
    BalanceProposal,
    TerritoryCoverage,
    TerritoryFeatureCollection,
    TerritoryImportResult,
    UnassignedCustomerPage,
)
from server.unit_of_work import UnitOfWorkRoute

extra = APIRouter(prefix="/territories", tags=["territories"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


@extra.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=TerritoryImportResult,
    summary="Import a GeoJSON FeatureCollection",
)
def import_territories(
    collection: Annotated[dict[str, Any], Body(description="RFC 7946 FeatureCollection")],
    session: DbSession,
    actor: CurrentActor,
    name_property: Annotated[
        str | None, Query(max_length=100, description="The property that holds each feature's name")
    ] = None,
) -> dict[str, Any]:
    """Every feature is checked first (each problem with its index and code); one bad feature imports
    nothing. Winding is normalised; overlaps with other territories are reported; customers move
    to the territories that now cover them. Names: `properties.name`, else the property named by
    `name_property`, else NAME, title, territory (and their spellings), else the feature's `id`;
    `names_from` says which were used."""
    return service.import_collection(WriteContext(session, actor), territory_resource, collection, name_property)


@extra.get(
    "/export",
    response_model=TerritoryFeatureCollection,
    summary="The territories the caller sees, as a GeoJSON FeatureCollection",
)
def export_territories(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return service.export_collection(session, territory_resource, actor)


@extra.get(
    "/unassigned-customers",
    response_model=UnassignedCustomerPage,
    summary="Customers with a location outside every territory",
)
def unassigned(
    session: DbSession,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    return service.unassigned_customers(session, actor, limit, cursor)


@extra.get(
    "/{item_id}/coverage",
    response_model=TerritoryCoverage,
    summary="Customers by tier, visits due and done in a period",
)
def territory_coverage(
    item_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    territory = territory_resource.get_visible(session, actor, item_id)
    return service.coverage(session, territory, start, end)


@extra.post(
    "/balance",
    response_model=BalanceProposal,
    summary="Propose moving customers so that reps' monthly workloads are even",
)
def propose_balance(body: balancing.BalanceRequest, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Nothing changes: the answer lists the moves and each rep's workload before and after.
    Apply it with POST /territories/balance/apply."""
    return balancing.propose(session, actor, body)


@extra.post("/balance/apply", response_model=BalanceApplied, summary="Apply a balancing proposal")
def apply_balance(body: balancing.ApplyRequest, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return balancing.apply(WriteContext(session, actor), customer_resource, body)


router = APIRouter()
router.include_router(extra)  # before /territories/{item_id}
router.include_router(crud_router(territory_resource, tag="territories"))
