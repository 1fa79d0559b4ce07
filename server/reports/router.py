"""Reports over HTTP: `GET /reports` lists them; `GET /reports/{name}` answers one for a
period, by team, rep or day, as JSON or CSV (`?format=csv` or `Accept: text/csv`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import CurrentActor, DbSession
from server.reports.schemas import FIGURES, REPORTS, FigureInfo, GroupBy, Report, ReportCatalogue, ReportInfo
from server.reports.service import build_report, report_csv
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/reports", tags=["reports"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


@router.get("", response_model=ReportCatalogue, summary="The reports, their figures and units")
def catalogue(actor: CurrentActor) -> ReportCatalogue:
    return ReportCatalogue(
        reports=[
            ReportInfo(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                snapshot=spec.snapshot,
                figures=[FigureInfo(name=n, label=FIGURES[n].label, unit=FIGURES[n].unit) for n in spec.figures],
            )
            for spec in REPORTS.values()
        ]
    )


@router.get(
    "/{name}",
    response_model=Report,
    summary="One report for a period, by team, rep or day (JSON or CSV)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def report(
    name: str,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    start: Annotated[date, Query(description="First day, in the organisation's time zone")],
    end: Annotated[date, Query(description="Last day, included")],
    group_by: GroupBy = GroupBy.rep,
    team_id: Annotated[uuid.UUID | None, Query(description="Only this manager's team")] = None,
    rep_id: Annotated[uuid.UUID | None, Query(description="Only this rep")] = None,
    format: Literal["json", "csv"] | None = None,
) -> Response:
    """A manager sees their team, a rep themselves, an admin everyone; a team or rep outside
    that is not found. Shares are computed from the period's sums."""
    built = build_report(session, actor, name, start, end, group_by, team_id=team_id, rep_id=rep_id)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        filename = f"{built.report}-{built.start}-{built.end}-by-{built.group_by}.csv"
        return Response(
            report_csv(built),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    # Serialised once, by pydantic-core, rather than validated again on the way out.
    return Response(built.model_dump_json(), media_type="application/json")
