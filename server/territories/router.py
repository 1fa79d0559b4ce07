from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from server.api.resource import ResourceSpec
from server.api.router_factory import crud_router
from server.models import Territory, TerritoryRep
from server.territories.policy import TerritoryPolicy, add_rep_ids, geometry_value, set_reps
from server.territories.schemas import TerritoryCreate, TerritoryListQuery, TerritoryRead, TerritoryUpdate


def _filters(stmt: Select[Any], query: TerritoryListQuery) -> Select[Any]:
    if query.rep_id is not None:
        stmt = stmt.where(
            Territory.id.in_(select(TerritoryRep.territory_id).where(TerritoryRep.user_id == query.rep_id))
        )
    return stmt


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
    after_write=set_reps,
    enrich=add_rep_ids,
)

router = crud_router(territory_resource, tag="territories")
