"""Enumerations shared by the server, the app and the optimizer (stdlib only)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "WEEKDAYS",
    "AbsenceKind",
    "CustomerStatus",
    "GeocodeAccuracy",
    "NoteKind",
    "OpportunityStage",
    "Role",
    "TaskKind",
    "TaskPriority",
    "TaskStatus",
    "Tier",
    "VerificationStatus",
    "VisitStatus",
]


# The keys of every weekly schedule (working hours, visit windows), Monday
# first as `datetime.weekday()` counts them.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    rep = "rep"


class CustomerStatus(StrEnum):
    lead = "lead"
    prospect = "prospect"
    customer = "customer"
    inactive = "inactive"


class Tier(StrEnum):
    """Customer value class (80/20 rule): A the top revenue, C the long tail."""

    A = "A"
    B = "B"
    C = "C"


class GeocodeAccuracy(StrEnum):
    rooftop = "rooftop"
    street = "street"
    postal_code = "postal_code"
    city = "city"
    manual = "manual"
    unknown = "unknown"


class VisitStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"
    missed = "missed"
    cancelled = "cancelled"
    # The rep decided not to go (closed, no time, asked to come another day); `outcome` says why.
    skipped = "skipped"


class VerificationStatus(StrEnum):
    pending = "pending"
    verified = "verified"
    unverified = "unverified"
    out_of_range = "out_of_range"


class TaskKind(StrEnum):
    follow_up = "follow_up"
    service_request = "service_request"
    call = "call"
    other = "other"


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class TaskPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class OpportunityStage(StrEnum):
    lead = "lead"
    qualified = "qualified"
    proposal = "proposal"
    negotiation = "negotiation"
    won = "won"
    lost = "lost"


class NoteKind(StrEnum):
    call = "call"
    email = "email"
    visit = "visit"
    note = "note"


class AbsenceKind(StrEnum):
    """Why a rep (or, for a holiday, everyone) does not work on some days."""

    day_off = "day_off"
    holiday = "holiday"
    sick = "sick"
    training = "training"
    other = "other"


class PlanningRunStatus(StrEnum):
    """A planning run's life (PLANNING.md): queued -> running -> succeeded -> published,
    or failed / cancelled. A part (one manager's team) uses the first five."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    published = "published"
