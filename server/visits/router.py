"""Visits over HTTP: the resource's CRUD endpoints and the presence check against the track.

No `from __future__ import annotations`: FastAPI reads the annotations at runtime.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.api.router_factory import PROBLEM_RESPONSES, crud_router
from server.deps import CurrentActor, DbSession
from server.tracking.service import presence
from server.unit_of_work import UnitOfWorkRoute
from server.visits.resources import visit_resource
from server.visits.schemas import VisitPresence

presence_router = APIRouter(tags=["visits"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


@presence_router.get(
    "/visits/{visit_id}/presence",
    response_model=VisitPresence,
    response_model_exclude_unset=True,  # the "cannot tell" answer has only visit_id, present and reason
    summary="Was the rep there? Checked against the track",
)
def visit_presence(
    visit_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    radius_m: Annotated[float, Query(gt=0, le=5_000)] = 150.0,
    minutes: Annotated[float, Query(gt=0, le=24 * 60)] = 5.0,
) -> dict[str, Any]:
    visit = visit_resource.get_visible(session, actor, visit_id)
    return presence(session, actor, visit, radius_m=radius_m, minutes=minutes)


router = APIRouter()
router.include_router(crud_router(visit_resource, tag="visits"))
router.include_router(presence_router)
