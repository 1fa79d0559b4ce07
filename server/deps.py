"""Typed dependencies: the request's session, settings and the calling actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor, load_actor
from server.access.actor_cache import actor_cache
from server.access.credentials import decode_access_token
from server.config import Settings
from server.errors import Forbidden, Unauthorized
from server.models import User
from server.unit_of_work import request_session
from server.web.session import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, WebSession, read_session, tokens_match

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbSession = Annotated[Session, Depends(request_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def current_actor(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    """The caller: a bearer token (apps, scripts), else the dashboard's session cookie, which
    must bring its CSRF token in `X-CSRF-Token` for any change."""
    if not token:
        return _cookie_actor(request, session, settings)
    claims = decode_access_token(token, settings.secret_key)  # checked every time: expiry is exact
    if claims is None:
        raise Unauthorized("The access token is invalid or expired", code="INVALID_TOKEN")
    cached = actor_cache.get(token)
    if cached is not None:
        return cached
    user = session.scalar(select(User).where(User.id == claims.user_id, User.org_id == claims.org_id))
    if user is None or not user.active or user.deleted_at is not None or user.auth_generation != claims.generation:
        raise Unauthorized("The access token is no longer valid", code="INVALID_TOKEN")
    actor = load_actor(session, user)
    actor_cache.put(token, actor, settings.actor_cache_seconds)
    return actor


def _cookie_actor(request: Request, session: Session, settings: Settings) -> Actor:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized()
    web = read_session(settings, cookie)
    if web is None:
        raise Unauthorized("The session has expired: sign in again", code="SESSION_EXPIRED")
    user = session_user(session, web)
    if user is None:
        raise Unauthorized("The session has ended: sign in again", code="SESSION_EXPIRED")
    if request.method not in SAFE_METHODS and not tokens_match(web.csrf, request.headers.get(CSRF_HEADER)):
        raise Forbidden("The request lacks this session's CSRF token", code="CSRF_FAILED")
    return load_actor(session, user)


def session_user(session: Session, web: WebSession) -> User | None:
    """The session's user while the session still holds (same auth generation, active)."""
    user = session.scalar(select(User).where(User.id == web.user_id, User.org_id == web.org_id))
    if user is None or not user.active or user.deleted_at is not None or user.auth_generation != web.generation:
        return None
    return user


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_managers(actor: CurrentActor) -> Actor:
    if not actor.manages_people:
        raise Forbidden("Only managers and admins may do this", code="ROLE_FORBIDDEN")
    return actor


ManagerActor = Annotated[Actor, Depends(require_managers)]
