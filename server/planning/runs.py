"""Planning runs: asking for a plan, watching it, cancelling it.

A run is checked and stored in the request; the solving happens on the job
queue (`server.planning.job`). A run is split into one part per manager's team
so several workers solve in parallel; each part is one job. The run's status
and progress are derived from its parts while they work, and the merged
result is written to the run when the last part finishes.

A part whose worker died stops sending heartbeats: `fail_lost_parts` marks it
(and its run) failed instead of leaving it running for ever. It runs on every
read of runs and every minute from a worker.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.db import defer_in_transaction, rows_affected
from server.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from server.models import Organization, PlanningRun, PlanningRunPart, User
from server.organizations.settings import effective_settings
from server.planning.schemas import PlanningRunCreate
from shared.enums import PlanningRunStatus, Role

# A running part writes a heartbeat every HEARTBEAT_S; one silent for LOST_AFTER is dead.
HEARTBEAT_S = 2.0
LOST_AFTER = timedelta(seconds=60)
MAX_DAYS_AHEAD = 366
PLAN_PART_TASK = "fieldforce:plan_run_part"
PLANNING_QUEUE = "planning"

FINISHED = (PlanningRunStatus.succeeded, PlanningRunStatus.failed, PlanningRunStatus.cancelled)


def require_planner(actor: Actor) -> None:
    if not actor.manages_people:
        raise Forbidden("Plans are made by managers and admins; reps read them", code="FORBIDDEN_ROLE")


def organisation_zone(session: Session, org_id: uuid.UUID) -> ZoneInfo:
    org = session.get(Organization, org_id)
    if org is None:  # the actor's own organisation: it exists
        raise NotFound("organisation not found")
    return ZoneInfo(effective_settings(org).timezone)


def _plannable_reps(session: Session, actor: Actor, requested: Sequence[uuid.UUID] | None) -> list[User]:
    """The reps of the request (default: every active rep the caller manages), each one visible."""
    query = select(User).where(
        User.org_id == actor.org_id, User.deleted_at.is_(None), User.active.is_(True), User.role == Role.rep
    )
    if not actor.is_admin:
        query = query.where(User.id.in_(actor.team_ids))
    if requested is None:
        reps = list(session.scalars(query.order_by(User.id)))
        if not reps:
            raise InvalidInput("There is no active rep to plan for", code="NO_REPS")
        return reps
    wanted = list(dict.fromkeys(requested))
    if not wanted:
        raise InvalidInput("rep_ids is empty; leave it out to plan the whole team", code="NO_REPS")
    reps = list(session.scalars(query.where(User.id.in_(wanted)).order_by(User.id)))
    unknown = sorted(str(rep_id) for rep_id in set(wanted) - {rep.id for rep in reps})
    if unknown:
        # Another organisation's users, another team's, inactive ones and non-reps alike: not plannable.
        raise InvalidInput(
            f"Unknown reps (or not active reps you manage): {', '.join(unknown)}",
            code="UNKNOWN_REPS",
            extra={"rep_ids": unknown},
        )
    return reps


def _teams(reps: list[User]) -> list[list[User]]:
    """One part per manager's team (reps without a manager together), largest first."""
    by_manager: dict[uuid.UUID | None, list[User]] = defaultdict(list)
    for rep in reps:
        by_manager[rep.manager_id].append(rep)
    return sorted(by_manager.values(), key=lambda team: (-len(team), str(team[0].id)))


def start_run(
    session: Session, actor: Actor, body: PlanningRunCreate, *, now: datetime | None = None, queue_jobs: bool = True
) -> PlanningRun:
    """Check the request, store the run and its parts, and queue one job per part (one transaction).
    `queue_jobs=False`: the caller runs the parts itself (`fieldforce plan`)."""
    require_planner(actor)
    now = now or datetime.now(UTC)
    today = now.astimezone(organisation_zone(session, actor.org_id)).date()
    start_date = body.start_date or today + timedelta(days=1)
    if not today <= start_date <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(
            f"start_date must be between today ({today}) and a year ahead ({today + timedelta(days=MAX_DAYS_AHEAD)})",
            code="START_DATE_OUT_OF_RANGE",
        )
    reps = _plannable_reps(session, actor, body.rep_ids)
    organisation_wide = actor.is_admin and body.rep_ids is None
    params: dict[str, Any] = {
        "rep_ids": [str(rep.id) for rep in reps],
        "start_date": start_date.isoformat(),
        "days": body.days,
        "time_limit_s": body.time_limit_s,
        "seed": body.seed,
        "publish": body.publish,
        "organisation_wide": organisation_wide,
    }
    run = PlanningRun(org_id=actor.org_id, created_by=actor.user_id, status=PlanningRunStatus.queued, params=params)
    session.add(run)
    session.flush()
    for index, team in enumerate(_teams(reps)):
        part = PlanningRunPart(
            org_id=actor.org_id,
            run_id=run.id,
            part=index,
            rep_ids=[str(rep.id) for rep in team],
            report_no_rep=organisation_wide and index == 0,
            status=PlanningRunStatus.queued,
            phase="queued",
            percent=0.0,
        )
        session.add(part)
        session.flush()
        if queue_jobs:
            part.job_id = defer_in_transaction(session, PLAN_PART_TASK, {"part_id": str(part.id)}, queue=PLANNING_QUEUE)
    session.flush()
    return run


def get_run(session: Session, actor: Actor, run_id: uuid.UUID, *, for_update: bool = False) -> PlanningRun:
    """A run the caller may see: admins the organisation's, managers their own and their team's."""
    query = select(PlanningRun).where(
        PlanningRun.id == run_id, PlanningRun.org_id == actor.org_id, PlanningRun.deleted_at.is_(None)
    )
    if not actor.is_admin:
        query = query.where(PlanningRun.created_by.in_(actor.team_ids))
    if for_update:
        query = query.with_for_update()
    run = session.scalar(query)
    if run is None or actor.is_rep:
        raise NotFound(f"planning run {run_id} not found")
    return run


def list_runs(session: Session, actor: Actor, limit: int) -> list[PlanningRun]:
    require_planner(actor)
    query = select(PlanningRun).where(PlanningRun.org_id == actor.org_id, PlanningRun.deleted_at.is_(None))
    if not actor.is_admin:
        query = query.where(PlanningRun.created_by.in_(actor.team_ids))
    return list(session.scalars(query.order_by(PlanningRun.created_at.desc(), PlanningRun.id).limit(limit)))


def parts_of(session: Session, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PlanningRunPart]]:
    parts: dict[uuid.UUID, list[PlanningRunPart]] = defaultdict(list)
    for part in session.scalars(
        select(PlanningRunPart).where(PlanningRunPart.run_id.in_(run_ids)).order_by(PlanningRunPart.part)
    ):
        parts[part.run_id].append(part)
    return parts


def cancel_run(session: Session, actor: Actor, run_id: uuid.UUID) -> PlanningRun:
    """Queued parts never start; a running part's result is thrown away when it ends."""
    require_planner(actor)
    run = get_run(session, actor, run_id, for_update=True)
    if run.status not in (PlanningRunStatus.queued, PlanningRunStatus.running):
        raise Conflict(f"The run is {run.status}; only a queued or running run can be cancelled", code="RUN_FINISHED")
    now = datetime.now(UTC)
    run.status = PlanningRunStatus.cancelled
    run.finished_at = now
    session.execute(
        update(PlanningRunPart)
        .where(
            PlanningRunPart.run_id == run.id,
            PlanningRunPart.status.in_((PlanningRunStatus.queued, PlanningRunStatus.running)),
        )
        .values(status=PlanningRunStatus.cancelled, phase="cancelled", finished_at=now)
    )
    session.flush()
    return run


def fail_lost_parts(session: Session, org_id: uuid.UUID | None = None, *, now: datetime | None = None) -> int:
    """Mark failed every running part whose heartbeat stopped, and its run. Returns how many."""
    now = now or datetime.now(UTC)
    error = {"code": "WORKER_LOST", "detail": "the worker solving this run stopped answering; start the run again"}
    query = update(PlanningRunPart).where(
        PlanningRunPart.status == PlanningRunStatus.running, PlanningRunPart.heartbeat_at < now - LOST_AFTER
    )
    if org_id is not None:
        query = query.where(PlanningRunPart.org_id == org_id)
    lost = session.execute(
        query.values(status=PlanningRunStatus.failed, phase="failed", error=error, finished_at=now).returning(
            PlanningRunPart.run_id
        )
    ).scalars()
    run_ids = set(lost)
    if run_ids:
        session.execute(
            update(PlanningRun)
            .where(
                PlanningRun.id.in_(run_ids),
                PlanningRun.status.in_((PlanningRunStatus.queued, PlanningRunStatus.running)),
            )
            .values(status=PlanningRunStatus.failed, error=error, finished_at=now)
        )
    return len(run_ids)


PHASE_ORDER = ("queued", "reading", "building", "travel", "solving", "saving", "done")


def run_progress(run: PlanningRun, parts: Sequence[PlanningRunPart]) -> dict[str, Any]:
    """The run's phase (its least advanced working part's, else queued) and its mean percent."""
    if run.status in (PlanningRunStatus.succeeded, PlanningRunStatus.published):
        return {"phase": "done", "percent": 100.0}
    percent = _mean([part.percent for part in parts])
    if run.status in (PlanningRunStatus.failed, PlanningRunStatus.cancelled):
        return {"phase": str(run.status), "percent": percent}
    working = [part.phase for part in parts if part.status is PlanningRunStatus.running and part.phase in PHASE_ORDER]
    if working:
        phase = min(working, key=PHASE_ORDER.index)
    elif any(part.status is PlanningRunStatus.queued for part in parts):
        phase = "queued"
    else:
        phase = "saving"
    return {"phase": phase, "percent": percent}


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def run_view(run: PlanningRun, parts: Sequence[PlanningRunPart]) -> dict[str, Any]:
    """The run in the contract's shape (PLANNING.md), with its parts."""
    return {
        "id": run.id,
        "status": str(run.status),
        "progress": run_progress(run, parts),
        "params": run.params,
        "created_by": run.created_by,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "published_at": run.published_at,
        "error": run.error,
        "summary": run.summary,
        "days": run.days or [],
        "unassigned": run.unassigned or [],
        "parts": [
            {
                "part": part.part,
                "rep_ids": part.rep_ids,
                "status": str(part.status),
                "progress": {"phase": part.phase, "percent": round(part.percent, 1)},
                "error": part.error,
            }
            for part in parts
        ],
    }


def claim_part(session: Session, part_id: uuid.UUID, now: datetime) -> PlanningRunPart | None:
    """Mark a queued part running (a worker took it); None when it was cancelled or already taken."""
    claimed = session.execute(
        update(PlanningRunPart)
        .where(PlanningRunPart.id == part_id, PlanningRunPart.status == PlanningRunStatus.queued)
        .values(status=PlanningRunStatus.running, phase="reading", percent=1.0, started_at=now, heartbeat_at=now)
    )
    if rows_affected(claimed) == 0:
        return None
    part = session.get(PlanningRunPart, part_id)
    if part is None:
        return None
    session.execute(
        update(PlanningRun)
        .where(PlanningRun.id == part.run_id, PlanningRun.status == PlanningRunStatus.queued)
        .values(status=PlanningRunStatus.running)
    )
    return part


def record_failure(session: Session, part_id: uuid.UUID, error: AppError | Exception) -> None:
    """The part and its run failed (the run's other parts finish but cannot make it succeed)."""
    now = datetime.now(UTC)
    code = error.code if isinstance(error, AppError) else "SOLVER_FAILED"
    detail = error.detail if isinstance(error, AppError) else f"{type(error).__name__}: {error}"
    problem = {"code": code, "detail": detail}
    part = session.get(PlanningRunPart, part_id, with_for_update=True)
    if part is None or part.status is not PlanningRunStatus.running:
        return
    part.status, part.phase, part.error, part.finished_at = PlanningRunStatus.failed, "failed", problem, now
    run = session.get(PlanningRun, part.run_id, with_for_update=True)
    if run is not None and run.status in (PlanningRunStatus.queued, PlanningRunStatus.running):
        run.status, run.error, run.finished_at = PlanningRunStatus.failed, problem, now


def finish_run_if_complete(session: Session, run_id: uuid.UUID) -> PlanningRun | None:
    """When every part has succeeded, merge them into the run (under the run's row lock, so
    two parts finishing at once merge once). Returns the run when it has just succeeded."""
    run = session.get(PlanningRun, run_id, with_for_update=True)
    if run is None or run.status is not PlanningRunStatus.running:
        return None
    parts = parts_of(session, [run_id])[run_id]
    if any(part.status is not PlanningRunStatus.succeeded for part in parts):
        return None
    days: list[dict[str, Any]] = []
    unassigned: list[dict[str, Any]] = []
    totals: dict[str, Any] = {
        "due": 0,
        "planned": 0,
        "unassigned": 0,
        "distance_m": 0.0,
        "drive_s": 0.0,
        "service_s": 0.0,
        "reps_without_start": [],
    }
    for part in parts:
        days.extend(part.days or [])
        unassigned.extend(part.unassigned or [])
        for key, value in (part.summary or {}).items():
            if key in totals:
                totals[key] = totals[key] + value
    for key in ("distance_m", "drive_s", "service_s"):
        totals[key] = round(totals[key], 1)
    run.days = sorted(days, key=lambda day: (day["date"], day["rep_id"]))
    run.unassigned = unassigned
    run.summary = totals
    run.status = PlanningRunStatus.succeeded
    run.finished_at = datetime.now(UTC)
    session.flush()
    return run


def start_date_of(run: PlanningRun) -> date:
    return date.fromisoformat(run.params["start_date"])
