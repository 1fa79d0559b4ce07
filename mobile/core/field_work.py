"""What the app's screens call: reads from the local store, writes as outbox mutations.

Every write goes through `LocalStore.record_mutation`: the local view and the
outbox entry commit together, so an edit is never shown without being queued
(or queued without being shown). Nothing here talks to the network.
"""

from __future__ import annotations

import hashlib
import math
import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mobile.core.store import LocalStore
from shared.geo import haversine_m
from shared.sync.merge import ADDRESS_FIELDS, REP_EDITABLE_FIELDS
from shared.sync.protocol import Entity, MutationType

__all__ = ["FieldWork", "NearbyCustomer", "new_id"]

_REVIEW_OUTCOMES = ("rejected", "quarantined", "applied_with_conflicts", "applied_partial", "applied_to_tombstone")


def new_id() -> str:
    """A time-ordered UUID (v7 layout): entities are created offline and sort by creation."""
    millis = datetime.now(UTC).timestamp() * 1000
    value = (int(millis) & ((1 << 48) - 1)) << 80 | uuid.uuid4().int & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def _iso(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat()


@dataclass(frozen=True)
class NearbyCustomer:
    distance_m: float
    customer: dict[str, Any]


def photo_content_type(path: Path) -> str:
    """The picture's type from its first bytes (a file's name can lie), else its extension."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    return mimetypes.guess_type(path.name)[0] or "image/jpeg"


class FieldWork:
    """The screens' API: what a rep reads and does in the field, on the local store only.

    Not the Kivy `App` (that is `mobile/ui`): this class never imports kivy, so plain
    pytest covers every screen action.
    """

    def __init__(self, store: LocalStore, next_hlc: Callable[[], int]) -> None:
        self.store = store
        self.next_hlc = next_hlc

    @property
    def user_id(self) -> str:
        user = self.store.user_id
        if user is None:
            raise RuntimeError("log in first: the store does not know who the rep is")
        return user

    def _write(self, kind: MutationType, entity: Entity, entity_id: str, data: dict[str, Any]) -> int:
        return self.store.record_mutation(kind, entity, entity_id, data, self.next_hlc())

    # ---- reading ---------------------------------------------------------------------------

    def today_visits(self, day: date | None = None) -> list[dict[str, Any]]:
        """The rep's visits planned for `day`, in the order of the day's plan when there is one."""
        day = day or date.today()
        visits = self.store.query(
            Entity.visit, "rep_id = ? AND substr(sort_key, 1, 10) = ?", (self.user_id, day.isoformat()), "sort_key"
        )
        plans = self.store.query(Entity.plan, "rep_id = ? AND sort_key = ?", (self.user_id, day.isoformat()))
        if plans:
            order = {stop["visit_id"]: rank for rank, stop in enumerate(plans[0].get("stops", []))}
            visits.sort(key=lambda v: (order.get(v["id"], len(order)), v.get("planned_start") or ""))
        return visits

    def customers_near(
        self, lat: float, lon: float, *, radius_m: float = 5_000, limit: int = 20
    ) -> list[NearbyCustomer]:
        """Customers within `radius_m` of a point, nearest first (great-circle distance)."""
        dlat = math.degrees(radius_m / 6_371_008.8)
        dlon = dlat / max(0.01, math.cos(math.radians(lat)))
        candidates = self.store.query(
            Entity.customer,
            "lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
            (lat - dlat, lat + dlat, lon - dlon, lon + dlon),
        )
        near = []
        for customer in candidates:
            spot = customer.get("location") or {}
            distance = haversine_m(lat, lon, spot["lat"], spot["lon"])
            if distance <= radius_m:
                near.append(NearbyCustomer(distance, customer))
        near.sort(key=lambda n: (n.distance_m, n.customer["id"]))
        return near[:limit]

    def search_customers(self, text: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Customers whose name contains `text` (case-insensitive for ASCII), by name."""
        words = text.strip()
        if not words:
            return []
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self.store.query(Entity.customer, "name LIKE ? ESCAPE '\\'", (pattern,), "name, id", limit)

    def my_open_tasks(self) -> list[dict[str, Any]]:
        """The rep's open and started tasks, soonest due first (no due date last)."""
        tasks = self.store.query(Entity.task, "status IN ('open', 'in_progress')", (), "sort_key IS NULL, sort_key, id")
        return [task for task in tasks if task.get("assignee_id") == self.user_id]

    def days_off(self, first: date, last: date) -> list[dict[str, Any]]:
        """The rep's own absences and the organisation's holidays touching [first, last]."""
        return self.store.query(
            Entity.absence,
            "(user_id = ? OR user_id IS NULL) AND sort_key <= ? AND ends_on >= ?",
            (self.user_id, last.isoformat(), first.isoformat()),
            "sort_key",
        )

    def customer_detail(self, customer_id: str) -> dict[str, Any] | None:
        customer = self.store.get(Entity.customer, customer_id)
        if customer is None:
            return None
        by_customer = ("customer_id = ?", (customer_id,))
        return {
            "customer": customer,
            "contacts": self.store.query(Entity.contact, *by_customer, order="id"),
            "history": self.store.query(Entity.visit, *by_customer, order="sort_key DESC"),
            "notes": self.store.query(Entity.note, *by_customer, order="sort_key DESC"),
            "photos": self.store.query(Entity.photo, *by_customer, order="sort_key DESC"),
            "opportunities": self.store.query(Entity.opportunity, *by_customer, order="id"),
            "orders": self.store.query(Entity.order, *by_customer, order="sort_key DESC", limit=10),
            "open_tasks": [
                task
                for task in self.store.query(Entity.task, *by_customer, order="sort_key")
                if task.get("status") in ("open", "in_progress")
            ],
        }

    def review_items(self) -> list[dict[str, Any]]:
        """Conflicts and rejections the server reported for this device's edits."""
        return self.store.results(_REVIEW_OUTCOMES)

    def pending_changes(self) -> int:
        return self.store.pending_count()

    # ---- visits ----------------------------------------------------------------------------

    def check_in(
        self, visit_id: str, lat: float, lon: float, *, accuracy_m: float | None = None, at: datetime | None = None
    ) -> int:
        """On site: the fix and its accuracy go with it (the server verifies the distance)."""
        data: dict[str, Any] = {
            "status": "in_progress",
            "check_in_at": _iso(at),
            "check_in_location": {"lat": lat, "lon": lon},
        }
        if accuracy_m is not None:
            data["check_in_accuracy_m"] = round(accuracy_m, 1)
        return self._write(MutationType.update, Entity.visit, visit_id, data)

    def check_out(
        self,
        visit_id: str,
        lat: float,
        lon: float,
        *,
        outcome: str | None = None,
        notes: str | None = None,
        accuracy_m: float | None = None,
        at: datetime | None = None,
    ) -> int:
        data: dict[str, Any] = {
            "status": "completed",
            "check_out_at": _iso(at),
            "check_out_location": {"lat": lat, "lon": lon},
        }
        if accuracy_m is not None:
            data["check_out_accuracy_m"] = round(accuracy_m, 1)
        if outcome is not None:
            data["outcome"] = outcome
        if notes is not None:
            data["notes"] = notes
        return self._write(MutationType.update, Entity.visit, visit_id, data)

    def skip_visit(self, visit_id: str, reason: str) -> int:
        """Not going today: the visit is `skipped` with the reason as its outcome (the manager sees both)."""
        reason = reason.strip()
        if not reason:
            raise ValueError("say why the visit is skipped")
        self._planned_visit(visit_id)
        return self._write(MutationType.update, Entity.visit, visit_id, {"status": "skipped", "outcome": reason[:200]})

    def reschedule_visit(self, visit_id: str, start: datetime) -> int:
        """Move a planned visit to another time (the customer asked); it keeps its length."""
        visit = self._planned_visit(visit_id)
        if start.tzinfo is None:
            raise ValueError("give the new start with its time zone")
        data: dict[str, Any] = {"planned_start": _iso(start)}
        old_start, old_end = visit.get("planned_start"), visit.get("planned_end")
        if old_start and old_end:
            length = datetime.fromisoformat(old_end) - datetime.fromisoformat(old_start)
            data["planned_end"] = _iso(start + length)
        return self._write(MutationType.update, Entity.visit, visit_id, data)

    def _planned_visit(self, visit_id: str) -> dict[str, Any]:
        visit = self.store.get(Entity.visit, visit_id)
        if visit is None:
            raise KeyError(f"visit {visit_id} is not on this device")
        if visit.get("status") != "planned":
            raise ValueError(f"the visit is {visit.get('status')}, not planned")
        return visit

    def start_unplanned_visit(
        self, customer_id: str, lat: float, lon: float, *, accuracy_m: float | None = None, at: datetime | None = None
    ) -> str:
        """A visit nobody planned, checked in now: notes, photos and the check-out follow as for any visit."""
        if self.store.get(Entity.customer, customer_id) is None:
            raise KeyError(f"customer {customer_id} is not on this device")
        visit_id = new_id()
        data: dict[str, Any] = {
            "customer_id": customer_id,
            "rep_id": self.user_id,
            "status": "in_progress",
            "check_in_at": _iso(at),
            "check_in_location": {"lat": lat, "lon": lon},
        }
        if accuracy_m is not None:
            data["check_in_accuracy_m"] = round(accuracy_m, 1)
        self._write(MutationType.insert, Entity.visit, visit_id, data)
        return visit_id

    def log_visit(
        self,
        customer_id: str,
        *,
        check_in: tuple[float, float, datetime],
        check_out: tuple[float, float, datetime],
        outcome: str | None = None,
        notes: str | None = None,
        visit_id: str | None = None,
    ) -> str:
        """An unplanned visit, logged whole (append-only: re-sending it is harmless)."""
        visit_id = visit_id or new_id()
        data: dict[str, Any] = {
            "customer_id": customer_id,
            "status": "completed",
            "check_in_at": _iso(check_in[2]),
            "check_in_location": {"lat": check_in[0], "lon": check_in[1]},
            "check_out_at": _iso(check_out[2]),
            "check_out_location": {"lat": check_out[0], "lon": check_out[1]},
        }
        if outcome is not None:
            data["outcome"] = outcome
        if notes is not None:
            data["notes"] = notes
        self._write(MutationType.insert, Entity.visit, visit_id, data)
        return visit_id

    def add_note(self, customer_id: str, body: str, *, kind: str = "visit", at: datetime | None = None) -> str:
        note_id = new_id()
        data = {"customer_id": customer_id, "kind": kind, "body": body, "occurred_at": _iso(at)}
        self._write(MutationType.insert, Entity.note, note_id, data)
        return note_id

    def add_photo(
        self,
        customer_id: str,
        path: str | Path,
        *,
        content_type: str | None = None,
        visit_id: str | None = None,
        caption: str | None = None,
        taken_at: datetime | None = None,
    ) -> str:
        """Metadata syncs as data; the bytes wait in the attachment queue."""
        digest = hashlib.sha256()
        size = 0
        with Path(path).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        sha256 = digest.hexdigest()
        content_type = content_type or photo_content_type(Path(path))
        photo_id = new_id()
        data: dict[str, Any] = {
            "customer_id": customer_id,
            "sha256": sha256,
            "content_type": content_type,
            "size_bytes": size,
            "taken_at": _iso(taken_at),
        }
        if visit_id:
            data["visit_id"] = visit_id
        if caption:
            data["caption"] = caption
        with self.store.transaction():
            self.store.add_attachment(sha256, str(path), size, content_type)
            self._write(MutationType.insert, Entity.photo, photo_id, data)
        return photo_id

    # ---- customers and tasks ------------------------------------------------------------------

    def edit_customer(self, customer_id: str, **changes: Any) -> int:
        """Change customer fields. An address edit always carries the whole address
        (street, city, ..., location) so it never mixes with another half-correction."""
        customer = self.store.get(Entity.customer, customer_id)
        if customer is None:
            raise KeyError(f"customer {customer_id} is not on this device")
        unknown = set(changes) - REP_EDITABLE_FIELDS["customer"]
        if unknown:
            raise ValueError(f"a rep cannot change: {', '.join(sorted(unknown))}")
        data = dict(changes)
        if ADDRESS_FIELDS & set(changes):
            for name in ADDRESS_FIELDS:
                data.setdefault(name, customer.get(name))
            if data.get("geocode_accuracy") is None:
                data["geocode_accuracy"] = "unknown"
        return self._write(MutationType.update, Entity.customer, customer_id, data)

    def add_contact(self, customer_id: str, name: str, **fields: Any) -> str:
        contact_id = new_id()
        self._write(
            MutationType.insert, Entity.contact, contact_id, {"customer_id": customer_id, "name": name, **fields}
        )
        return contact_id

    def edit_contact(self, contact_id: str, **changes: Any) -> int:
        return self._write(MutationType.update, Entity.contact, contact_id, dict(changes))

    def delete_contact(self, contact_id: str) -> int:
        return self._write(MutationType.delete, Entity.contact, contact_id, {})

    def tag_customer(self, customer_id: str, *, add: list[str] | None = None, remove: list[str] | None = None) -> int:
        edit = {"add": list(add or []), "remove": list(remove or [])}
        return self._write(MutationType.update, Entity.customer, customer_id, {"tags": edit})

    def create_lead(self, name: str, **fields: Any) -> str:
        customer_id = new_id()
        self._write(MutationType.insert, Entity.customer, customer_id, {"name": name, "status": "lead", **fields})
        return customer_id

    def notifications(self, *, unread_only: bool = False) -> list[dict[str, Any]]:
        """The user's notifications, newest first (they sync in the user's own scope)."""
        where = "read_at IS NULL" if unread_only else "1=1"
        found = self.store.query(Entity.notification, where, (), "sort_key DESC, id DESC")
        return [n for n in found if n.get("recipient_id") == self.user_id]

    def mark_notification_read(self, notification_id: str, *, at: datetime | None = None) -> int:
        """Read offline too; the server keeps the first read time it hears of."""
        notification = self.store.get(Entity.notification, notification_id)
        if notification is None:
            raise KeyError(f"notification {notification_id} is not on this device")
        read_at = _iso(at or datetime.now(UTC))
        return self._write(MutationType.update, Entity.notification, notification_id, {"read_at": read_at})

    def complete_task(self, task_id: str) -> int:
        task = self.store.get(Entity.task, task_id)
        if task is None:
            raise KeyError(f"task {task_id} is not on this device")
        data = {"status": "done", "generation": task.get("generation", 0)}
        return self._write(MutationType.update, Entity.task, task_id, data)
