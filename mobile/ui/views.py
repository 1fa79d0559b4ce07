"""What the screens show, as small typed rows built from the core's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.geo import haversine_m

STATUS_WORDS = {
    "planned": "to do",
    "in_progress": "on site",
    "completed": "done",
    "missed": "missed",
    "cancelled": "cancelled",
    "skipped": "skipped",
}


@dataclass(frozen=True)
class TodayVisit:
    id: str
    number: int
    customer_id: str
    customer_name: str
    tier: str
    window: str  # "09:00-09:45" in the phone's time zone
    status: str  # words, not colour alone
    done: bool
    distance_km: float | None  # from the last fix, when there is one

    @property
    def distance_text(self) -> str:
        return "" if self.distance_km is None else f"{self.distance_km:.1f} km"


def today_visits(
    visits: list[dict[str, Any]],
    customers: dict[str, dict[str, Any]],
    zone: ZoneInfo,
    here: tuple[float, float] | None = None,
) -> list[TodayVisit]:
    rows = []
    for number, visit in enumerate(visits, start=1):
        customer = customers.get(visit["customer_id"], {})
        spot = customer.get("location") or None
        distance = None
        if here is not None and spot:
            distance = haversine_m(here[0], here[1], spot["lat"], spot["lon"]) / 1000
        rows.append(
            TodayVisit(
                id=visit["id"],
                number=number,
                customer_id=visit["customer_id"],
                customer_name=str(customer.get("name") or "(customer not on this phone)"),
                tier=str(customer.get("tier") or "C"),
                window=_window(visit.get("planned_start"), visit.get("planned_end"), zone),
                status=STATUS_WORDS.get(str(visit.get("status")), str(visit.get("status"))),
                done=visit.get("status") == "completed",
                distance_km=distance,
            )
        )
    return rows


def _window(start: str | None, end: str | None, zone: ZoneInfo) -> str:
    if not start:
        return "any time"
    begins = datetime.fromisoformat(start).astimezone(zone).strftime("%H:%M")
    if not end:
        return begins
    return f"{begins}-{datetime.fromisoformat(end).astimezone(zone).strftime('%H:%M')}"


OUTCOMES = ("Order taken", "Interested", "Follow-up needed", "No answer", "Not interested")


@dataclass(frozen=True)
class VisitDetail:
    id: str
    customer_id: str
    customer_name: str
    address: str
    window: str
    status: str  # the record's status: planned, in_progress, completed, ...
    status_words: str
    location: tuple[float, float] | None
    open_tasks: list[tuple[str, str]]  # (task id, title)
    notes: list[str]


def visit_detail(visit: dict[str, Any], detail: dict[str, Any] | None, zone: ZoneInfo) -> VisitDetail:
    customer = (detail or {}).get("customer") or {}
    spot = customer.get("location")
    address = ", ".join(str(part) for part in (customer.get("street"), customer.get("city")) if part)
    return VisitDetail(
        id=visit["id"],
        customer_id=visit["customer_id"],
        customer_name=str(customer.get("name") or "(customer not on this phone)"),
        address=address or "no address",
        window=_window(visit.get("planned_start"), visit.get("planned_end"), zone),
        status=str(visit.get("status")),
        status_words=STATUS_WORDS.get(str(visit.get("status")), str(visit.get("status"))),
        location=(spot["lat"], spot["lon"]) if spot else None,
        open_tasks=[(task["id"], str(task.get("title"))) for task in (detail or {}).get("open_tasks", [])],
        notes=[str(note.get("body")) for note in (detail or {}).get("notes", [])[:5]],
    )


def distance_words(
    here: tuple[float, float] | None, accuracy_m: float | None, there: tuple[float, float] | None
) -> str:
    if here is None:
        return "Waiting for a GPS fix..."
    if there is None:
        return "The customer has no location: check-in is recorded without a distance."
    metres = haversine_m(here[0], here[1], there[0], there[1])
    accuracy = f" (GPS accurate to {accuracy_m:.0f} m)" if accuracy_m is not None else ""
    return f"You are {metres:,.0f} m from the customer{accuracy}."


@dataclass(frozen=True)
class TaskRow:
    id: str
    title: str
    customer_name: str
    due: str  # "due 03/12 09:00" or "no due date"
    overdue: bool


def task_rows(
    tasks: list[dict[str, Any]], customers: dict[str, dict[str, Any]], zone: ZoneInfo, now: datetime
) -> list[TaskRow]:
    rows = []
    for task in tasks:
        due_at = task.get("due_at")
        due = datetime.fromisoformat(due_at) if due_at else None
        rows.append(
            TaskRow(
                id=task["id"],
                title=str(task.get("title") or "(no title)"),
                customer_name=str(customers.get(task.get("customer_id") or "", {}).get("name") or ""),
                due=due.astimezone(zone).strftime("due %d/%m %H:%M") if due else "no due date",
                overdue=due is not None and due < now,
            )
        )
    return rows


@dataclass(frozen=True)
class CustomerRow:
    id: str
    name: str
    tier: str
    status: str
    place: str  # the city, or the distance when a fix is known


def customer_rows(customers: list[dict[str, Any]], distances: dict[str, float] | None = None) -> list[CustomerRow]:
    rows = []
    for customer in customers:
        metres = (distances or {}).get(customer["id"])
        place = f"{metres / 1000:.1f} km" if metres is not None else str(customer.get("city") or "")
        rows.append(
            CustomerRow(
                id=customer["id"],
                name=str(customer.get("name")),
                tier=str(customer.get("tier") or "C"),
                status=str(customer.get("status") or ""),
                place=place,
            )
        )
    return rows


ENTITY_WORDS = {
    "customer": "customer",
    "contact": "contact",
    "visit": "visit",
    "task": "task",
    "note": "note",
    "photo": "photo",
    "opportunity": "opportunity",
    "absence": "day off",
}


def waiting_words(entities: list[str]) -> str:
    """'3 visit changes, 1 note' for what the outbox holds."""
    if not entities:
        return "Nothing waiting: everything you did is on the server."
    counts: dict[str, int] = {}
    for entity in entities:
        counts[entity] = counts.get(entity, 0) + 1
    parts = [
        f"{count} {ENTITY_WORDS.get(entity, entity)} change{'s' if count != 1 else ''}"
        for entity, count in sorted(counts.items())
    ]
    return "Waiting to be sent: " + ", ".join(parts)


FIELD_WORDS = {
    "status": "status",
    "check_in_at": "check-in",
    "check_out_at": "check-out",
    "outcome": "outcome",
    "planned_start": "time",
    "skip_reason": "reason for skipping",
}


@dataclass(frozen=True)
class WaitingChange:
    title: str  # "New note", "Visit changed"
    about: str  # the customer it concerns, or ""
    fields: str  # "check-in, status" for a change


def waiting_changes(entries: list[Any], customer_name: Any) -> list[WaitingChange]:
    """One row per change in the outbox, oldest first: what it is, whom it concerns, which
    fields it carries. `customer_name(entity, entity_id, data)` names the customer or ""."""
    rows = []
    for entry in entries:
        noun = ENTITY_WORDS.get(entry.entity, entry.entity)
        if entry.type == "insert":
            title = f"New {noun}"
        elif entry.type == "delete":
            title = f"{noun.capitalize()} deleted"
        else:
            title = f"{noun.capitalize()} changed"
        fields = (
            ""
            if entry.type != "update"
            else ", ".join(FIELD_WORDS.get(key, key.replace("_", " ")) for key in sorted(entry.data))
        )
        rows.append(WaitingChange(title, str(customer_name(entry.entity, entry.entity_id, entry.data) or ""), fields))
    return rows


def photos_waiting_words(attachments: list[dict[str, Any]]) -> str:
    if not attachments:
        return ""
    total = sum(int(item.get("size") or 0) for item in attachments)
    count = len(attachments)
    return f"{count} photo{'s' if count != 1 else ''} waiting to upload ({total / 1e6:.1f} MB)"


@dataclass(frozen=True)
class ReviewItem:
    title: str  # what it was about
    explanation: str  # what happened, in words: what was kept and what was lost


def review_items(results: list[dict[str, Any]], current: Any) -> list[ReviewItem]:
    """The server's answers that need the rep to look: `current(entity, id)` gives the record as
    it stands now (what was kept)."""
    items = []
    for result in reversed(results):  # newest first
        entity, outcome = str(result.get("entity") or ""), str(result.get("outcome"))
        record = current(entity, result.get("entity_id")) or {}
        what = (
            f"{ENTITY_WORDS.get(entity, entity).capitalize()} {record.get('name') or record.get('title') or ''}".strip()
        )
        sent = result.get("sent") or {}
        if outcome == "applied_with_conflicts":
            lost = [
                f"{field}: you wrote {sent.get(field)!r}, kept {record.get(field)!r} (a later change won)"
                for field in result.get("fields") or []
            ]
            items.append(ReviewItem(what, "; ".join(lost) or "some of your change was overtaken by a later one"))
        elif outcome == "applied_partial":
            dropped = ", ".join(result.get("fields") or [])
            items.append(ReviewItem(what, f"not yours to change, so not applied: {dropped}"))
        elif outcome == "applied_to_tombstone":
            items.append(ReviewItem(what, "it had been deleted; your change was kept aside for your manager"))
        else:  # rejected, quarantined
            items.append(ReviewItem(what, f"not accepted: {result.get('detail') or result.get('code') or outcome}"))
    return items


@dataclass(frozen=True)
class ForYouRow:
    """A line of the For you screen: a next best action, or a notification."""

    id: str
    kind: str  # "action" or "notification"
    title: str
    detail: str
    tag: str  # in words: "Overdue task", "At risk", "Closing", "A customer", "New", "Read"
    customer_id: str
    unread: bool


ACTION_WORDS = {
    "overdue_task": "Overdue task",
    "overdue_a_customer": "A customer due",
    "churn_risk": "At risk",
    "closing_this_month": "Closing",
}


def for_you_rows(actions: list[Any], notifications: list[dict[str, Any]]) -> list[ForYouRow]:
    """Unread notifications first (newest first), then the next best actions in the server's
    order, then what was read."""
    unread = [n for n in notifications if not n.get("read_at")]
    read = [n for n in notifications if n.get("read_at")]

    def of_notification(note: dict[str, Any]) -> ForYouRow:
        return ForYouRow(
            id=str(note["id"]),
            kind="notification",
            title=str(note.get("title") or ""),
            detail=str(note.get("body") or ""),
            tag="Read" if note.get("read_at") else "New",
            customer_id=str(note.get("entity_id") or "") if note.get("entity") == "customer" else "",
            unread=not note.get("read_at"),
        )

    rows = [of_notification(note) for note in unread]
    rows += [
        ForYouRow(
            id=action.entity_id,
            kind="action",
            title=action.title,
            detail=(action.customer_name + " - " if action.customer_name else "") + action.detail,
            tag=ACTION_WORDS.get(action.kind, action.kind),
            customer_id=action.customer_id or "",
            unread=False,
        )
        for action in actions
    ]
    return rows + [of_notification(note) for note in read]
