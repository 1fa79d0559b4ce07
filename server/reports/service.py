"""Reports: who is in scope, the period in the organisation's time zone, facts rolled up
to rep-days, reps or teams, shares computed from the rolled-up sums, and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_person
from server.errors import InvalidInput, NotFound
from server.models import Organization, User
from server.organizations.settings import effective_settings
from server.reports import queries
from server.reports.schemas import FIGURES, REPORTS, Figure, FigureInfo, GroupBy, Report, ReportRow, ReportSpec
from shared.enums import OpportunityStage, Role, Tier

__all__ = ["MAX_PERIOD_DAYS", "build_report", "report_csv"]

MAX_PERIOD_DAYS = 366
# Where each figure comes from: a report reads only the sources its figures need.
ACTIVE = {"active_rep_days", "active_reps", "visits_per_rep_day"}
FIGURE_SOURCES: dict[str, set[str]] = {
    "visits": {
        *ACTIVE,
        "unique_customers", "planned", "planned_done", "adherence_pct", "visits_completed", "unplanned_completed",
        "time_on_site_h", "on_site_share_pct", "checked_in", "verified", "unverified", "out_of_range", "pending",
        "verified_pct", "missed", "missed_pct", "late", "late_pct", "skipped", "productive", "productive_pct",
    },
    "orders": {"productive", "productive_pct"},
    "workdays": {*ACTIVE, "time_in_field_h", "on_site_share_pct"},
    "drive": {*ACTIVE, "drive_km", "drive_h"},
    "tasks": {"tasks_done", "tasks_overdue"},
    "leads": {"leads_created"},
    "sync": {"mutations", "conflicts", "rejections"},
}  # fmt: skip
OPEN_STAGES = tuple(stage for stage in OpportunityStage if stage not in (OpportunityStage.won, OpportunityStage.lost))


@dataclass(frozen=True)
class RepInScope:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None
    team: str


@dataclass
class Group:
    """One row being rolled up: additive counters, and the sets behind distinct counts."""

    team_id: uuid.UUID | None
    team: str
    rep_id: uuid.UUID | None = None
    rep: str | None = None
    day: date | None = None
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    active_rep_days: set[tuple[uuid.UUID, date]] = field(default_factory=set)
    unique_customers: int = 0  # a distinct count, from the database at this group's level
    last_sync: datetime | None = None


def build_report(
    session: Session,
    actor: Actor,
    name: str,
    start: date,
    end: date,
    group_by: GroupBy,
    *,
    team_id: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Report:
    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound(f"no report named {name!r}; GET /api/v1/reports lists them", code="REPORT_NOT_FOUND")
    _check_period(start, end)
    if spec.snapshot and group_by is GroupBy.day:
        raise InvalidInput(
            f"{spec.title} stands at the period's end: group by team or rep", code="GROUP_BY_NOT_SUPPORTED"
        )
    org = session.get(Organization, actor.org_id)
    if org is None:
        raise NotFound("organisation not found")
    timezone = effective_settings(org).timezone
    zone = ZoneInfo(timezone)
    reps = reps_in_scope(session, actor, team_id, rep_id)
    period = queries.Period(
        org_id=actor.org_id,
        rep_ids=[rep.id for rep in reps],
        timezone=timezone,
        start_ts=datetime.combine(start, time(0), zone),
        end_ts=datetime.combine(end + timedelta(days=1), time(0), zone),
        today=(now or datetime.now(UTC)).astimezone(zone).date(),
    )
    by_id = {rep.id: rep for rep in reps}
    unique_total = 0
    if spec.snapshot:
        groups = _snapshot_groups(session, spec, period, by_id, group_by, effective_settings(org).visit_frequency_days)
    else:
        groups, unique_total = _activity_groups(session, spec, period, by_id, group_by)
    # Sorted as plain dataclasses: reading attributes of unvalidated pydantic rows is slow.
    ordered = sorted(groups.values(), key=lambda group: (group.team, group.rep or "", group.day or date.min))
    rows = [_row(group, spec) for group in ordered]
    merged = _merge(groups.values())
    merged.unique_customers = unique_total
    total = _figures(merged, spec)
    return Report(
        report=spec.name,
        title=spec.title,
        description=spec.description,
        start=start,
        end=end,
        group_by=group_by,
        timezone=timezone,
        figures=[FigureInfo(name=n, label=FIGURES[n].label, unit=FIGURES[n].unit) for n in spec.figures],
        rows=rows,
        total=total,
        generated_at=now or datetime.now(UTC),
    )


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("end is before start", code="INVALID_PERIOD", extra={"fields": {"end": "before start"}})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"a report covers at most {MAX_PERIOD_DAYS} days",
            code="PERIOD_TOO_LONG",
            extra={"fields": {"end": "too far"}},
        )


def reps_in_scope(
    session: Session, actor: Actor, team_id: uuid.UUID | None, rep_id: uuid.UUID | None
) -> list[RepInScope]:
    """The reps the actor sees (a manager: their team; a rep: themselves), narrowed to a team
    or one rep; a team or rep the actor may not see is not found."""
    query = select(User).where(User.org_id == actor.org_id, User.role == Role.rep, sees_person(actor, User.id))
    if team_id is not None:
        manager = session.scalar(
            select(User).where(
                User.org_id == actor.org_id, User.id == team_id, User.role != Role.rep, sees_person(actor, User.id)
            )
        )
        if manager is None:
            raise NotFound("team not found", code="TEAM_NOT_FOUND")
        query = query.where(User.manager_id == team_id)
    if rep_id is not None:
        query = query.where(User.id == rep_id)
    users = list(session.scalars(query))
    if rep_id is not None and not users:
        raise NotFound("rep not found", code="REP_NOT_FOUND")
    manager_ids = {u.manager_id for u in users if u.manager_id is not None}
    managers = {m.id: m for m in session.scalars(select(User).where(User.id.in_(manager_ids)))} if manager_ids else {}
    reps = []
    for user in users:
        manager = managers.get(user.manager_id) if user.manager_id else None
        reps.append(
            RepInScope(
                id=user.id,
                name=user.full_name or user.email,
                team_id=manager.id if manager else None,
                team=(manager.full_name or manager.email) if manager else "No team",
            )
        )
    return reps


def _group_for(groups: dict[Hashable, Group], rep: RepInScope, day: date | None, group_by: GroupBy) -> Group:
    key: Hashable
    if group_by is GroupBy.team:
        key = rep.team_id
        found = groups.get(key)
        if found is None:
            found = groups[key] = Group(team_id=rep.team_id, team=rep.team)
        return found
    key = (rep.id, day) if group_by is GroupBy.day else rep.id
    found = groups.get(key)
    if found is None:
        found = groups[key] = Group(
            team_id=rep.team_id,
            team=rep.team,
            rep_id=rep.id,
            rep=rep.name,
            day=day if group_by is GroupBy.day else None,
        )
    return found


def _activity_groups(
    session: Session,
    spec: ReportSpec,
    period: queries.Period,
    reps: dict[uuid.UUID, RepInScope],
    group_by: GroupBy,
) -> tuple[dict[Hashable, Group], int]:
    """The rows, and the distinct customers visited in all (which no sum of rows gives)."""
    groups: dict[Hashable, Group] = {}
    if group_by is not GroupBy.day:
        for rep in reps.values():  # every rep in scope has a row, idle ones too
            _group_for(groups, rep, None, group_by)
    wanted = set(spec.figures)
    sources = frozenset(source for source, figures in FIGURE_SOURCES.items() if figures & wanted)
    for (rep_id, day), figures in queries.activity_facts(session, period, sources).items():
        group = _group_for(groups, reps[rep_id], day, group_by)
        for name, value in figures.items():
            group.sums[name] += value
        if (
            figures.get("checked_in")
            or figures.get("visits_completed")
            or figures.get("in_field_s")
            or figures.get("fixes")
        ):
            group.active_rep_days.add((rep_id, day))
    if "last_sync_at" in wanted:
        for rep_id, at in queries.last_sync(session, period).items():
            for group in groups.values():
                if group.rep_id == rep_id or (group.rep_id is None and group.team_id == reps[rep_id].team_id):
                    group.last_sync = max(group.last_sync or at, at)
    if "unique_customers" not in wanted:
        return groups, 0
    if group_by is GroupBy.day:
        # Each rep-day's distinct count came with the visits' facts (rolled up for closed days).
        for group in groups.values():
            group.unique_customers = int(group.sums["unique_customers"])
        return groups, queries.unique_customers_total(session, period)
    unique = queries.unique_customers(session, period, group_by.value)
    for group in groups.values():
        if group_by is GroupBy.day and group.rep_id is not None and group.day is not None:
            group.unique_customers = unique.by_rep_day.get((group.rep_id, group.day), 0)
        elif group_by is GroupBy.rep and group.rep_id is not None:
            group.unique_customers = unique.by_rep.get(group.rep_id, 0)
        elif group_by is GroupBy.team:
            group.unique_customers = unique.by_team.get(group.team_id, 0)
    return groups, unique.total


def _snapshot_groups(
    session: Session,
    spec: ReportSpec,
    period: queries.Period,
    reps: dict[uuid.UUID, RepInScope],
    group_by: GroupBy,
    frequencies: dict[Tier, int],
) -> dict[Hashable, Group]:
    groups: dict[Hashable, Group] = {}
    for rep in reps.values():
        _group_for(groups, rep, None, group_by)
    if spec.name == "coverage":
        facts = queries.coverage_facts(session, period, {str(t): days for t, days in frequencies.items()})
        for (rep_id, tier), (customers, seen) in facts.items():
            sums = _group_for(groups, reps[rep_id], None, group_by).sums
            sums[f"{tier}_customers"] += customers
            sums[f"{tier}_seen"] += seen
    else:
        for (rep_id, stage), (count, amount) in queries.pipeline_facts(session, period).items():
            sums = _group_for(groups, reps[rep_id], None, group_by).sums
            sums[f"{stage}_count"] += count
            sums[f"{stage}_amount"] += amount
    return groups


def _merge(groups: Iterable[Group]) -> Group:
    total = Group(team_id=None, team="Total")
    for group in groups:
        for name, value in group.sums.items():
            total.sums[name] += value
        total.active_rep_days |= group.active_rep_days
        if group.last_sync and (total.last_sync is None or group.last_sync > total.last_sync):
            total.last_sync = group.last_sync
    return total


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _figures(group: Group, spec: ReportSpec) -> dict[str, Figure]:
    if spec.snapshot:
        derived = _snapshot_figures(group)
        return {name: derived[name] for name in spec.figures}
    # Only the report's own figures are computed: a quarter by day is 18,000 rows.
    return {name: ACTIVITY_FIGURES[name](group) for name in spec.figures}


def _count(name: str) -> Callable[[Group], Figure]:
    return lambda group: int(group.sums[name])


def _hours(name: str) -> Callable[[Group], Figure]:
    return lambda group: round(group.sums[name] / 3600, 2)


def _ratio(part: str, whole: str) -> Callable[[Group], Figure]:
    return lambda group: _share(group.sums[part], group.sums[whole])


def _active_reps(group: Group) -> Figure:
    return len({rep for rep, _day in group.active_rep_days})


def _visits_per_rep_day(group: Group) -> Figure:
    days = len(group.active_rep_days)
    return round(group.sums["visits_completed"] / days, 2) if days else None


def _pending(group: Group) -> Figure:
    s = group.sums
    return int(s["checked_in"] - s["verified"] - s["unverified"] - s["out_of_range"])


ACTIVITY_FIGURES: dict[str, Callable[[Group], Figure]] = {
    **{
        name: _count(name)
        for name in (
            "planned", "planned_done", "visits_completed", "unplanned_completed", "productive", "checked_in",
            "verified", "unverified", "out_of_range", "missed", "late", "skipped", "tasks_done", "tasks_overdue",
            "leads_created", "mutations", "conflicts", "rejections",
        )
    },
    "adherence_pct": _ratio("planned_done", "planned"),
    "active_rep_days": lambda group: len(group.active_rep_days),
    "active_reps": _active_reps,
    "visits_per_rep_day": _visits_per_rep_day,
    "unique_customers": lambda group: group.unique_customers,
    "productive_pct": _ratio("productive", "visits_completed"),
    "time_on_site_h": _hours("on_site_s"),
    "time_in_field_h": _hours("in_field_s"),
    "on_site_share_pct": _ratio("on_site_s", "in_field_s"),
    "drive_km": lambda group: round(group.sums["drive_m"] / 1000, 1),
    "drive_h": _hours("drive_s"),
    "pending": _pending,
    "verified_pct": _ratio("verified", "checked_in"),
    "missed_pct": _ratio("missed", "planned"),
    "late_pct": _ratio("late", "planned"),
    "last_sync_at": lambda group: group.last_sync.isoformat() if group.last_sync else None,
}  # fmt: skip


def _snapshot_figures(group: Group) -> dict[str, Figure]:
    s = group.sums
    derived: dict[str, Figure] = {}
    customers = seen = 0.0
    for tier in Tier:
        tier_customers, tier_seen = s[f"{tier}_customers"], s[f"{tier}_seen"]
        customers, seen = customers + tier_customers, seen + tier_seen
        derived |= {
            f"{tier}_customers": int(tier_customers),
            f"{tier}_seen": int(tier_seen),
            f"{tier}_coverage_pct": _share(tier_seen, tier_customers),
            f"{tier}_overdue": int(tier_customers - tier_seen),
        }
    derived |= {
        "customers": int(customers),
        "seen": int(seen),
        "coverage_pct": _share(seen, customers),
        "overdue": int(customers - seen),
    }
    for stage in OpportunityStage:
        derived |= {f"{stage}_count": int(s[f"{stage}_count"]), f"{stage}_amount": round(s[f"{stage}_amount"], 2)}
    derived["open_count"] = int(sum(s[f"{stage}_count"] for stage in OPEN_STAGES))
    derived["open_amount"] = round(sum(s[f"{stage}_amount"] for stage in OPEN_STAGES), 2)
    return derived


def _row(group: Group, spec: ReportSpec) -> ReportRow:
    # Built from values this module computed and typed: no validation pass (a quarter by day
    # is 18,000 rows).
    return ReportRow.model_construct(
        team_id=group.team_id,
        team=group.team,
        rep_id=group.rep_id,
        rep=group.rep,
        day=group.day,
        figures=_figures(group, spec),
    )


def report_csv(report: Report) -> str:
    """One line per row and a last line of totals; figures in the order of the report."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = [figure.name for figure in report.figures]
    writer.writerow(["team", "rep", "day", *names])
    for row in report.rows:
        writer.writerow([row.team, row.rep or "", row.day.isoformat() if row.day else "", *_cells(row.figures, names)])
    writer.writerow(["Total", "", "", *_cells(report.total, names)])
    return out.getvalue()


def _cells(figures: dict[str, Figure], names: list[str]) -> list[str]:
    return ["" if figures.get(name) is None else str(figures[name]) for name in names]
