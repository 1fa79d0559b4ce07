"""Tracking endpoints: devices, ingest (app and tracker apps), tracks and GPX, live, workdays."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from server.access.credentials import verify_password
from server.api.router_factory import PROBLEM_RESPONSES, crud_router
from server.db import libpq_url
from server.deps import CurrentActor, DbSession
from server.errors import AppError, InvalidInput, Unauthorized
from server.middleware import require_json_body
from server.models import Device
from server.tracking import service
from server.tracking.devices import device_resource
from server.tracking.geometry import gpx
from server.tracking.ingest import MAX_BATCH, IngestReport, PointInvalid, point_from_app, store_positions
from server.tracking.live import position_events
from server.tracking.osmand import TrackerReport, from_json, from_parameters
from server.tracking.privacy import sharing_window
from server.unit_of_work import UnitOfWorkRoute

TRACKER_MAX_BYTES = 64 * 1024

router = APIRouter(tags=["tracking"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


class TooManyPositions(AppError):
    status, code, title = 413, "TOO_MANY_POSITIONS", "Payload too large"


@router.post(
    "/tracking/positions",
    summary="Report a batch of positions (up to 1,000)",
    dependencies=[Depends(require_json_body)],
)
async def post_positions(request: Request, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """`{"device": id or identifier, "positions": [{time, lat, lon, accuracy, speed, heading, altitude,
    battery, charging, activity}]}`. Each bad point is reported with its index and reason; the good
    ones are stored. The same device and time is stored once."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidInput("The body is not JSON", code="MALFORMED_JSON", status=400) from None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("positions"), list)
        or not isinstance(body.get("device"), str)
    ):
        raise InvalidInput('Send {"device": "...", "positions": [...]}', code="VALIDATION_FAILED")
    raw_points = body["positions"]
    if len(raw_points) > MAX_BATCH:
        raise TooManyPositions(f"At most {MAX_BATCH} positions per batch, got {len(raw_points)}")

    def ingest() -> IngestReport:
        device = service.device_of(session, actor, body["device"])
        report = IngestReport()
        good = []
        for index, raw in enumerate(raw_points):
            try:
                good.append(point_from_app(raw))
            except PointInvalid as problem:
                report.rejected.append({"index": index, "reason": str(problem)})
        report.stored, report.duplicates = store_positions(session, device, good)
        return report

    report = await run_in_threadpool(ingest)
    return {"stored": report.stored, "duplicates": report.duplicates, "rejected": report.rejected}


@router.get("/tracking/osmand", summary="OsmAnd / Traccar Client report (query)", operation_id="tracker_report_get")
@router.post(
    "/tracking/osmand", summary="OsmAnd / Traccar Client report (form or JSON)", operation_id="tracker_report_post"
)
async def tracker_report(request: Request, session: DbSession) -> Response:
    """For tracker apps (no bearer token: the device identifier, and its token when it has one)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > TRACKER_MAX_BYTES:
        raise AppError("Reports are at most 64 KiB", code="PAYLOAD_TOO_LARGE", status=413)
    body = await request.body()
    if len(body) > TRACKER_MAX_BYTES:
        raise AppError("Reports are at most 64 KiB", code="PAYLOAD_TOO_LARGE", status=413)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = content_type == "application/json" or (not request.query_params and body.lstrip().startswith(b"{"))
    try:
        if is_json:
            report = from_json(json.loads(body))
        else:
            params = dict(request.query_params) or dict(parse_qsl(body.decode("utf-8", "replace")))
            report = from_parameters(params)
    except (PointInvalid, ValueError, UnicodeDecodeError) as problem:
        raise InvalidInput(f"Malformed report: {problem}", code="MALFORMED_REPORT", status=400) from None

    def store() -> None:
        device = _tracker_device(session, report, is_json)
        store_positions(session, device, [report.point])

    await run_in_threadpool(store)
    return Response(status_code=200)


def _tracker_device(session: DbSession, report: TrackerReport, is_json: bool) -> Device:
    device = session.scalar(select(Device).where(Device.identifier == report.identifier, Device.deleted_at.is_(None)))
    if device is None:
        # The protocol's own answers: 400 to the query form, 404 to the JSON one.
        raise InvalidInput(
            f"Unknown device {report.identifier!r}", code="UNKNOWN_DEVICE", status=404 if is_json else 400
        )
    if device.token_hash is not None and not (report.token and verify_password(device.token_hash, report.token)):
        raise Unauthorized("This device reports with a token", code="DEVICE_TOKEN_REQUIRED")
    return device


@router.get("/tracking/users/{user_id}/track", summary="A user's track: simplified, distance, stops; or GPX")
def get_track(
    user_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    start: AwareDatetime,
    end: AwareDatetime,
    tolerance_m: Annotated[float, Query(ge=0, le=1_000)] = 10.0,
    stop_minutes: Annotated[float, Query(gt=0, le=24 * 60)] = 5.0,
    stop_radius_m: Annotated[float, Query(gt=0, le=5_000)] = 50.0,
    format: Annotated[str, Query(pattern="^(json|gpx)$")] = "json",
) -> Response:
    query = service.TrackQuery(start, end, tolerance_m, stop_minutes, stop_radius_m)
    user, simplified, summary = service.track(session, actor, user_id, query)
    if format == "gpx":
        name = f"{user.full_name or user.email} {start:%Y-%m-%d}"
        return Response(
            gpx(simplified, name=name),
            media_type="application/gpx+xml",
            headers={"Content-Disposition": f'attachment; filename="track-{user_id}.gpx"'},
        )
    return Response(json.dumps(summary), media_type="application/json")


@router.get("/tracking/last", summary="Last known position of each rep the caller may see")
def get_last(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return {"items": service.last_positions(session, actor)}


@router.get("/tracking/live", summary="Server-sent events: position updates of the reps the caller may see")
async def live(request: Request, actor: CurrentActor, session: DbSession) -> StreamingResponse:
    # The stream may last hours: give the request's pooled connection back now (the
    # stream listens on a connection of its own), or open live maps would drain the pool.
    session.close()
    dsn = libpq_url(request.app.state.engine.url.render_as_string(hide_password=False))
    factory = request.app.state.session_factory

    def window_of(user_id: uuid.UUID, moment: datetime) -> Any:
        session = factory()
        try:
            return sharing_window(session, actor.org_id, user_id, moment, moment)
        finally:
            session.close()

    events = position_events(dsn, actor, window_of, request.is_disconnected)
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


@router.post("/tracking/workday/start", summary="Start today: managers may see positions from now")
def workday_start(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    day = service.start_workday(session, actor)
    return {"day": day.day.isoformat(), "started_at": day.started_at.isoformat(), "ended_at": None}


@router.post("/tracking/workday/end", summary="End today: positions after now stay private")
def workday_end(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    day = service.end_workday(session, actor)
    return {
        "day": day.day.isoformat(),
        "started_at": day.started_at.isoformat(),
        "ended_at": day.ended_at.isoformat() if day.ended_at else None,
    }


devices_router = crud_router(device_resource, tag="devices")
