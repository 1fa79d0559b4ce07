"""Devices: a rep registers their phones (and tracker apps); managers see their team's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import Field
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.credentials import device_token_hash
from server.access.policy import Policy, WriteContext
from server.access.references import check_user_ref
from server.access.visibility import sees_person
from server.api.resource import ResourceSpec
from server.api.schemas import StrictModel, TenantRead
from server.config import get_settings
from server.models import Device

Identifier = Field(pattern=r"^[A-Za-z0-9._:-]{3,100}$", description="What the phone or tracker app reports as its id")
Token = Field(default=None, min_length=12, max_length=200, description="Optional; tracker reports must then carry it")


class DeviceCreate(StrictModel):
    id: uuid.UUID | None = None
    identifier: str = Identifier
    name: str = Field(default="", max_length=200)
    user_id: uuid.UUID | None = Field(default=None, description="Defaults to the caller")
    token: str | None = Token


class DeviceUpdate(StrictModel):
    name: str | None = Field(default=None, max_length=200)
    token: str | None = Token


class DeviceRead(TenantRead):
    user_id: uuid.UUID
    identifier: str
    name: str
    has_token: bool


class DevicePolicy(Policy[Device]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_person(actor, Device.user_id)

    def refused_fields(self, ctx: WriteContext, obj: Device | None, values: Mapping[str, Any]) -> list[str]:
        # Reps register their own devices only.
        owner = values.get("user_id")
        return ["user_id"] if ctx.actor.is_rep and owner not in (None, ctx.actor.user_id) else []

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        owner = values.get("user_id")
        if owner is None:
            values["user_id"] = ctx.actor.user_id
        elif not ctx.actor.is_rep:
            check_user_ref(ctx.session, ctx.actor, owner, "user_id")


def hash_device_token(ctx: WriteContext, values: dict[str, Any]) -> None:
    if "token" in values:
        token = values.pop("token")
        values["token_hash"] = device_token_hash(get_settings().secret_key, token) if token else None


def add_has_token(session: Session, devices: list[Device], rows: list[dict[str, Any]]) -> None:
    for device, row in zip(devices, rows, strict=True):
        row["has_token"] = device.token_hash is not None


device_resource: ResourceSpec[Device] = ResourceSpec(
    model=Device,
    name="device",
    path="/devices",
    read_schema=DeviceRead,
    create_schema=DeviceCreate,
    update_schema=DeviceUpdate,
    policy=DevicePolicy(),
    convert_values=hash_device_token,
    enrich=add_has_token,
)
