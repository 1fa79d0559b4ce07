"""What every dashboard page needs: the signed-in user (or a redirect to sign in),
the templates, the Content-Security-Policy, and error pages."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.access.actor import Actor, load_actor
from server.deps import AppSettings, DbSession, session_user
from server.errors import Forbidden
from server.models import Notification, Organization, User
from server.organizations.settings import effective_settings
from server.web.assets import missing_vendor_packages
from server.web.session import SESSION_COOKIE, end_session, read_session

__all__ = ["Page", "PageContext", "SignInRequired", "csp", "render", "safe_next", "templates"]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRequired(Exception):
    """No valid session: to the sign-in page, then back to `next_path`."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


@dataclass(frozen=True)
class Page:
    actor: Actor
    user: User
    org: Organization
    csrf: str
    tile_url: str
    tile_attribution: str
    unread_notifications: int = 0

    @property
    def is_manager(self) -> bool:
        return self.actor.manages_people

    def require_manager(self) -> None:
        if not self.actor.manages_people:
            raise Forbidden("This page is for managers and admins", code="ROLE_FORBIDDEN")

    def require_admin(self) -> None:
        if not self.actor.is_admin:
            raise Forbidden("This page is for admins", code="ROLE_FORBIDDEN")


def unread_count(session: Session, org_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """For the header's Notifications link on every page (an index-only count)."""
    return int(
        session.scalar(
            select(func.count()).where(
                Notification.org_id == org_id,
                Notification.recipient_id == user_id,
                Notification.read_at.is_(None),
                Notification.deleted_at.is_(None),
            )
        )
        or 0
    )


def page_context(request: Request, session: DbSession, settings: AppSettings) -> Page:
    cookie = request.cookies.get(SESSION_COOKIE)
    web = read_session(settings, cookie)
    user = session_user(session, web) if web else None
    if web is None or user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target, expired=bool(cookie))
    org = session.get(Organization, user.org_id)
    assert org is not None  # the user's own organisation
    effective = effective_settings(org)
    return Page(
        actor=load_actor(session, user),
        user=user,
        org=org,
        csrf=web.csrf,
        tile_url=effective.map_tile_url,
        tile_attribution=effective.map_attribution,
        unread_notifications=unread_count(session, user.org_id, user.id),
    )


PageContext = Annotated[Page, Depends(page_context)]


def csp(tile_url: str = "") -> str:
    """Scripts, styles, fetches and frames from the app only; images from the app and the
    organisation's tile server. Leaflet positions its panes through the DOM's style
    properties, which the policy allows without 'unsafe-inline' for scripts."""
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.hostname or ""
        if "{s}" in (urlsplit(tile_url).netloc or ""):
            # {s}.tile.example.org: the subdomains a, b, c; a CSP wildcard covers the leftmost label.
            host = "*." + host.split(".", 1)[1] if "." in host else ""
        if host:
            images.append(f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def render(request: Request, template: str, page: Page | None, status: int = 200, **values: Any) -> HTMLResponse:
    """A page: the template with the user, their organisation, the CSRF token and the
    data the page's script reads (JSON in a non-executed script element)."""
    data = values.pop("data", None)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "page": page,
            "missing_packages": missing_vendor_packages(),
            "page_data": json.dumps(data, default=_json_default) if data is not None else None,
            **values,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = csp(page.tile_url if page else "")
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_redirect(error: SignInRequired) -> Response:
    response = RedirectResponse(
        f"/login?next={quote(error.next_path)}" + ("&expired=1" if error.expired else ""), status_code=303
    )
    end_session(response)
    return response


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """Errors on a page: the same status as the API would answer, in words."""
    return render(request, "error.html", None, status=status, title=title, detail=detail)
