"""Users over HTTP: the resource's CRUD endpoints and `/users/me`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api.router_factory import crud_router
from server.deps import CurrentActor, DbSession
from server.unit_of_work import UnitOfWorkRoute
from server.users.resources import user_resource
from server.users.schemas import UserRead

me_router = APIRouter(prefix="/users", tags=["users"], route_class=UnitOfWorkRoute)


@me_router.get("/me", response_model=UserRead, summary="The calling user")
def read_me(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return user_resource.serialize(session, [user_resource.get_visible(session, actor, actor.user_id)])[0]


router = APIRouter()
router.include_router(me_router)  # before /users/{id}, so "me" is not parsed as an id
router.include_router(crud_router(user_resource, tag="users"))
