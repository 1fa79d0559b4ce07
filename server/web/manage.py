"""Pages that change things, each change through the API (the page's script sends it
with the session's CSRF token, and shows the API's problem next to the field): the
territories, planning runs, and the organisation's administration."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.deps import DbSession
from server.models import Territory
from server.organizations.settings import effective_settings, read_settings
from server.planning.runs import fail_lost_parts, get_run, list_runs, parts_of, run_view
from server.territories.resources import territory_resource
from server.unit_of_work import UnitOfWorkRoute
from server.web import queries
from server.web.context import PageContext, render

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/territories")
def territories(request: Request, session: DbSession, page: PageContext) -> HTMLResponse:
    rows = territory_resource.serialize(
        session, list(session.scalars(territory_resource.base_query(page.actor).order_by(Territory.name)))
    )
    reps = [p for p in queries.people_in_view(session, page.actor) if p["role"] == "rep"]
    return render(
        request,
        "territories.html",
        page,
        territories=rows,
        reps=reps,
        data={"territories": rows, "reps": reps, "can_edit": page.is_manager},
    )


@router.get("/plans")
def plans(request: Request, session: DbSession, page: PageContext) -> HTMLResponse:
    page.require_manager()
    fail_lost_parts(session, page.actor.org_id)
    runs = list_runs(session, page.actor, 10)
    parts = parts_of(session, [run.id for run in runs])
    recent = [run_view(run, parts[run.id]) for run in runs]
    zone = ZoneInfo(effective_settings(page.org).timezone)
    tomorrow = datetime.now(UTC).astimezone(zone).date() + timedelta(days=1)
    reps = [p for p in queries.people_in_view(session, page.actor) if p["role"] == "rep" and p["active"]]
    published = queries.plans_of_day(session, page.actor, tomorrow)
    return render(
        request,
        "plans.html",
        page,
        reps=reps,
        runs=recent,
        tomorrow=tomorrow,
        data={"reps": reps, "runs": recent, "tomorrow": tomorrow, "published": published},
    )


@router.get("/plans/runs/{run_id}/review")
def run_review(
    request: Request,
    session: DbSession,
    page: PageContext,
    run_id: uuid.UUID,
    rep_id: uuid.UUID | None = None,
    day: date | None = None,
    pick: str | None = None,
) -> HTMLResponse:
    """A finished run, for review before publishing: the customers it could not fit, by
    reason, and one rep's day with its stops named and drawn."""
    page.require_manager()
    if pick and "|" in pick:  # the day chooser sends "rep_id|date"
        rep_text, _, day_text = pick.partition("|")
        rep_id, day = uuid.UUID(rep_text), date.fromisoformat(day_text)
    run = get_run(session, page.actor, run_id)
    view = run_view(run, parts_of(session, [run.id])[run.id])
    days = view["days"]
    chosen = next((d for d in days if str(d["rep_id"]) == str(rep_id) and str(d["date"]) == str(day)), None)
    chosen = chosen or (days[0] if days else None)
    wanted = {stop["customer_id"] for stop in (chosen or {}).get("stops", [])}
    wanted |= {u["customer_id"] for u in view["unassigned"][:200]}
    customers = queries.customers_by_id(session, page.actor, wanted)
    names = {p["id"]: p["name"] for p in queries.people_in_view(session, page.actor)}
    reasons: dict[str, int] = {}
    for item in view["unassigned"]:
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
    zone = ZoneInfo(effective_settings(page.org).timezone)
    stops = [
        {
            **stop,
            "arrival": datetime.fromisoformat(str(stop["arrival"])),
            "customer": customers.get(str(stop["customer_id"])),
        }
        for stop in (chosen or {}).get("stops", [])
    ]
    return render(
        request,
        "run_review.html",
        page,
        run=view,
        days=days,
        chosen=chosen,
        stops=stops,
        names=names,
        reasons=sorted(reasons.items(), key=lambda item: -item[1]),
        unassigned=[{**u, "customer": customers.get(str(u["customer_id"]))} for u in view["unassigned"][:200]],
        zone=zone,
        data={"stops": stops},
    )


@router.get("/admin")
def admin(request: Request, session: DbSession, page: PageContext) -> HTMLResponse:
    page.require_manager()
    people = queries.people_in_view(session, page.actor)
    managers = [p for p in people if p["role"] in ("manager", "admin")]
    return render(
        request,
        "admin.html",
        page,
        people=people,
        managers=managers,
        devices=queries.devices(session, page.actor),
        settings=read_settings(session, page.actor),
        can_change_settings=page.actor.is_admin,
    )
