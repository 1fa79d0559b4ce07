"""Territories: CRUD, GeoJSON import and export, unassigned customers, coverage."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from pydantic import AwareDatetime
from sqlalchemy import Select, select

from server.api.resource import ResourceSpec, WriteContext
from server.api.router_factory import PROBLEM_RESPONSES, crud_router
from server.deps import CurrentActor, DbSession
from server.models import Territory, TerritoryRep
from server.territories import balancing, service
from server.territories.policy import TerritoryPolicy, add_rep_ids, geometry_value, set_reps
from server.territories.schemas import TerritoryCreate, TerritoryListQuery, TerritoryRead, TerritoryUpdate
from server.unit_of_work import UnitOfWorkRoute


def _filters(stmt: Select[Any], query: TerritoryListQuery) -> Select[Any]:
    if query.rep_id is not None:
        stmt = stmt.where(
            Territory.id.in_(select(TerritoryRep.territory_id).where(TerritoryRep.user_id == query.rep_id))
        )
    return stmt


def after_territory_write(ctx: WriteContext, territory: Territory, relations: dict[str, Any]) -> None:
    set_reps(ctx, territory, relations)
    service.reassign_customers(ctx.session, territory.org_id, territory.id)


def after_territory_delete(ctx: WriteContext, territory: Territory) -> None:
    service.reassign_customers(ctx.session, territory.org_id, territory.id)


territory_resource: ResourceSpec[Territory] = ResourceSpec(
    model=Territory,
    name="territory",
    path="/territories",
    read_schema=TerritoryRead,
    create_schema=TerritoryCreate,
    update_schema=TerritoryUpdate,
    policy=TerritoryPolicy(),
    list_query=TerritoryListQuery,
    extra_filters=_filters,
    geometry_fields=("geometry",),
    convert_values=geometry_value,
    relation_fields=("rep_ids",),
    after_write=after_territory_write,
    after_delete=after_territory_delete,
    enrich=add_rep_ids,
)

extra = APIRouter(prefix="/territories", tags=["territories"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


@extra.post("/import", status_code=status.HTTP_201_CREATED, summary="Import a GeoJSON FeatureCollection")
def import_territories(
    collection: Annotated[dict[str, Any], Body(description="RFC 7946 FeatureCollection; properties.name required")],
    session: DbSession,
    actor: CurrentActor,
) -> dict[str, Any]:
    """Every feature is checked first (each problem with its index and code); one bad feature imports
    nothing. Winding is normalised; overlaps with other territories are reported; customers move
    to the territories that now cover them."""
    return service.import_collection(WriteContext(session, actor), territory_resource, collection)


@extra.get("/export", summary="The territories the caller sees, as a GeoJSON FeatureCollection")
def export_territories(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return service.export_collection(session, territory_resource, actor)


@extra.get("/unassigned-customers", summary="Customers with a location outside every territory")
def unassigned(
    session: DbSession,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    return service.unassigned_customers(session, actor, limit, cursor)


@extra.get("/{item_id}/coverage", summary="Customers by tier, visits due and done in a period")
def territory_coverage(
    item_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    territory = territory_resource.get_visible(session, actor, item_id)
    return service.coverage(session, territory, start, end)


@extra.post("/balance", summary="Propose moving customers so that reps' monthly workloads are even")
def propose_balance(body: balancing.BalanceRequest, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Nothing changes: the answer lists the moves and each rep's workload before and after.
    Apply it with POST /territories/balance/apply."""
    return balancing.propose(session, actor, body)


@extra.post("/balance/apply", summary="Apply a balancing proposal")
def apply_balance(body: balancing.ApplyRequest, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    from server.customers.router import customer_resource

    return balancing.apply(WriteContext(session, actor), customer_resource, body)


router = APIRouter()
router.include_router(extra)  # before /territories/{item_id}
router.include_router(crud_router(territory_resource, tag="territories"))
