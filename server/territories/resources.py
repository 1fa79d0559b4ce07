"""The territory resource: polygons, their reps, and the customers that follow them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from server.access.policy import WriteContext
from server.api.resource import ResourceSpec
from server.models import Territory, TerritoryRep
from server.territories import service
from server.territories.policy import TerritoryPolicy
from server.territories.schemas import TerritoryCreate, TerritoryListQuery, TerritoryRead, TerritoryUpdate


def _filters(stmt: Select[Any], query: TerritoryListQuery) -> Select[Any]:
    if query.rep_id is not None:
        stmt = stmt.where(
            Territory.id.in_(select(TerritoryRep.territory_id).where(TerritoryRep.user_id == query.rep_id))
        )
    return stmt


def after_territory_write(ctx: WriteContext, territory: Territory, relations: dict[str, Any]) -> None:
    service.set_reps(ctx, territory, relations)
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
    convert_values=service.geometry_value,
    relation_fields=("rep_ids",),
    after_write=after_territory_write,
    after_delete=after_territory_delete,
    enrich=service.add_rep_ids,
)
