"""Pages about people in the field: the live map and a rep's day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.deps import DbSession
from server.errors import NotFound
from server.organizations.settings import effective_settings
from server.planning.adherence import plan_adherence
from server.unit_of_work import UnitOfWorkRoute
from server.web import queries
from server.web.context import PageContext, render

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False, default_response_class=HTMLResponse)


def _zone(page: PageContext) -> ZoneInfo:
    return ZoneInfo(effective_settings(page.org).timezone)


@router.get("/")
def live_map(request: Request, session: DbSession, page: PageContext) -> HTMLResponse:
    """Every rep's last position, then live updates; today's routes; the rep list."""
    zone = _zone(page)
    today = datetime.now(UTC).astimezone(zone).date()
    people = [p for p in queries.people_in_view(session, page.actor) if p["role"] == "rep"]
    plans = queries.plans_of_day(session, page.actor, today)
    return render(
        request,
        "live.html",
        page,
        today=today,
        reps=people,
        data={"reps": people, "plans": plans, "today": today, "timezone": str(zone)},
    )


@router.get("/reps/{rep_id}/day")
def rep_day(
    request: Request, session: DbSession, page: PageContext, rep_id: uuid.UUID, day: date | None = None
) -> HTMLResponse:
    """The planned route against the GPS track, the stops, the visits with their check-in
    verification and GPS presence, a time slider, GPX export."""
    zone = _zone(page)
    day = day or datetime.now(UTC).astimezone(zone).date()
    rep = next((p for p in queries.people_in_view(session, page.actor) if p["id"] == str(rep_id)), None)
    if rep is None:
        raise NotFound("rep not found", code="REP_NOT_FOUND")
    plans = queries.plans_of_day(session, page.actor, day, rep_id)
    visits = queries.visits_of_day(session, page.actor, rep_id, day, zone)
    start, end = queries.day_bounds(day, zone)
    # Adherence once the published day has begun: what was planned against what happened.
    adherence = None
    if plans and start <= datetime.now(UTC):
        adherence = plan_adherence(session, page.actor, uuid.UUID(str(plans[0]["id"])))
    return render(
        request,
        "rep_day.html",
        page,
        rep=rep,
        day=day,
        visits=visits,
        plan=plans[0] if plans else None,
        adherence=adherence,
        zone=zone,
        track_start=start.isoformat(),
        track_end=end.isoformat(),
        data={
            "rep": rep,
            "day": day,
            "plan": plans[0] if plans else None,
            "visits": visits,
            "track_start": start,
            "track_end": end,
        },
    )
