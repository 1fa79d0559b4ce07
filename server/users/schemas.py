from __future__ import annotations

import uuid

from pydantic import Field

from server.api.filters import ListQuery
from server.api.schemas import Email, StrictModel, TenantRead, WeeklyHours
from server.auth.schemas import Password
from server.geo import LatLon
from shared.enums import Role


class UserCreate(StrictModel):
    id: uuid.UUID | None = None
    email: Email
    full_name: str = Field(default="", max_length=200)
    password: Password
    role: Role
    manager_id: uuid.UUID | None = None
    home_location: LatLon | None = None
    working_hours: WeeklyHours = Field(default_factory=dict)


class UserUpdate(StrictModel):
    email: Email | None = None
    full_name: str | None = Field(default=None, max_length=200)
    password: Password | None = None
    role: Role | None = None
    manager_id: uuid.UUID | None = None
    home_location: LatLon | None = None
    working_hours: WeeklyHours | None = None
    active: bool | None = None


class UserRead(TenantRead):
    email: str
    full_name: str
    role: Role
    manager_id: uuid.UUID | None
    home_location: LatLon | None
    working_hours: dict[str, list[list[str]]]
    active: bool


class UserListQuery(ListQuery):
    role: Role | None = None
    manager_id: uuid.UUID | None = None
    active: bool | None = None
