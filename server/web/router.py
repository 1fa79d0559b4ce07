"""The dashboard's routes: sign-in and sign-out here, the pages in their domain modules.

`install_web(app)` mounts the files and the pages and turns a missing session into a
redirect to the sign-in page (and back to the page asked for)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.auth.service import check_credentials
from server.deps import AppSettings, DbSession
from server.errors import AppError
from server.unit_of_work import UnitOfWorkRoute
from server.web.assets import mount_assets
from server.web.context import SignInRequired, render, safe_next, sign_in_redirect
from server.web.inbox import router as inbox_router
from server.web.insight import router as insight_router
from server.web.manage import router as manage_router
from server.web.people import router as people_router
from server.web.session import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    end_session,
    login_csrf,
    read_session,
    start_session,
    tokens_match,
)

__all__ = ["install_web"]

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: AppSettings, next: str = "/", expired: bool = False) -> Response:
    return _login_page(request, settings, next, "Your session has ended: sign in again." if expired else "", 200)


def _login_page(request: Request, settings: AppSettings, next_path: str, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, status=status, next=safe_next(next_path), error=error, login_csrf=token
    )
    login_csrf(response, settings, token)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return render(
            request,
            "error.html",
            None,
            status=403,
            title="Forbidden (CSRF_FAILED)",
            detail="The sign-in form had expired or came from another site. Reload the page and sign in again.",
        )
    if not username.strip() or not password:
        return _login_page(request, settings, next, "Enter your email and your password.", 422)
    client = request.client.host if request.client else None
    try:
        user = check_credentials(session, settings, username.strip(), password, client)
    except AppError as refused:  # wrong password, throttled, ambiguous: said on the form
        # The failure counter must be kept: this request's transaction commits (a normal answer).
        return _login_page(request, settings, next, refused.detail, refused.status)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(response, settings, user.id, user.org_id, user.auth_generation)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request, settings: AppSettings, csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = ""
) -> Response:
    web = read_session(settings, request.cookies.get(SESSION_COOKIE))
    if web is not None and not tokens_match(web.csrf, csrf_token):
        return render(
            request, "error.html", None, status=403, title="Forbidden (CSRF_FAILED)", detail="Reload and try again."
        )
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


def install_web(app: FastAPI) -> None:
    mount_assets(app)
    app.include_router(router)
    for pages in (people_router, insight_router, manage_router, inbox_router):
        app.include_router(pages)

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, error: SignInRequired) -> Response:
        return sign_in_redirect(error)
