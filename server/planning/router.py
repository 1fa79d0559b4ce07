"""Planning over HTTP (PLANNING.md): runs, publishing, published days, re-planning, adherence."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import AppSettings, CurrentActor, DbSession
from server.planning.adherence import Adherence, plan_adherence
from server.planning.plans import get_plan, list_plans, plan_views
from server.planning.publish import publish_run
from server.planning.reoptimize import ReoptimizeRequest, reoptimize_plan
from server.planning.runs import (
    cancel_run,
    fail_lost_parts,
    get_run,
    list_runs,
    parts_of,
    require_planner,
    run_view,
    start_run,
)
from server.planning.schemas import PlanningRunCreate, PlanningRunList, PlanningRunRead, PlanRead
from server.unit_of_work import UnitOfWorkRoute

runs_router = APIRouter(
    prefix="/planning/runs", tags=["planning"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES
)
plans_router = APIRouter(prefix="/plans", tags=["planning"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


def _view(session: DbSession, run_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    run = get_run(session, actor, run_id)
    return run_view(run, parts_of(session, [run.id])[run.id])


@runs_router.post(
    "",
    status_code=202,
    response_model=PlanningRunRead,
    summary="Plan reps' days (queued; solved by a worker)",
)
def create_run(body: PlanningRunCreate, session: DbSession, actor: CurrentActor, response: Response) -> dict[str, Any]:
    """The run is stored and queued; `GET /planning/runs/{id}` shows its progress and, once it
    has succeeded, the proposal to review and publish."""
    run = start_run(session, actor, body)
    response.headers["Location"] = f"/api/v1/planning/runs/{run.id}"
    return run_view(run, parts_of(session, [run.id])[run.id])


@runs_router.get("", response_model=PlanningRunList, summary="Recent runs, newest first")
def runs(session: DbSession, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    require_planner(actor)
    fail_lost_parts(session, actor.org_id)
    found = list_runs(session, actor, limit)
    parts = parts_of(session, [run.id for run in found])
    return {"items": [run_view(run, parts[run.id]) for run in found]}


@runs_router.get("/{run_id}", response_model=PlanningRunRead, summary="A run: progress, then its proposal")
def run(run_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    require_planner(actor)
    fail_lost_parts(session, actor.org_id)
    return _view(session, run_id, actor)


@runs_router.post("/{run_id}/publish", response_model=PlanningRunRead, summary="Publish: plans and planned visits")
def publish(run_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """One transaction. 409 `PLAN_STALE` when the data the run read has changed since;
    409 `RUN_NOT_PUBLISHABLE` unless the run has succeeded."""
    publish_run(session, actor, run_id)
    return _view(session, run_id, actor)


@runs_router.post("/{run_id}/cancel", response_model=PlanningRunRead, summary="Cancel a queued or running run")
def cancel(run_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    cancel_run(session, actor, run_id)
    return _view(session, run_id, actor)


@plans_router.get("", response_model=list[PlanRead], summary="Published days, stops in order with their visits")
def plans(
    session: DbSession,
    actor: CurrentActor,
    rep_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return list_plans(session, actor, rep_id, date_from, date_to, limit)


@plans_router.get("/{plan_id}", response_model=PlanRead, summary="A published day")
def plan(plan_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return plan_views(session, [get_plan(session, actor, plan_id)])[0]


@plans_router.post("/{plan_id}/reoptimize", response_model=PlanRead, summary="Re-plan the rest of the day")
def reoptimize(
    plan_id: uuid.UUID, body: ReoptimizeRequest, session: DbSession, actor: CurrentActor, settings: AppSettings
) -> dict[str, Any]:
    """Visits done and in progress stay; the rest is re-solved from the position (default: the
    rep's last GPS fix, else the last visited customer) and the time (default: now), and saved."""
    updated = reoptimize_plan(session, actor, plan_id, body, osrm_url=settings.routing_osrm_url)
    return plan_views(session, [updated])[0]


@plans_router.get("/{plan_id}/adherence", response_model=Adherence, summary="Planned against done")
def adherence(plan_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Adherence:
    return plan_adherence(session, actor, plan_id)
