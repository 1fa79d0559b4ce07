"""Build the five CRUD endpoints of a resource.

No `from __future__ import annotations` here: FastAPI reads the endpoint
annotations at runtime, and they refer to this function's arguments.
"""

import uuid
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, TypeAdapter, create_model

from server.access.policy import WriteContext
from server.api.resource import ResourceSpec
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


def json_response(
    adapter: TypeAdapter[Any], data: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Validate once and serialise in pydantic's core: FastAPI's default path
    validates the response model and then walks it again in Python."""
    body = adapter.dump_json(adapter.validate_python(data))
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def page_json(spec: ResourceSpec[Any], page: dict[str, Any]) -> bytes:
    """A list page straight to JSON: its rows were built from the database by the resource
    (`to_dict`, `enrich`), so validating them again only costs time. Keys follow the read
    schema's order, so the bytes are those the validated path gives
    (tests/server/api/test_resources.py compares them for every resource)."""
    names = list(spec.read_schema.model_fields)
    items = [{name: row[name] for name in names if name in row} for row in page["items"]]
    return pydantic_core.to_json({"items": items, "next_cursor": page["next_cursor"]})


def crud_router(spec: ResourceSpec[Any], *, tag: str) -> APIRouter:
    router = APIRouter(prefix=spec.path, tags=[tag], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)
    read_schema = spec.read_schema
    # The item type is only known at run time, so the page model is built, not declared.
    page_schema: type[BaseModel] = create_model(
        f"{read_schema.__name__}Page",
        items=(list[read_schema], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, None),
    )
    list_query = spec.list_query
    create_schema = spec.create_schema
    update_schema = spec.update_schema
    item_adapter: TypeAdapter[Any] = TypeAdapter(read_schema)

    @router.get("", response_model=page_schema, summary=f"List {spec.path.strip('/')}")
    def list_items(
        session: DbSession,
        actor: CurrentActor,
        query: Annotated[list_query, Query()],  # type: ignore[valid-type]
    ) -> Response:
        body = page_json(spec, spec.list_page(session, actor, query))
        return Response(body, media_type="application/json")

    @router.get("/{item_id}", response_model=read_schema, summary=f"Get one {spec.name}")
    def get_item(item_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
        return json_response(item_adapter, spec.serialize(session, [spec.get_visible(session, actor, item_id)])[0])

    @router.post("", response_model=read_schema, status_code=status.HTTP_201_CREATED, summary=f"Create a {spec.name}")
    def create_item(
        payload: create_schema,  # type: ignore[valid-type]
        session: DbSession,
        actor: CurrentActor,
    ) -> Response:
        obj = spec.create(WriteContext(session, actor), payload)
        headers = {"Location": f"/api/v1{spec.path}/{obj.id}", "ETag": f'"{obj.row_version}"'}
        return json_response(item_adapter, spec.serialize(session, [obj])[0], status_code=201, headers=headers)

    @router.patch("/{item_id}", response_model=read_schema, summary=f"Change fields of a {spec.name}")
    def update_item(
        item_id: uuid.UUID,
        payload: update_schema,  # type: ignore[valid-type]
        session: DbSession,
        actor: CurrentActor,
        if_match: Annotated[str | None, Header(description="row_version the change is based on")] = None,
    ) -> Response:
        obj = spec.update(WriteContext(session, actor), item_id, payload, parse_if_match(if_match))
        headers = {"ETag": f'"{obj.row_version}"'}
        return json_response(item_adapter, spec.serialize(session, [obj])[0], headers=headers)

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete a {spec.name}")
    def delete_item(item_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
        spec.soft_delete(WriteContext(session, actor), item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
