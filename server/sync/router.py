"""Sync endpoints: push, pull, scopes, review, status; content-addressed files."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter

from server.api.router_factory import PROBLEM_RESPONSES, json_response
from server.deps import AppSettings, CurrentActor, DbSession, ManagerActor
from server.errors import PROBLEM_JSON, Forbidden
from server.middleware import require_json_body
from server.models import SyncConflict, SyncRejection
from server.observability import SYNC_PULL_RECORDS, SYNC_PUSH_MUTATIONS, SYNC_PUSH_SIZE
from server.sync import files, maintenance, review
from server.sync.pull import pull_page
from server.sync.push import check_protocol, push
from server.sync.schemas import ConflictPage, RejectionPage, Resolution, ReviewResolved, SyncStatus
from server.sync.scopes import scopes_for
from server.unit_of_work import UnitOfWorkRoute
from shared.sync.hlc import wall_clock_ms
from shared.sync.protocol import (
    PULL_PAGE_DEFAULT,
    PULL_PAGE_MAX,
    SCHEMA_VERSION,
    PullPage,
    PushRequest,
    PushResponse,
    ScopeList,
)

router = APIRouter(prefix="/sync", tags=["sync"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)
files_router = APIRouter(prefix="/files", tags=["files"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)

_push_adapter: TypeAdapter[PushResponse] = TypeAdapter(PushResponse)
_pull_adapter: TypeAdapter[PullPage] = TypeAdapter(PullPage)
_scopes_adapter: TypeAdapter[ScopeList] = TypeAdapter(ScopeList)


@router.post(
    "/push",
    response_model=PushResponse,
    summary="Push outbox mutations (idempotent, in mid order)",
    dependencies=[Depends(require_json_body)],
    responses={426: {"description": "Protocol no longer supported"}},
)
def push_mutations(request: PushRequest, session: DbSession, actor: CurrentActor) -> Response:
    """Apply a client's mutations; each gets an outcome (see SYNC.md). 409 MUTATION_GAP and
    CLIENT_ID_CONFLICT apply nothing; 503 means retry the same batch later."""
    answer = push(session, actor, request)
    SYNC_PUSH_SIZE.observe(len(request.mutations))
    for result in answer.results:
        SYNC_PUSH_MUTATIONS.labels(str(result.outcome)).inc()
    return json_response(_push_adapter, answer)


@router.get("/pull", response_model=PullPage, summary="Changes in one scope after a cursor")
def pull_changes(
    session: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    scope: Annotated[str, Query(max_length=80)],
    protocol: Annotated[int, Query(ge=0)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=PULL_PAGE_MAX)] = PULL_PAGE_DEFAULT,
    client_id: uuid.UUID | None = None,
    schema_version: Annotated[
        int, Query(ge=1, le=SCHEMA_VERSION, description="The entity schema the app was built for (default 1)")
    ] = 1,
) -> Response:
    check_protocol(protocol)
    page = pull_page(
        session,
        actor,
        secret=settings.secret_key,
        scope=scope,
        cursor=cursor,
        limit=limit,
        client_id=client_id,
        schema_version=schema_version,
    )
    SYNC_PULL_RECORDS.observe(len(page.records))
    return json_response(_pull_adapter, page)


@router.get("/scopes", response_model=ScopeList, summary="The scopes the caller may pull now")
def list_scopes(session: DbSession, actor: CurrentActor) -> Response:
    return json_response(_scopes_adapter, ScopeList(scopes=scopes_for(session, actor), server_time_ms=wall_clock_ms()))


ReviewQuery = Annotated[bool | None, Query(description="true: resolved only; false: open only")]


@router.get("/conflicts", response_model=ConflictPage, summary="Values that lost a merge, edits after a delete")
def list_conflicts(
    session: DbSession,
    actor: CurrentActor,
    resolved: ReviewQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Any:
    return review.list_review(session, actor, SyncConflict, resolved=resolved, limit=limit, cursor=cursor)


@router.get(
    "/rejections", response_model=RejectionPage, summary="Rejected and quarantined mutations, with their payloads"
)
def list_rejections(
    session: DbSession,
    actor: CurrentActor,
    resolved: ReviewQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Any:
    return review.list_review(session, actor, SyncRejection, resolved=resolved, limit=limit, cursor=cursor)


@router.post(
    "/conflicts/{item_id}/resolve",
    dependencies=[Depends(require_json_body)],
    response_model=ReviewResolved,
    summary="Mark reviewed",
)
def resolve_conflict(item_id: uuid.UUID, body: Resolution, session: DbSession, actor: ManagerActor) -> Any:
    row = review.resolve(session, actor, SyncConflict, item_id, body.resolution)
    return {"id": row.id, "resolved_at": row.resolved_at, "resolution": row.resolution}


@router.post(
    "/rejections/{item_id}/resolve",
    dependencies=[Depends(require_json_body)],
    response_model=ReviewResolved,
    summary="Mark reviewed",
)
def resolve_rejection(item_id: uuid.UUID, body: Resolution, session: DbSession, actor: ManagerActor) -> Any:
    row = review.resolve(session, actor, SyncRejection, item_id, body.resolution)
    return {"id": row.id, "resolved_at": row.resolved_at, "resolution": row.resolution}


@router.get("/status", response_model=SyncStatus, summary="Horizon lag and change-log size (admins)")
def sync_status(session: DbSession, actor: CurrentActor) -> Any:
    if not actor.is_admin:
        raise Forbidden("Only admins see the sync status", code="ROLE_FORBIDDEN")
    return maintenance.horizon_status(session)


# ---- files ------------------------------------------------------------------------------


@files_router.head("/{sha256}", summary="Is this file here (200), or how much of it (Upload-Offset)?")
def head_file(sha256: str, session: DbSession, actor: CurrentActor) -> Response:
    files.check_name(sha256)
    state = files.upload_state(session, actor, sha256)
    if state is not None and not files.may_know_of(session, actor, sha256, state):
        state = None  # someone else's file or upload answers as if it were not here
    if state is None or not state.complete:
        # A HEAD carries no body: the problem type and the offset travel as headers.
        received = "0" if state is None else str(state.received)
        return Response(status_code=404, media_type=PROBLEM_JSON, headers={"Upload-Offset": received})
    return Response(status_code=200, headers={"Content-Length": str(state.size), "Upload-Offset": str(state.size)})


@files_router.put("/{sha256}", summary="Upload a file or its next chunk (Content-Range)")
async def put_file(
    sha256: str,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    content_range: Annotated[str | None, Header()] = None,
    content_type: Annotated[str, Header()] = "application/octet-stream",
) -> Response:
    from starlette.concurrency import run_in_threadpool

    files.check_name(sha256)
    body = await request.body()
    offset, total = files.parse_range(content_range, len(body))

    def store() -> files.UploadState:
        return files.put_chunk(session, actor, sha256, offset=offset, total=total, body=body, content_type=content_type)

    state = await run_in_threadpool(store)
    status = 201 if state.complete else 202
    return Response(status_code=status, headers={"Upload-Offset": str(state.received)})


@files_router.get("/{sha256}", summary="Download a file")
def get_file(sha256: str, session: DbSession, actor: CurrentActor) -> Response:
    files.check_name(sha256)
    row = files.readable_file(session, actor, sha256)
    body = b"".join(files.file_bytes(session, actor, sha256))
    media_type, disposition = files.served_type(row.content_type, sha256)
    return StreamingResponse(
        iter([body]),
        media_type=media_type,
        headers={
            "Content-Length": str(len(body)),
            "ETag": f'"{sha256}"',
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Disposition": disposition,
            # The browser must not guess a type from the bytes (an "image" that is really HTML).
            "X-Content-Type-Options": "nosniff",
        },
    )
