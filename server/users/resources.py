"""The user resource: accounts, their roles, teams, homes and working hours."""

from __future__ import annotations

from server.api.resource import ResourceSpec
from server.models import User
from server.users.policy import UserPolicy
from server.users.schemas import UserCreate, UserListQuery, UserRead, UserUpdate
from server.users.service import convert_user_values, deactivate_deleted_user, end_sessions_on_change

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
    convert_values=convert_user_values,
    on_change=end_sessions_on_change,
    after_delete=deactivate_deleted_user,
)
