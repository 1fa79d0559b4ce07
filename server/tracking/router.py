"""Tracking endpoints: devices, ingest (app and tracker apps), tracks and GPX, live, workdays."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from server.api.router_factory import PROBLEM_RESPONSES, crud_router
from server.db import libpq_url
from server.deps import CurrentActor, DbSession
from server.errors import AppError, InvalidInput
from server.middleware import require_json_body
from server.models import User
from server.tracking import service
from server.tracking.devices import device_resource
from server.tracking.geometry import gpx
from server.tracking.ingest import MAX_BATCH, PointInvalid
from server.tracking.live import hub_of, position_events
from server.tracking.osmand import from_json, from_parameters
from server.tracking.privacy import sharing_window
from server.tracking.schemas import LastPositions, PositionBatchReport, TrackSummary, WorkdayMark, WorkdayRead
from server.unit_of_work import UnitOfWorkRoute

TRACKER_MAX_BYTES = 64 * 1024

router = APIRouter(tags=["tracking"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


# The bodies these endpoints parse by hand, described for clients and the schema fuzz. Loose on
# purpose where tracker apps are (a point's fields are checked one by one, each with its reason).
_APP_POINT = {
    "type": "object",
    "properties": {
        "time": {"type": "string", "format": "date-time", "description": "or unix seconds / milliseconds"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy": {"type": "number"},
        "speed": {"type": "number"},
        "heading": {"type": "number"},
        "altitude": {"type": "number"},
        "battery": {"type": "number"},
        "charging": {"type": "boolean"},
        "activity": {"type": "string"},
    },
    "required": ["time", "lat", "lon"],
}
_BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "device": {"type": "string", "description": "The device's id or identifier"},
                    "positions": {"type": "array", "items": _APP_POINT, "maxItems": 1000},
                },
                "required": ["device", "positions"],
            }
        }
    },
}
_TRACKER_FIELDS = {
    "id": {"type": "string", "description": "The device identifier (or deviceid)"},
    "deviceid": {"type": "string"},
    "lat": {"type": "number"},
    "lon": {"type": "number"},
    "location": {"type": "string", "description": "lat,lon"},
    "timestamp": {"type": "string", "description": "unix seconds, milliseconds or ISO-8601"},
    "speed": {"type": "number", "description": "knots"},
    "bearing": {"type": "number"},
    "altitude": {"type": "number"},
    "accuracy": {"type": "number"},
    "hdop": {"type": "number"},
    "batt": {"type": "number"},
    "charge": {"type": "boolean"},
    "valid": {"type": "boolean", "description": "false: kept, flagged, never used as a position"},
    "token": {"type": "string"},
}
_TRACKER_JSON = {
    "type": "object",
    "properties": {
        "device_id": {"type": "string"},
        "token": {"type": "string"},
        "location": {
            "type": "object",
            "properties": {
                "timestamp": {"type": "string"},
                "coords": {
                    "type": "object",
                    "properties": {
                        "latitude": {"type": "number"},
                        "longitude": {"type": "number"},
                        "accuracy": {"type": "number"},
                        "speed": {"type": "number"},
                        "heading": {"type": "number"},
                        "altitude": {"type": "number"},
                    },
                },
                "battery": {
                    "type": "object",
                    "properties": {"level": {"type": "number"}, "is_charging": {"type": "boolean"}},
                },
                "activity": {"type": "object", "properties": {"type": {"type": "string"}}},
            },
        },
    },
    "required": ["device_id"],
}
_TRACKER_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in _TRACKER_FIELDS.items()
]
_TRACKER_BODY = {
    "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": _TRACKER_FIELDS}},
        "application/json": {"schema": _TRACKER_JSON},
    }
}


class TooManyPositions(AppError):
    status, code, title = 413, "TOO_MANY_POSITIONS", "Payload too large"


@router.post(
    "/tracking/positions",
    response_model=PositionBatchReport,
    summary="Report a batch of positions (up to 1,000)",
    dependencies=[Depends(require_json_body)],
    openapi_extra={"requestBody": _BATCH_BODY},
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

    return await run_in_threadpool(service.ingest_app_batch, session, actor, body["device"], raw_points)


@router.get(
    "/tracking/osmand",
    summary="OsmAnd / Traccar Client report (query)",
    operation_id="tracker_report_get",
    openapi_extra={"parameters": _TRACKER_QUERY},
)
@router.post(
    "/tracking/osmand",
    summary="OsmAnd / Traccar Client report (form or JSON)",
    operation_id="tracker_report_post",
    openapi_extra={"parameters": _TRACKER_QUERY, "requestBody": _TRACKER_BODY},
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

    client = request.client.host if request.client else ""
    await run_in_threadpool(service.store_tracker_report, session, report, is_json, client)
    return Response(status_code=200)


@router.get(
    "/tracking/users/{user_id}/track",
    response_model=TrackSummary,
    responses={200: {"content": {"application/gpx+xml": {}}, "description": "JSON, or GPX 1.1 with format=gpx"}},
    summary="A user's track: simplified, distance, stops; or GPX",
)
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


@router.get(
    "/tracking/last", response_model=LastPositions, summary="Last known position of each rep the caller may see"
)
def get_last(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return {"items": service.last_positions(session, actor)}


@router.get("/tracking/live", summary="Server-sent events: position updates of the reps the caller may see")
async def live(request: Request, actor: CurrentActor, session: DbSession) -> StreamingResponse:
    # Who the caller is now: the stream ends when that changes (deactivated, deleted, a
    # new password).
    user = await run_in_threadpool(session.get, User, actor.user_id)
    generation = user.auth_generation if user is not None else -1
    # The stream may last hours: give the request's pooled connection back now (the
    # process's one LISTEN connection feeds every stream), or open live maps would drain the pool.
    session.close()
    dsn = libpq_url(request.app.state.engine.url.render_as_string(hide_password=False))
    factory = request.app.state.session_factory
    hub = hub_of(request.app.state, dsn)
    queue = hub.subscribe(actor.user_id)  # 429 past the per-user limit, before anything is sent

    def still_allowed() -> bool:
        session = factory()
        try:
            current = session.get(User, actor.user_id)
            return (
                current is not None
                and current.active
                and current.deleted_at is None
                and current.auth_generation == generation
            )
        finally:
            session.close()

    def window_of(user_id: uuid.UUID, moment: datetime) -> Any:
        session = factory()
        try:
            return sharing_window(session, actor.org_id, user_id, moment, moment)
        finally:
            session.close()

    events = position_events(hub, queue, actor, window_of, request.is_disconnected, still_allowed)
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


@router.post(
    "/tracking/workday/start", response_model=WorkdayRead, summary="Start today: managers may see positions from now"
)
def workday_start(session: DbSession, actor: CurrentActor, body: WorkdayMark | None = None) -> dict[str, Any]:
    """`{"at": time}` (optional): when the rep tapped "start", for a phone that was offline then."""
    day = service.start_workday(session, actor, body.at if body else None)
    return {"day": day.day.isoformat(), "started_at": day.started_at.isoformat(), "ended_at": None}


@router.post("/tracking/workday/end", response_model=WorkdayRead, summary="End today: positions after now stay private")
def workday_end(session: DbSession, actor: CurrentActor, body: WorkdayMark | None = None) -> dict[str, Any]:
    """`{"at": time}` (optional): when the rep tapped "end"."""
    day = service.end_workday(session, actor, body.at if body else None)
    return {
        "day": day.day.isoformat(),
        "started_at": day.started_at.isoformat(),
        "ended_at": day.ended_at.isoformat() if day.ended_at else None,
    }


devices_router = crud_router(device_resource, tag="devices")
