"""Planning end to end: real HTTP, a real `fieldforce worker` solving the job, real PostGIS.

The organisation is seeded and committed (a worker in another process must
see it), so this module does not use the rolled-back `client` fixture. The
tests run in order: a run is published, then re-published over visits done,
in progress and fixed, then a day is re-planned.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient
from routing.evaluate import RoutePlan, evaluate
from routing.model import Problem, Visit
from routing.travel import HaversineTravel
from server.access.credentials import AccessClaims, create_access_token
from server.models import Customer, Plan, PlanningRun, PlanningRunPart, User
from server.models import Visit as VisitRow
from server.planning.job import execute_part
from server.planning.problem import build_problem
from server.planning.repository import load_planning_input
from server.planning.runs import fail_lost_parts
from server.seed.demo import SeedOptions, seed_demo
from shared.enums import Role, VisitStatus
from shared.geo import haversine_m
from shared.sync.protocol import Entity
from tests.server.conftest import TEST_SECRET

RUNS = "/api/v1/planning/runs"


@dataclass
class PlanningOrg:
    org_id: uuid.UUID
    admin: uuid.UUID
    manager: uuid.UUID
    reps: list[uuid.UUID]
    zone: ZoneInfo
    monday: date

    def headers(self, user: uuid.UUID, role: Role) -> dict[str, str]:
        token = create_access_token(AccessClaims(user, self.org_id, role, 0), TEST_SECRET, 30)
        return {"Authorization": f"Bearer {token}"}

    @property
    def as_manager(self) -> dict[str, str]:
        return self.headers(self.manager, Role.manager)


@pytest.fixture(scope="module")
def org(engine: Engine) -> PlanningOrg:
    with Session(engine) as session, session.begin():
        report = seed_demo(session, SeedOptions(reps=3, customers=90, seed=416, slug="planning-http", history_months=2))
    with Session(engine) as session:
        users = session.scalars(select(User).where(User.org_id == report.org_id)).all()
        manager = next(u for u in users if u.role is Role.manager)
        reps = sorted(u.id for u in users if u.role is Role.rep and u.manager_id == manager.id)
        admin = next(u for u in users if u.role is Role.admin)
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return PlanningOrg(report.org_id, admin.id, manager.id, reps, ZoneInfo("UTC"), monday)


@pytest.fixture
def worker(database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    process = _start_worker(database_url)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _start_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET, "FIELDFORCE_ENV": "test"}
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker", "--queue", "planning", "--concurrency", "1"], env=env
    )


@pytest.fixture(scope="module")
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def _wait(
    http: httpx.Client,
    org: PlanningOrg,
    location: str,
    until: tuple[str, ...],
    timeout: float = 120,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = http.get(location, headers=headers or org.as_manager).json()
        seen.append((run["progress"]["phase"], run["progress"]["percent"]))
        if run["status"] in until:
            return run, seen
        time.sleep(0.3)
    raise AssertionError(f"the run did not reach {until} in {timeout} s; progress seen: {seen[-5:]}")


def _run(http: httpx.Client, org: PlanningOrg, **params: Any) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    body = {"start_date": org.monday.isoformat(), "days": 3, "time_limit_s": 3, **params}
    created = http.post(RUNS, json=body, headers=org.as_manager)
    assert created.status_code == 202, created.text
    assert created.headers["Location"] == f"{RUNS}/{created.json()['id']}"
    assert created.json()["status"] == "queued"
    return _wait(http, org, created.headers["Location"], ("succeeded", "failed", "published"))


def _check_with_the_evaluator(engine: Engine, org: PlanningOrg, run: dict[str, Any]) -> None:
    """Every day of the run, re-evaluated by routing's independent evaluator against the
    inputs as the builder reads them: working hours with their breaks, windows, service."""
    with Session(engine) as session:
        data = load_planning_input(session, org.org_id, org.reps, org.monday, 3)
    problem = build_problem(data)
    customers = {c.id: c for c in problem.customers}
    for day in run["days"]:
        offset = (date.fromisoformat(day["date"]) - org.monday).days
        rep = next(r for r in problem.shifts[offset] if r.id == day["rep_id"])
        visits = []
        for stop in day["stops"]:
            customer = customers[stop["customer_id"]]
            visits.append(
                Visit(
                    id=stop["customer_id"],
                    location=customer.location,
                    service=customer.service,
                    time_windows=customer.windows_on(offset) if customer.day_windows is not None else (),
                )
            )
        starts = [datetime.fromisoformat(stop["start"]) for stop in day["stops"]]
        legs = tuple(sum(1 for s in starts if s <= datetime.fromisoformat(b["start"])) for b in day["breaks"])
        single = Problem((rep,), tuple(visits), HaversineTravel(problem.lon_lat_points()))
        evaluation = evaluate(single, [RoutePlan(rep.id, tuple(v.id for v in visits), break_legs=legs)])
        assert not evaluation.violations, (day["rep_id"], day["date"], evaluation.violations)
        assert starts == sorted(starts)
        midnight = datetime.combine(date.fromisoformat(day["date"]), datetime.min.time(), tzinfo=org.zone)
        for stop in day["stops"]:
            begins = (datetime.fromisoformat(stop["start"]) - midnight).total_seconds()
            assert rep.shift[0] <= begins <= rep.shift[1]


def test_a_manager_plans_a_worker_solves_the_manager_publishes_and_the_rep_syncs(
    http: httpx.Client, org: PlanningOrg, worker: Any, engine: Engine, tmp_path: Path
) -> None:
    run, seen = _run(http, org)
    assert run["status"] == "succeeded", run["error"]
    assert seen[0][0] in ("queued", "reading", "building", "travel", "solving"), seen
    assert any(phase == "solving" for phase, _ in seen), seen
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    summary = run["summary"]
    assert summary["planned"] == sum(len(day["stops"]) for day in run["days"]) > 0
    assert summary["distance_m"] == pytest.approx(sum(day["distance_m"] for day in run["days"]), abs=1)
    assert {day["rep_id"] for day in run["days"]} <= {str(rep) for rep in org.reps}
    _check_with_the_evaluator(engine, org, run)

    published = http.post(f"{RUNS}/{run['id']}/publish", headers=org.as_manager)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    again = http.post(f"{RUNS}/{run['id']}/publish", headers=org.as_manager)
    assert again.status_code == 409 and again.json()["code"] == "RUN_NOT_PUBLISHABLE"

    with Session(engine) as session:
        plans = session.scalars(select(Plan).where(Plan.org_id == org.org_id)).all()
        assert len(plans) == len(run["days"])
        for plan in plans:
            for stop in plan.stops:
                visit = session.get(VisitRow, uuid.UUID(stop["visit_id"]))
                assert visit is not None and visit.status is VisitStatus.planned
                assert visit.planned_start == datetime.fromisoformat(stop["start"])
                assert visit.planned_end == datetime.fromisoformat(stop["departure"])

    rep = uuid.UUID(run["days"][0]["rep_id"])
    store = LocalStore(tmp_path / "rep.sqlite")
    phone = SyncClient(store, str(http.base_url), backoff_base=0.01)
    phone.use_tokens(create_access_token(AccessClaims(rep, org.org_id, Role.rep, 0), TEST_SECRET, 30), user_id=str(rep))
    phone.sync()
    own_days = [day for day in run["days"] if day["rep_id"] == str(rep)]
    on_phone = store.query(Entity.plan)
    assert sorted(p["plan_date"] for p in on_phone) == sorted(day["date"] for day in own_days)
    planned_ids = {stop["visit_id"] for p in on_phone for stop in p["stops"]}
    phone_visits = {v["id"] for v in store.query(Entity.visit)}
    assert planned_ids and planned_ids <= phone_visits

    # Absences entered on the web reach the phone: the rep's own day off and the holiday.
    admin = org.headers(org.admin, Role.admin)
    holiday = http.post(
        "/api/v1/absences",
        json={"organisation_wide": True, "starts_on": "2027-05-01", "ends_on": "2027-05-01", "kind": "holiday"},
        headers=admin,
    )
    day_off = http.post(
        "/api/v1/absences",
        json={"user_id": str(rep), "starts_on": "2027-05-03", "ends_on": "2027-05-04"},
        headers=admin,
    )
    assert holiday.status_code == day_off.status_code == 201, (holiday.text, day_off.text)
    phone.sync()
    assert {a["id"] for a in store.query(Entity.absence)} == {holiday.json()["id"], day_off.json()["id"]}


def test_republishing_replaces_planned_visits_and_keeps_done_in_progress_and_fixed_ones(
    http: httpx.Client, org: PlanningOrg, worker: Any, engine: Engine
) -> None:
    with Session(engine) as session:
        plan = session.scalars(
            select(Plan).where(Plan.org_id == org.org_id, func.jsonb_array_length(Plan.stops) >= 3).order_by(Plan.id)
        ).first()
        assert plan is not None
        done_id, started_id, fixed_id = (uuid.UUID(stop["visit_id"]) for stop in plan.stops[:3])
    manager = org.as_manager
    visit_url = "/api/v1/visits/{}"
    checked_in = datetime.now(UTC) - timedelta(hours=1)
    for visit_id, change in (
        (
            done_id,
            {
                "status": "completed",
                "check_in_at": checked_in.isoformat(),
                "check_out_at": datetime.now(UTC).isoformat(),
            },
        ),
        (started_id, {"status": "in_progress", "check_in_at": checked_in.isoformat()}),
        (fixed_id, {"fixed": True}),
    ):
        answer = http.patch(visit_url.format(visit_id), json=change, headers=manager)
        assert answer.status_code == 200, answer.text
    with Session(engine) as session:
        before = {v: session.get(VisitRow, v) for v in (done_id, started_id, fixed_id)}
        snapshot = {
            v: (row.status, row.planned_start, row.planned_end, row.row_version) for v, row in before.items() if row
        }
        horizon = datetime.combine(org.monday, datetime.min.time(), tzinfo=UTC)
        first_planned = set(
            session.scalars(
                select(VisitRow.id).where(
                    VisitRow.org_id == org.org_id,
                    VisitRow.status == VisitStatus.planned,
                    VisitRow.planned_start >= horizon,
                    VisitRow.planned_start < horizon + timedelta(days=3),
                )
            )
        )

    run, _ = _run(http, org, seed=7)
    assert run["status"] == "succeeded", run["error"]
    fixed_stops = [s for day in run["days"] for s in day["stops"] if s["visit_id"] == str(fixed_id)]
    assert len(fixed_stops) == 1 and fixed_stops[0]["kind"] == "appointment"
    assert datetime.fromisoformat(fixed_stops[0]["start"]) == snapshot[fixed_id][1]
    assert http.post(f"{RUNS}/{run['id']}/publish", headers=manager).status_code == 200

    with Session(engine) as session:
        for visit_id, (status, start, end, version) in snapshot.items():
            row = session.get(VisitRow, visit_id)
            assert row is not None and (row.status, row.planned_start, row.planned_end, row.row_version) == (
                status,
                start,
                end,
                version,
            )
        # Every planned visit of the horizon is a stop of its day's plan: none left behind, none twice.
        begins = datetime.combine(org.monday, datetime.min.time(), tzinfo=UTC)
        planned = session.scalars(
            select(VisitRow.id).where(
                VisitRow.org_id == org.org_id,
                VisitRow.status == VisitStatus.planned,
                VisitRow.planned_start >= begins,
                VisitRow.planned_start < begins + timedelta(days=3),
            )
        ).all()
        in_plans = [
            uuid.UUID(stop["visit_id"])
            for plan in session.scalars(select(Plan).where(Plan.org_id == org.org_id))
            for stop in plan.stops
        ]
        assert len(in_plans) == len(set(in_plans))
        assert set(planned) <= set(in_plans)
        # The first plan's planned visits the new plan does not hold were cancelled, nothing else.
        superseded = first_planned - set(in_plans) - {fixed_id}
        statuses = {
            visit_id: status
            for visit_id, status in session.execute(
                select(VisitRow.id, VisitRow.status).where(VisitRow.id.in_(first_planned))
            )
        }
        assert {statuses[v] for v in superseded} <= {VisitStatus.cancelled}
        assert {statuses[v] for v in first_planned & set(in_plans)} <= {VisitStatus.planned}


def test_a_run_whose_input_changed_is_stale_and_publishing_writes_nothing(
    http: httpx.Client, org: PlanningOrg, worker: Any, engine: Engine
) -> None:
    run, _ = _run(http, org, seed=3)
    assert run["status"] == "succeeded"
    customer_id = run["days"][0]["stops"][0]["customer_id"]
    edited = http.patch(f"/api/v1/customers/{customer_id}", json={"notes": "moved the door"}, headers=org.as_manager)
    assert edited.status_code == 200, edited.text
    with Session(engine) as session:
        before = session.scalar(select(func.max(VisitRow.updated_at)).where(VisitRow.org_id == org.org_id))
    stale = http.post(f"{RUNS}/{run['id']}/publish", headers=org.as_manager)
    assert stale.status_code == 409 and stale.json()["code"] == "PLAN_STALE"
    with Session(engine) as session:
        assert session.scalar(select(func.max(VisitRow.updated_at)).where(VisitRow.org_id == org.org_id)) == before
        stored = session.get(PlanningRun, uuid.UUID(run["id"]))
        assert stored is not None and stored.status.value == "succeeded"


def test_the_rest_of_a_day_is_replanned_from_a_position(http: httpx.Client, org: PlanningOrg, engine: Engine) -> None:
    with Session(engine) as session:
        plan = session.scalars(
            select(Plan).where(Plan.org_id == org.org_id, func.jsonb_array_length(Plan.stops) >= 4).order_by(Plan.id)
        ).first()
        assert plan is not None
        plan_id, rep_id, plan_date = plan.id, plan.rep_id, plan.plan_date
        stops = list(plan.stops)
        statuses = {s["visit_id"]: session.get(VisitRow, uuid.UUID(s["visit_id"])).status for s in stops}  # type: ignore[union-attr]
        last = session.get(Customer, uuid.UUID(stops[-1]["customer_id"]))
        assert last is not None
    rep_headers = org.headers(rep_id, Role.rep)
    now = datetime.combine(plan_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13, minutes=30)
    began = time.perf_counter()
    answer = http.post(
        f"/api/v1/plans/{plan_id}/reoptimize",
        json={"position": {"lat": 48.86, "lon": 2.35}, "now": now.isoformat()},
        headers=rep_headers,
    )
    elapsed = time.perf_counter() - began
    assert answer.status_code == 200, answer.text
    assert elapsed < 2.0
    replanned = answer.json()
    kept = [s for s in replanned["stops"] if statuses[s["visit_id"]] is not VisitStatus.planned]
    moved = [s for s in replanned["stops"] if statuses[s["visit_id"]] is VisitStatus.planned and not s.get("unfit")]
    assert replanned["stops"][: len(kept)] == kept
    assert all(datetime.fromisoformat(s["arrival"]) >= now for s in moved)
    with Session(engine) as session:
        for stop in moved:
            visit = session.get(VisitRow, uuid.UUID(stop["visit_id"]))
            assert visit is not None and visit.planned_start == datetime.fromisoformat(stop["start"])

    bad = http.post(
        f"/api/v1/plans/{plan_id}/reoptimize", json={"position": {"lat": 91, "lon": 0}}, headers=rep_headers
    )
    assert bad.status_code == 422
    other_rep = next(r for r in org.reps if r != rep_id)
    hidden = http.post(f"/api/v1/plans/{plan_id}/reoptimize", json={}, headers=org.headers(other_rep, Role.rep))
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"days": 0}, "VALIDATION_FAILED"),
        ({"days": 29}, "VALIDATION_FAILED"),
        ({"time_limit_s": 0}, "VALIDATION_FAILED"),
        ({"time_limit_s": 601}, "VALIDATION_FAILED"),
        ({"start_date": (date.today() + timedelta(days=400)).isoformat()}, "START_DATE_OUT_OF_RANGE"),
        ({"start_date": (date.today() - timedelta(days=2)).isoformat()}, "START_DATE_OUT_OF_RANGE"),
        ({"rep_ids": [str(uuid.uuid4())]}, "UNKNOWN_REPS"),
        ({"rep_ids": []}, "NO_REPS"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(
    http: httpx.Client, org: PlanningOrg, engine: Engine, change: dict[str, Any], code: str
) -> None:
    with Session(engine) as session:
        before = session.scalar(select(func.count()).select_from(PlanningRun).where(PlanningRun.org_id == org.org_id))
    answer = http.post(RUNS, json={"days": 2, **change}, headers=org.as_manager)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code
    with Session(engine) as session:
        after = session.scalar(select(func.count()).select_from(PlanningRun).where(PlanningRun.org_id == org.org_id))
    assert after == before


def test_reps_may_not_start_runs(http: httpx.Client, org: PlanningOrg) -> None:
    answer = http.post(RUNS, json={}, headers=org.headers(org.reps[0], Role.rep))
    assert answer.status_code == 403 and answer.json()["code"] == "FORBIDDEN_ROLE"


def test_a_cancelled_run_stays_cancelled(http: httpx.Client, org: PlanningOrg, worker: Any) -> None:
    created = http.post(RUNS, json={"start_date": org.monday.isoformat(), "time_limit_s": 4}, headers=org.as_manager)
    location = created.headers["Location"]
    _wait(http, org, location, ("running",), timeout=60)
    cancelled = http.post(f"{location}/cancel", headers=org.as_manager)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    time.sleep(6)  # the solve ends; its result is thrown away
    run = http.get(location, headers=org.as_manager).json()
    assert run["status"] == "cancelled" and run["days"] == [] and run["summary"] is None
    assert http.post(f"{location}/publish", headers=org.as_manager).json()["code"] == "RUN_NOT_PUBLISHABLE"


def test_a_run_whose_worker_died_is_marked_failed(
    http: httpx.Client, org: PlanningOrg, engine: Engine, database_url: str
) -> None:
    doomed = _start_worker(database_url)
    try:
        created = http.post(
            RUNS, json={"start_date": org.monday.isoformat(), "time_limit_s": 60}, headers=org.as_manager
        )
        location = created.headers["Location"]
        _wait(http, org, location, ("running",), timeout=60)
        time.sleep(1)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert http.get(location, headers=org.as_manager).json()["status"] == "running"  # not yet silent long enough
    with Session(engine) as session, session.begin():
        assert fail_lost_parts(session, org.org_id, now=datetime.now(UTC) + timedelta(seconds=61)) == 1
    run = http.get(location, headers=org.as_manager).json()
    assert run["status"] == "failed"
    assert run["error"]["code"] == "WORKER_LOST"


class _RoadTable(BaseHTTPRequestHandler):
    """An OSRM /table/v1 server in the documented format: roads 1.25 x the crow's flight at 10 m/s.
    (No routing server can run here; this one answers like one.)"""

    calls = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        coordinates = [tuple(map(float, p.split(","))) for p in url.path.split("/")[4].split(";")]
        query = parse_qs(url.query)
        sources = [int(s) for s in query["sources"][0].split(";")]
        destinations = [int(d) for d in query["destinations"][0].split(";")]
        _RoadTable.calls += 1
        distances = [
            [
                haversine_m(coordinates[s][1], coordinates[s][0], coordinates[d][1], coordinates[d][0]) * 1.25
                for d in destinations
            ]
            for s in sources
        ]
        body = json.dumps(
            {"code": "Ok", "distances": distances, "durations": [[m / 10 for m in row] for row in distances]}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


def test_a_routing_server_gives_the_travel_when_configured(
    http: httpx.Client, org: PlanningOrg, engine: Engine
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RoadTable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        created = http.post(
            RUNS, json={"start_date": org.monday.isoformat(), "days": 1, "time_limit_s": 2}, headers=org.as_manager
        ).json()
        part_id = uuid.UUID(_part_ids(engine, created["id"])[0])
        execute_part(sessions, part_id, osrm_url=f"http://127.0.0.1:{server.server_port}")
        run = http.get(f"{RUNS}/{created['id']}", headers=org.as_manager).json()
        assert run["status"] == "succeeded" and _RoadTable.calls > 0
        with Session(engine) as session:
            data = load_planning_input(session, org.org_id, org.reps, org.monday, 1)
        problem = build_problem(data)
        where = {c.id: problem.points[c.location] for c in problem.customers}
        homes = {rep.id: problem.points[rep.start] for rep in problem.shifts[0]}
        assert run["days"]
        for day in run["days"]:
            home = homes[day["rep_id"]]
            legs = [home, *(where[stop["customer_id"]] for stop in day["stops"]), home]
            road = sum(haversine_m(a[0], a[1], b[0], b[1]) * 1.25 for a, b in itertools.pairwise(legs))
            # The fake's road metres (1.25 x), not the default haversine x 1.3.
            assert day["distance_m"] == pytest.approx(road, rel=1e-3, abs=1)
    finally:
        server.shutdown()

    # The routing server gone: the part fails with a code the manager can act on.
    created = http.post(
        RUNS, json={"start_date": org.monday.isoformat(), "days": 1, "time_limit_s": 1}, headers=org.as_manager
    ).json()
    execute_part(sessions, uuid.UUID(_part_ids(engine, created["id"])[0]), osrm_url="http://127.0.0.1:9/")
    failed = http.get(f"{RUNS}/{created['id']}", headers=org.as_manager).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "ROUTING_SERVER_FAILED"


def _part_ids(engine: Engine, run_id: str) -> list[str]:
    with Session(engine) as session:
        return [
            str(p)
            for p in session.scalars(select(PlanningRunPart.id).where(PlanningRunPart.run_id == uuid.UUID(run_id)))
        ]


def test_an_organisation_wide_run_reports_customers_no_rep_may_visit(
    http: httpx.Client, org: PlanningOrg, worker: Any, engine: Engine
) -> None:
    """Last in the module: it deactivates a rep. Their territory's customers then have no rep."""
    gone = org.reps[-1]
    with Session(engine) as session, session.begin():
        session.execute(update(User).where(User.id == gone).values(active=False))
        orphans = set(
            session.scalars(select(Customer.id).where(Customer.org_id == org.org_id, Customer.owner_id == gone)).all()
        )
    admin = org.headers(org.admin, Role.admin)
    created = http.post(RUNS, json={"start_date": org.monday.isoformat(), "days": 2, "time_limit_s": 2}, headers=admin)
    assert created.status_code == 202, created.text
    run, _ = _wait(http, org, created.headers["Location"], ("succeeded", "failed"), headers=admin)
    assert run["status"] == "succeeded", run["error"]
    assert run["params"]["organisation_wide"] is True
    no_rep = {entry["customer_id"] for entry in run["unassigned"] if entry["reason"] == "no_rep"}
    assert no_rep and no_rep <= {str(c) for c in orphans}
    planned = {stop["customer_id"] for day in run["days"] for stop in day["stops"]}
    assert not planned & no_rep
