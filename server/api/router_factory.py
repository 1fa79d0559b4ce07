"""Build the five CRUD endpoints of a resource.

No `from __future__ import annotations` here: FastAPI reads the endpoint
annotations at runtime, and they refer to this function's arguments.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, create_model

from server.api.resource import ResourceSpec, WriteContext
from server.deps import CurrentActor, DbSession
from server.errors import InvalidInput
from server.unit_of_work import UnitOfWorkRoute

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Not allowed for this role",
        404: "Not found (or not visible to the caller)",
        409: "Conflict",
        412: "If-Match row_version does not match",
        413: "Body too large",
        422: "Validation failed",
    }.items()
}


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise InvalidInput('If-Match must be the row_version, e.g. "3"', code="INVALID_IF_MATCH", status=400) from exc


def crud_router(spec: ResourceSpec[Any], *, tag: str) -> APIRouter:
    router = APIRouter(prefix=spec.path, tags=[tag], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)
    read_schema = spec.read_schema
    page_schema: type[BaseModel] = create_model(
        f"{read_schema.__name__}Page",
        items=(list[read_schema], ...),
        next_cursor=(str | None, None),  # type: ignore[valid-type]
    )
    list_query = spec.list_query
    create_schema = spec.create_schema
    update_schema = spec.update_schema

    @router.get("", response_model=page_schema, summary=f"List {spec.path.strip('/')}")
    def list_items(
        session: DbSession,
        actor: CurrentActor,
        query: Annotated[list_query, Query()],  # type: ignore[valid-type]
    ) -> dict[str, Any]:
        return spec.list_page(session, actor, query)

    @router.get("/{item_id}", response_model=read_schema, summary=f"Get one {spec.name}")
    def get_item(item_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
        return spec.serialize(session, [spec.get_visible(session, actor, item_id)])[0]

    @router.post("", response_model=read_schema, status_code=status.HTTP_201_CREATED, summary=f"Create a {spec.name}")
    def create_item(
        payload: create_schema,  # type: ignore[valid-type]
        session: DbSession,
        actor: CurrentActor,
        response: Response,
    ) -> dict[str, Any]:
        obj = spec.create(WriteContext(session, actor), payload)
        response.headers["Location"] = f"/api/v1{spec.path}/{obj.id}"
        response.headers["ETag"] = f'"{obj.row_version}"'
        return spec.serialize(session, [obj])[0]

    @router.patch("/{item_id}", response_model=read_schema, summary=f"Change fields of a {spec.name}")
    def update_item(
        item_id: uuid.UUID,
        payload: update_schema,  # type: ignore[valid-type]
        session: DbSession,
        actor: CurrentActor,
        response: Response,
        if_match: Annotated[str | None, Header(description="row_version the change is based on")] = None,
    ) -> dict[str, Any]:
        obj = spec.update(WriteContext(session, actor), item_id, payload, parse_if_match(if_match))
        response.headers["ETag"] = f'"{obj.row_version}"'
        return spec.serialize(session, [obj])[0]

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete a {spec.name}")
    def delete_item(item_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
        spec.soft_delete(WriteContext(session, actor), item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
