"""What a report answers: its figures (name, label, unit) and rows by team, rep or day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.enums import OpportunityStage, Tier

Figure = float | int | str | None


class GroupBy(StrEnum):
    team = "team"
    rep = "rep"
    day = "day"  # one row per rep and day


@dataclass(frozen=True)
class FigureSpec:
    name: str
    label: str
    unit: str  # "count", "%", "h", "km", "per day", "EUR", "time"


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    description: str
    figures: tuple[str, ...]
    snapshot: bool = False  # as things stand at the period's end: by team or rep only


FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec("planned", "Planned visits", "count"),
        FigureSpec("planned_done", "Planned visits done", "count"),
        FigureSpec("adherence_pct", "Plan adherence", "%"),
        FigureSpec("visits_completed", "Visits done", "count"),
        FigureSpec("unplanned_completed", "Unplanned visits done", "count"),
        FigureSpec("active_rep_days", "Active rep-days", "count"),
        FigureSpec("visits_per_rep_day", "Visits per rep-day", "per day"),
        FigureSpec("unique_customers", "Customers visited", "count"),
        FigureSpec("productive", "Productive visits", "count"),
        FigureSpec("productive_pct", "Productive share", "%"),
        FigureSpec("time_on_site_h", "Time on site", "h"),
        FigureSpec("time_in_field_h", "Time in the field", "h"),
        FigureSpec("on_site_share_pct", "Share of field time on site", "%"),
        FigureSpec("drive_km", "Distance driven", "km"),
        FigureSpec("drive_h", "Time driving", "h"),
        FigureSpec("checked_in", "Check-ins", "count"),
        FigureSpec("verified", "Verified check-ins", "count"),
        FigureSpec("unverified", "Unverified check-ins (no usable fix)", "count"),
        FigureSpec("out_of_range", "Check-ins away from the customer", "count"),
        FigureSpec("pending", "Check-ins not yet verified", "count"),
        FigureSpec("verified_pct", "Verified share", "%"),
        FigureSpec("missed", "Missed visits", "count"),
        FigureSpec("missed_pct", "Missed share of planned", "%"),
        FigureSpec("late", "Late check-ins (> 15 min)", "count"),
        FigureSpec("late_pct", "Late share of planned", "%"),
        FigureSpec("skipped", "Skipped visits", "count"),
        FigureSpec("tasks_done", "Tasks done", "count"),
        FigureSpec("tasks_overdue", "Tasks overdue", "count"),
        FigureSpec("leads_created", "Leads created", "count"),
        FigureSpec("active_reps", "Active reps", "count"),
        FigureSpec("mutations", "Changes synced", "count"),
        FigureSpec("conflicts", "Sync conflicts", "count"),
        FigureSpec("rejections", "Sync rejections", "count"),
        FigureSpec("last_sync_at", "Last sync", "time"),
        FigureSpec("customers", "Customers", "count"),
        FigureSpec("seen", "Seen within their frequency", "count"),
        FigureSpec("coverage_pct", "Coverage", "%"),
        FigureSpec("overdue", "Overdue customers", "count"),
        *(
            FigureSpec(f"{tier}_{name}", f"Tier {tier}: {label}", unit)
            for tier in Tier
            for name, label, unit in (
                ("customers", "customers", "count"),
                ("seen", "seen in time", "count"),
                ("coverage_pct", "coverage", "%"),
                ("overdue", "overdue", "count"),
            )
        ),
        *(FigureSpec(f"{stage}_count", f"{stage.capitalize()}: opportunities", "count") for stage in OpportunityStage),
        *(FigureSpec(f"{stage}_amount", f"{stage.capitalize()}: amount", "amount") for stage in OpportunityStage),
        FigureSpec("open_amount", "Open pipeline", "amount"),
        FigureSpec("open_count", "Open opportunities", "count"),
    )
}

ACTIVITY_FIGURES = (
    "planned", "planned_done", "adherence_pct", "visits_completed", "unplanned_completed", "active_reps",
    "active_rep_days", "visits_per_rep_day", "unique_customers", "productive", "productive_pct", "time_on_site_h",
    "time_in_field_h", "on_site_share_pct", "drive_km", "drive_h", "checked_in", "verified", "verified_pct",
    "missed", "late", "skipped", "tasks_done", "tasks_overdue", "leads_created",
)  # fmt: skip

REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "kpis", "KPIs", "Every activity figure: the dashboard's overview, with drill-down.", ACTIVITY_FIGURES
        ),
        ReportSpec(
            "plan-adherence",
            "Plan adherence",
            "Planned visits done, late and missed.",
            ("planned", "planned_done", "adherence_pct", "late", "missed", "skipped"),
        ),
        ReportSpec(
            "visits",
            "Visits",
            "Visits done per rep-day, customers visited, productive visits (an order that day).",
            (
                "visits_completed",
                "unplanned_completed",
                "active_rep_days",
                "visits_per_rep_day",
                "unique_customers",
                "productive",
                "productive_pct",
            ),
        ),
        ReportSpec(
            "time",
            "Time on site and in the field",
            "Check-in to check-out, and the working day's start to end.",
            ("time_on_site_h", "time_in_field_h", "on_site_share_pct"),
        ),
        ReportSpec("drive", "Driving", "Distance and time driven, from the GPS tracks.", ("drive_km", "drive_h")),
        ReportSpec(
            "verification",
            "Check-in verification",
            "Check-ins verified by GPS, without a usable fix, or away from the customer.",
            ("checked_in", "verified", "unverified", "out_of_range", "pending", "verified_pct"),
        ),
        ReportSpec(
            "missed-late",
            "Missed and late visits",
            "Planned visits missed, checked in late, or skipped with a reason.",
            ("planned", "missed", "missed_pct", "late", "late_pct", "skipped"),
        ),
        ReportSpec(
            "tasks", "Tasks", "Tasks done, and tasks due in the period still open.", ("tasks_done", "tasks_overdue")
        ),
        ReportSpec("leads", "Leads", "Leads created, by the rep who owns them.", ("leads_created",)),
        ReportSpec(
            "active-reps",
            "Active reps",
            "Reps with a visit, a working day or a GPS fix.",
            ("active_reps", "active_rep_days"),
        ),
        ReportSpec(
            "sync-health",
            "Sync health",
            "Changes the phones sent, their conflicts and rejections, and each rep's last sync.",
            ("mutations", "conflicts", "rejections", "last_sync_at"),
        ),
        ReportSpec(
            "coverage",
            "Coverage by tier",
            "Share of customers seen within their visit frequency at the period's end; the rest are overdue.",
            (
                "customers",
                "seen",
                "coverage_pct",
                "overdue",
                *(f"{tier}_{name}" for tier in Tier for name in ("customers", "seen", "coverage_pct", "overdue")),
            ),
            snapshot=True,
        ),
        ReportSpec(
            "pipeline",
            "Pipeline by stage",
            "Opportunities of the customers each rep owns, as they stand.",
            (
                "open_count",
                "open_amount",
                *(f"{stage}_{kind}" for stage in OpportunityStage for kind in ("count", "amount")),
            ),
            snapshot=True,
        ),
    )
}


class FigureInfo(BaseModel):
    name: str
    label: str
    unit: str


class ReportRow(BaseModel):
    team_id: uuid.UUID | None = Field(description="The team's manager; null for reps without one")
    team: str
    rep_id: uuid.UUID | None = Field(default=None, description="Null in rows by team")
    rep: str | None = None
    day: date | None = Field(default=None, description="Only in rows by day")
    figures: dict[str, Figure]


class Report(BaseModel):
    report: str
    title: str
    description: str
    start: date
    end: date
    group_by: GroupBy
    timezone: str
    figures: list[FigureInfo]
    rows: list[ReportRow]
    total: dict[str, Figure]
    generated_at: datetime


class ReportInfo(BaseModel):
    name: str
    title: str
    description: str
    snapshot: bool
    figures: list[FigureInfo]


class ReportCatalogue(BaseModel):
    reports: list[ReportInfo]
