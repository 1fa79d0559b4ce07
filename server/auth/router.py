"""OAuth2 password flow, refresh rotation and password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status

from server.auth import service
from server.auth.schemas import PasswordChange, RefreshRequest, TokenResponse
from server.deps import AppSettings, CurrentActor, DbSession
from server.middleware import require_json_body
from server.models import User
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)


def _pair(pair: service.TokenPair) -> TokenResponse:
    return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/token", response_model=TokenResponse, summary="Log in (OAuth2 password flow)")
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=320, description="email, or org-slug/email")],
    password: Annotated[str, Form(max_length=256)],
) -> TokenResponse:
    client_address = request.client.host if request.client else None
    return _pair(service.log_in(session, settings, username, password, client_address))


@router.post(
    "/refresh",
    dependencies=[Depends(require_json_body)],
    response_model=TokenResponse,
    summary="Swap a refresh token for a new pair",
)
def refresh(body: RefreshRequest, session: DbSession, settings: AppSettings) -> TokenResponse:
    return _pair(service.rotate_refresh_token(session, settings, body.refresh_token))


@router.post(
    "/password",
    dependencies=[Depends(require_json_body)],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password",
)
def change_password(
    body: PasswordChange, request: Request, session: DbSession, settings: AppSettings, actor: CurrentActor
) -> None:
    user = session.get(User, actor.user_id)
    assert user is not None
    client_address = request.client.host if request.client else None
    service.change_password(session, settings, user, body.current_password, body.new_password, client_address)
