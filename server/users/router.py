from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api.resource import ResourceSpec
from server.api.router_factory import crud_router
from server.deps import CurrentActor, DbSession
from server.models import User
from server.unit_of_work import UnitOfWorkRoute
from server.users.policy import UserPolicy
from server.users.schemas import UserCreate, UserListQuery, UserRead, UserUpdate

user_resource: ResourceSpec[User] = ResourceSpec(
    model=User,
    name="user",
    path="/users",
    read_schema=UserRead,
    create_schema=UserCreate,
    update_schema=UserUpdate,
    policy=UserPolicy(),
    list_query=UserListQuery,
    equality_filters={"role": User.role, "manager_id": User.manager_id, "active": User.active},
    point_fields=("home_location",),
)

me_router = APIRouter(prefix="/users", tags=["users"], route_class=UnitOfWorkRoute)


@me_router.get("/me", response_model=UserRead, summary="The calling user")
def read_me(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return user_resource.serialize(session, [user_resource.get_visible(session, actor, actor.user_id)])[0]


router = APIRouter()
router.include_router(me_router)  # before /users/{id}, so "me" is not parsed as an id
router.include_router(crud_router(user_resource, tag="users"))
