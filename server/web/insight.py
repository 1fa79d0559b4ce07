"""Pages that look back: KPIs with drill-down and CSV, exceptions, customers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from server.crm.resources import contact_resource, note_resource, opportunity_resource, order_resource
from server.customers.resources import customer_resource
from server.deps import DbSession
from server.errors import AppError
from server.models import Contact, Note, Opportunity, Order, Task, Territory, Visit
from server.organizations.settings import effective_settings
from server.reports.schemas import REPORTS, GroupBy
from server.reports.service import build_report
from server.tasks.resources import task_resource
from server.territories.resources import territory_resource
from server.unit_of_work import UnitOfWorkRoute
from server.visits.resources import visit_resource
from server.web import queries
from server.web.context import PageContext, render
from shared.enums import CustomerStatus, Tier

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False, default_response_class=HTMLResponse)

# The figure each report's chart draws.
CHART_FIGURE = {
    "kpis": "visits_completed",
    "plan-adherence": "adherence_pct",
    "visits": "visits_per_rep_day",
    "time": "time_on_site_h",
    "drive": "drive_km",
    "verification": "verified_pct",
    "missed-late": "missed",
    "tasks": "tasks_done",
    "leads": "leads_created",
    "active-reps": "active_rep_days",
    "sync-health": "mutations",
    "coverage": "coverage_pct",
    "pipeline": "open_amount",
}


@router.get("/kpis")
def kpis(
    request: Request,
    session: DbSession,
    page: PageContext,
    report: str = "kpis",
    start: date | None = None,
    end: date | None = None,
    group_by: GroupBy = GroupBy.team,
    team: Annotated[str, Query(alias="team_id", max_length=64)] = "",
    rep: Annotated[str, Query(alias="rep_id", max_length=64)] = "",
) -> HTMLResponse:
    """A report by team; a team's row drills down to its reps, a rep's to their days.
    (A form sends empty fields: the ids are read leniently, an empty one means "all".)"""
    team_id, rep_id = optional_uuid(team), optional_uuid(rep)
    zone = ZoneInfo(effective_settings(page.org).timezone)
    today = datetime.now(UTC).astimezone(zone).date()
    end = end or today
    start = start or end - timedelta(days=29)
    if not page.is_manager and group_by is GroupBy.team:
        group_by = GroupBy.rep  # a rep has no team to look at: their own row
    values = {"report": report, "start": start, "end": end, "group_by": group_by.value}
    values |= {"team_id": team_id or "", "rep_id": rep_id or ""}
    field_errors: dict[str, str] = {}
    built = None
    status = 200
    try:
        built = build_report(session, page.actor, report, start, end, group_by, team_id=team_id, rep_id=rep_id)
    except AppError as problem:
        status = problem.status
        fields = problem.extra.get("fields") or {}
        field_errors = {name: f"{problem.detail} ({problem.code})" for name in fields} or {
            "report": f"{problem.detail} ({problem.code})"
        }
    query = {k: str(v) for k, v in values.items() if v not in ("", None)}
    csv_query = {k: v for k, v in query.items() if k != "report"}
    return render(
        request,
        "kpis.html",
        page,
        status=status,
        reports=list(REPORTS.values()),
        values=values,
        errors=field_errors,
        result=built,
        csv_url=f"/api/v1/reports/{report}?{urlencode(csv_query | {'format': 'csv'})}" if built else None,
        drill=_drill_links(query),
        data={"chart": _chart(built, CHART_FIGURE.get(report, "")) if built else None},
    )


def _drill_links(query: dict[str, str]) -> dict[str, str]:
    """URL templates: a team's row opens its reps, a rep's row their days."""
    base = {k: v for k, v in query.items() if k not in ("group_by", "team_id", "rep_id")}
    return {
        "team": "/kpis?" + urlencode(base | {"group_by": "rep"}) + "&team_id=",
        "rep": "/kpis?" + urlencode(base | {"group_by": "day"}) + "&rep_id=",
    }


def _chart(report: Any, figure: str) -> dict[str, Any]:
    labels = []
    for row in report.rows:
        if row.day is not None:
            labels.append(
                f"{row.rep} {row.day.isoformat()}"
                if not report.rows or len({r.rep for r in report.rows}) > 1
                else row.day.isoformat()
            )
        else:
            labels.append(row.rep or row.team)
    label = next((f.label for f in report.figures if f.name == figure), figure)
    return {"labels": labels, "values": [row.figures.get(figure) for row in report.rows], "label": label}


def optional_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _optional_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/exceptions")
def exceptions(request: Request, session: DbSession, page: PageContext, days: int = 7) -> HTMLResponse:
    now = datetime.now(UTC)
    days = max(1, min(days, 31))
    found = queries.exceptions(session, page.actor, now - timedelta(days=days), now)
    zone = ZoneInfo(effective_settings(page.org).timezone)
    return render(request, "exceptions.html", page, found=found, days=days, zone=zone)


@router.get("/customers")
def customers(
    request: Request,
    session: DbSession,
    page: PageContext,
    q: Annotated[str, Query(max_length=200)] = "",
    tier_text: Annotated[str, Query(alias="tier", max_length=8)] = "",
    status_text: Annotated[str, Query(alias="status", max_length=20)] = "",
    territory: Annotated[str, Query(alias="territory_id", max_length=64)] = "",
    overdue: bool = False,
    since: Annotated[str, Query(alias="not_visited_since", max_length=10)] = "",
) -> HTMLResponse:
    # A filter form sends every field, the unused ones empty: "" means any.
    tier = Tier(tier_text) if tier_text in {t.value for t in Tier} else None
    status = CustomerStatus(status_text) if status_text in {s.value for s in CustomerStatus} else None
    territory_id = optional_uuid(territory)
    not_visited_since = _optional_date(since)
    rows, total = queries.customer_list(
        session,
        page.actor,
        q=q.strip()[:100],
        tier=tier,
        status=status.value if status else None,
        territory_id=territory_id,
        overdue=overdue,
        not_visited_since=not_visited_since,
        frequencies=effective_settings(page.org).visit_frequency_days,
    )
    territories = territory_resource.serialize(
        session, list(session.scalars(territory_resource.base_query(page.actor).order_by(Territory.name)))
    )
    filters = {
        "q": q,
        "tier": tier.value if tier else "",
        "status": status.value if status else "",
        "territory_id": str(territory_id) if territory_id else "",
        "overdue": overdue,
        "not_visited_since": not_visited_since.isoformat() if not_visited_since else "",
    }
    pins = [
        {"id": str(r["id"]), "name": r["name"], "tier": r["tier"], "location": r.get("location")}
        for r in rows
        if r.get("location")
    ]
    return render(
        request,
        "customers.html",
        page,
        rows=rows,
        total=total,
        filters=filters,
        territories=territories,
        tiers=[t.value for t in Tier],
        statuses=[s.value for s in CustomerStatus],
        data={"customers": pins},
    )


@router.get("/customers/{customer_id}")
def customer(request: Request, session: DbSession, page: PageContext, customer_id: uuid.UUID) -> HTMLResponse:
    """A customer and their history; another organisation's (or one the caller may not
    see) is not found, as in the API."""
    found = customer_resource.get_visible(session, page.actor, customer_id)
    [view] = customer_resource.serialize(session, [found])

    def children(resource: Any, model: Any, order: Any, limit: int = 50) -> list[dict[str, Any]]:
        rows = list(
            session.scalars(
                resource.base_query(page.actor).where(model.customer_id == customer_id).order_by(order).limit(limit)
            )
        )
        result: list[dict[str, Any]] = resource.serialize(session, rows)
        return result

    visits = children(visit_resource, Visit, Visit.planned_start.desc().nulls_last())
    people = {p["id"]: p["name"] for p in queries.people_in_view(session, page.actor)}
    for visit in visits:
        visit["rep_name"] = people.get(str(visit["rep_id"]), "")
    return render(
        request,
        "customer.html",
        page,
        customer=view,
        contacts=children(contact_resource, Contact, Contact.name),
        visits=visits,
        notes=children(note_resource, Note, Note.occurred_at.desc()),
        tasks=children(task_resource, Task, Task.due_at.desc().nulls_last()),
        opportunities=children(opportunity_resource, Opportunity, Opportunity.created_at.desc()),
        orders=children(order_resource, Order, Order.order_date.desc(), 20),
        owner=people.get(str(view.get("owner_id")), ""),
        data={"customer": {"name": view["name"], "location": view.get("location")}},
    )
