"""The signed-in user's notifications on the web: newest first, unread marked, read with a tap."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.deps import DbSession
from server.notifications.service import list_notifications
from server.organizations.settings import effective_settings
from server.unit_of_work import UnitOfWorkRoute
from server.web.context import PageContext, render

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/notifications")
def notifications(request: Request, session: DbSession, page: PageContext, unread: bool = False) -> HTMLResponse:
    found = list_notifications(session, page.actor, unread_only=unread, limit=100, cursor=None)
    return render(
        request,
        "notifications.html",
        page,
        items=found["items"],
        unread_total=found["unread"],
        unread_only=unread,
        zone=ZoneInfo(effective_settings(page.org).timezone),
    )
