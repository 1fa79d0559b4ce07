"""Typed dependencies: the request's session, settings and the calling actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor, load_actor
from server.access.credentials import decode_access_token
from server.config import Settings
from server.errors import Forbidden, Unauthorized
from server.models import User
from server.unit_of_work import request_session

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbSession = Annotated[Session, Depends(request_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def current_actor(
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token, settings.secret_key)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired", code="INVALID_TOKEN")
    user = session.scalar(select(User).where(User.id == claims.user_id, User.org_id == claims.org_id))
    if user is None or not user.active or user.deleted_at is not None or user.auth_generation != claims.generation:
        raise Unauthorized("The access token is no longer valid", code="INVALID_TOKEN")
    return load_actor(session, user)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_managers(actor: CurrentActor) -> Actor:
    if not actor.manages_people:
        raise Forbidden("Only managers and admins may do this", code="ROLE_FORBIDDEN")
    return actor


ManagerActor = Annotated[Actor, Depends(require_managers)]
