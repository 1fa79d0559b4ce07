"""The visit resource: the one description the API, sync and the planner share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from server.access.records import PersonalRecordPolicy
from server.api.resource import ResourceSpec
from server.models import Visit
from server.visits.schemas import VisitCreate, VisitListQuery, VisitRead, VisitUpdate
from server.visits.service import after_visit_write


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
    policy=PersonalRecordPolicy(
        Visit, "rep_id", customer_required=True, rep_editable=None, not_null={"status", "fixed"}
    ),
    list_query=VisitListQuery,
    equality_filters={"customer_id": Visit.customer_id, "rep_id": Visit.rep_id, "status": Visit.status},
    extra_filters=_visit_window,
    point_fields=("check_in_location", "check_out_location"),
    after_write=after_visit_write,
)
