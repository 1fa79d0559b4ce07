"""The planning job: one team's share of a run, from rows to a proposal, with progress.

Run by a worker (`fieldforce worker`) or in-process by `fieldforce plan`.
Each step is its own short transaction, so progress is visible while the
solver works and nothing is held open for the length of a solve:

1. claim the part (queued -> running); a cancelled part is skipped;
2. read the input (one set-based query per kind of row) and its watermark;
3. build the routing problem and the travel matrix, solve;
4. store the proposal; the last part to finish merges the run;
5. publish when the run asked for it.

While it works a reporter thread writes the phase, the percent and a
heartbeat every couple of seconds; when the worker dies the heartbeat stops
and `runs.fail_lost_parts` marks the part failed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from routing.planning import plan_days
from routing.travel import HaversineTravel, OsrmError, OsrmTravel, TravelMatrix
from server.db import rows_affected, transaction
from server.errors import AppError
from server.models import PlanningRun, PlanningRunPart
from server.planning.problem import PlanningProblem, build_problem
from server.planning.proposal import build_proposal, empty_proposal, no_rep_entries
from server.planning.repository import load_planning_input, load_unserved_customers
from server.planning.runs import HEARTBEAT_S, claim_part, finish_run_if_complete, record_failure
from shared.enums import PlanningRunStatus

logger = logging.getLogger(__name__)

# Percent of a part at the start of each phase; solving fills the gap up to saving.
PHASE_START = {"reading": 1.0, "building": 5.0, "travel": 8.0, "solving": 10.0, "saving": 95.0}


class ProgressReporter(threading.Thread):
    """Writes a running part's phase, percent and heartbeat from its own session."""

    def __init__(self, sessions: sessionmaker[Session], part_id: uuid.UUID) -> None:
        super().__init__(name=f"planning-progress-{part_id}", daemon=True)
        self._sessions = sessions
        self._part_id = part_id
        self._lock = threading.Lock()
        self._phase = "reading"
        self._solving_since: float | None = None
        self._solving_for = 1.0
        self._stop_event = threading.Event()
        self.cancelled = False

    def phase(self, name: str) -> None:
        with self._lock:
            self._phase, self._solving_since = name, None
        self._write()

    def solving(self, time_limit: float) -> None:
        with self._lock:
            self._phase, self._solving_since, self._solving_for = "solving", time.monotonic(), max(1.0, time_limit)
        self._write()

    def percent(self) -> float:
        with self._lock:
            if self._solving_since is None:
                return PHASE_START.get(self._phase, 0.0)
            share = min(1.0, (time.monotonic() - self._solving_since) / self._solving_for)
            return PHASE_START["solving"] + share * (PHASE_START["saving"] - 1.0 - PHASE_START["solving"])

    def run(self) -> None:
        while not self._stop_event.wait(HEARTBEAT_S):
            self._write()

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=10)

    def _write(self) -> None:
        try:
            with transaction(self._sessions) as session:
                written = session.execute(
                    update(PlanningRunPart)
                    .where(PlanningRunPart.id == self._part_id, PlanningRunPart.status == PlanningRunStatus.running)
                    .values(phase=self._phase, percent=round(self.percent(), 1), heartbeat_at=datetime.now(UTC))
                )
                if rows_affected(written) == 0:
                    self.cancelled = True  # cancelled (or declared lost): the result will be thrown away
        except Exception:  # a lost heartbeat must not kill the solve; the next one retries
            logger.exception("could not write planning progress for part %s", self._part_id)


def travel_for(problem: PlanningProblem, osrm_url: str | None) -> TravelMatrix:
    return travel_between(problem.lon_lat_points(), osrm_url)


def travel_between(points: list[tuple[float, float]], osrm_url: str | None) -> TravelMatrix:
    """Road times between [lon, lat] points from the routing server when one is configured,
    else haversine x circuity."""
    if osrm_url:
        try:
            return OsrmTravel(osrm_url, points)
        except OsrmError as exc:
            raise AppError(str(exc), code="ROUTING_SERVER_FAILED", status=502) from exc
    return HaversineTravel(points)


def execute_part(sessions: sessionmaker[Session], part_id: uuid.UUID, *, osrm_url: str | None = None) -> dict[str, Any]:
    with transaction(sessions) as session:
        part = claim_part(session, part_id, datetime.now(UTC))
        if part is None:
            return {"part_id": str(part_id), "skipped": "not queued (cancelled or already taken)"}
        run = session.get(PlanningRun, part.run_id)
        if run is None:
            return {"part_id": str(part_id), "skipped": "the run is gone"}
        run_id, org_id, params = run.id, run.org_id, dict(run.params)
        rep_ids = [uuid.UUID(rep_id) for rep_id in part.rep_ids]
        report_no_rep = part.report_no_rep

    reporter = ProgressReporter(sessions, part_id)
    reporter.start()
    try:
        start_date, days = date.fromisoformat(params["start_date"]), int(params["days"])
        with transaction(sessions) as session:
            data = load_planning_input(session, org_id, rep_ids, start_date, days)
            unserved = load_unserved_customers(session, org_id) if report_no_rep else []
        reporter.phase("building")
        problem = build_problem(data)
        if problem.shifts:
            reporter.phase("travel")
            travel = travel_for(problem, osrm_url)
            reporter.solving(float(params["time_limit_s"]))
            solved = plan_days(
                problem.customers,
                problem.shifts,
                travel,
                appointments=problem.appointments,
                requests=problem.requests,
                time_limit=float(params["time_limit_s"]),
                seed=int(params["seed"]),
            )
            proposal = build_proposal(data, problem, solved)
        else:
            proposal = empty_proposal(data, problem)
        nobody_may_visit = set(problem.no_rep)
        no_rep_rows = [row for row in data.customers if row.id in nobody_may_visit] + unserved
        extra = no_rep_entries(data, no_rep_rows)
        proposal.unassigned.extend(extra)
        proposal.summary["unassigned"] += len(extra)
        proposal.summary["due"] += len(extra)
        reporter.phase("saving")
    except Exception as exc:
        reporter.stop()
        if not isinstance(exc, AppError):
            logger.exception("planning part %s failed", part_id)
        with transaction(sessions) as session:
            record_failure(session, part_id, exc)
        return {"part_id": str(part_id), "failed": str(exc)}
    reporter.stop()

    with transaction(sessions) as session:
        stored = session.get(PlanningRunPart, part_id, with_for_update=True)
        if stored is None or stored.status is not PlanningRunStatus.running:
            return {"part_id": str(part_id), "discarded": "the run was cancelled or declared lost meanwhile"}
        stored.status, stored.phase, stored.percent = PlanningRunStatus.succeeded, "done", 100.0
        stored.days, stored.unassigned, stored.summary = proposal.days, proposal.unassigned, proposal.summary
        stored.watermark = data.watermark
        stored.finished_at = datetime.now(UTC)
        session.flush()
        finished = finish_run_if_complete(session, run_id) is not None
    if finished and params.get("publish"):
        publish_when_asked(sessions, run_id)
    return {"part_id": str(part_id), "planned": proposal.summary["planned"], "run_finished": finished}


def publish_when_asked(sessions: sessionmaker[Session], run_id: uuid.UUID) -> None:
    """A run started with `publish: true` publishes itself as its creator; a failure (the
    input changed meanwhile) is recorded on the run, which stays reviewable."""
    from server.planning.publish import publish_run_as_creator

    try:
        with transaction(sessions) as session:
            publish_run_as_creator(session, run_id)
    except AppError as exc:
        with transaction(sessions) as session:
            run = session.get(PlanningRun, run_id)
            if run is not None:
                run.error = {"code": exc.code, "detail": f"not published: {exc.detail}"}
