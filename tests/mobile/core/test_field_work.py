"""The screens' API on a real SQLite store: search, my tasks, days off, skipping and moving a visit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mobile.core.field_work import FieldWork
from mobile.core.store import LocalStore
from shared.sync.protocol import Entity

CLIENT = "00000000-0000-0000-0000-0000000000c1"
ME = "00000000-0000-0000-0000-0000000000a1"
SOMEONE_ELSE = "00000000-0000-0000-0000-0000000000a2"
SCOPE = f"user:{ME}"


def pulled(store: LocalStore, *records: tuple[str, dict[str, Any]]) -> None:
    page = {
        "scope": SCOPE,
        "cursor": "c1",
        "last_mid": None,
        "records": [
            {"entity": entity, "id": data["id"], "kind": "upsert", "row_version": 1, "data": data}
            for entity, data in records
        ],
    }
    store.apply_page(page, CLIENT)


@pytest.fixture
def work(tmp_path: Path) -> FieldWork:
    store = LocalStore(tmp_path / "store.sqlite")
    store.set_state("client_id", CLIENT)
    store.set_state("user_id", ME)
    store.set_scopes([SCOPE])
    return FieldWork(store, lambda: 1 << 40)


def customer(n: int, name: str) -> tuple[str, dict[str, Any]]:
    return "customer", {"id": f"00000000-0000-0000-0000-00000000c{n:03d}", "name": name}


def test_search_finds_names_containing_the_text_whatever_the_case(work: FieldWork) -> None:
    pulled(
        work.store,
        customer(1, "Boulangerie Martin"),
        customer(2, "Garage du Centre"),
        customer(3, "MARTINEZ Fleurs"),
        customer(4, "100% Bio"),
        customer(5, "Cafe_des_Arts"),
    )
    assert [c["name"] for c in work.search_customers("martin")] == ["Boulangerie Martin", "MARTINEZ Fleurs"]
    assert [c["name"] for c in work.search_customers("martin", limit=1)] == ["Boulangerie Martin"]
    # LIKE's wildcards in the text are plain characters
    assert [c["name"] for c in work.search_customers("0%")] == ["100% Bio"]
    assert [c["name"] for c in work.search_customers("e_d")] == ["Cafe_des_Arts"]
    assert work.search_customers("   ") == []
    assert work.search_customers("zzz") == []


def test_my_open_tasks_come_soonest_first_and_only_mine(work: FieldWork) -> None:
    def task(n: int, status: str, due: str | None, assignee: str = ME) -> tuple[str, dict[str, Any]]:
        return "task", {
            "id": f"00000000-0000-0000-0000-00000000d{n:03d}",
            "title": f"task {n}",
            "status": status,
            "due_at": due,
            "assignee_id": assignee,
        }

    pulled(
        work.store,
        task(1, "open", "2026-12-05T09:00:00+00:00"),
        task(2, "in_progress", "2026-12-03T09:00:00+00:00"),
        task(3, "done", "2026-12-01T09:00:00+00:00"),
        task(4, "open", None),
        task(5, "open", "2026-12-02T09:00:00+00:00", assignee=SOMEONE_ELSE),
    )
    assert [t["title"] for t in work.my_open_tasks()] == ["task 2", "task 1", "task 4"]


def test_days_off_are_mine_and_the_holidays(work: FieldWork) -> None:
    def absence(n: int, user: str | None, first: str, last: str) -> tuple[str, dict[str, Any]]:
        return "absence", {
            "id": f"00000000-0000-0000-0000-00000000e{n:03d}",
            "user_id": user,
            "starts_on": first,
            "ends_on": last,
        }

    pulled(
        work.store,
        absence(1, ME, "2026-12-24", "2026-12-24"),
        absence(2, None, "2026-12-25", "2026-12-25"),
        absence(3, SOMEONE_ELSE, "2026-12-23", "2026-12-23"),
        absence(4, ME, "2027-02-01", "2027-02-05"),
    )
    found = work.days_off(date(2026, 12, 21), date(2026, 12, 27))
    assert [(a["user_id"], a["starts_on"]) for a in found] == [(ME, "2026-12-24"), (None, "2026-12-25")]
    assert [a["starts_on"] for a in work.days_off(date(2027, 2, 3), date(2027, 2, 3))] == ["2027-02-01"]


def visit(status: str = "planned") -> tuple[str, dict[str, Any]]:
    return "visit", {
        "id": "00000000-0000-0000-0000-00000000f001",
        "customer_id": "00000000-0000-0000-0000-00000000c001",
        "rep_id": ME,
        "status": status,
        "planned_start": "2026-12-03T09:00:00+00:00",
        "planned_end": "2026-12-03T09:45:00+00:00",
    }


def test_a_skipped_visit_says_why_and_is_queued(work: FieldWork) -> None:
    pulled(work.store, visit())
    visit_id = visit()[1]["id"]
    with pytest.raises(ValueError, match="say why"):
        work.skip_visit(visit_id, "  ")
    work.skip_visit(visit_id, "closed for inventory")
    shown = work.store.get(Entity.visit, visit_id)
    assert shown is not None and (shown["status"], shown["outcome"]) == ("skipped", "closed for inventory")
    assert [(e.entity, e.data) for e in work.store.pending()] == [
        ("visit", {"status": "skipped", "outcome": "closed for inventory"})
    ]
    with pytest.raises(ValueError, match="skipped, not planned"):
        work.skip_visit(visit_id, "again")


def test_a_rescheduled_visit_keeps_its_length(work: FieldWork) -> None:
    pulled(work.store, visit())
    visit_id = visit()[1]["id"]
    later = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
    work.reschedule_visit(visit_id, later)
    shown = work.store.get(Entity.visit, visit_id)
    assert shown is not None
    assert datetime.fromisoformat(shown["planned_start"]) == later
    assert datetime.fromisoformat(shown["planned_end"]) == later + timedelta(minutes=45)
    with pytest.raises(ValueError, match="time zone"):
        work.reschedule_visit(visit_id, datetime(2026, 12, 4, 15, 0))
    with pytest.raises(KeyError):
        work.reschedule_visit("00000000-0000-0000-0000-000000000000", later)


def test_an_unplanned_visit_starts_checked_in(work: FieldWork) -> None:
    pulled(work.store, customer(1, "Boulangerie Martin"))
    customer_id = customer(1, "")[1]["id"]
    visit_id = work.start_unplanned_visit(customer_id, 45.76, 4.84, accuracy_m=7.04)
    shown = work.store.get(Entity.visit, visit_id)
    assert shown is not None and shown["status"] == "in_progress" and shown["rep_id"] == ME
    assert shown["check_in_location"] == {"lat": 45.76, "lon": 4.84} and shown["check_in_accuracy_m"] == 7.0
    with pytest.raises(KeyError):
        work.start_unplanned_visit("00000000-0000-0000-0000-000000000000", 45.0, 4.0)


def test_a_photo_is_labelled_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    from mobile.core.field_work import photo_content_type

    samples = {
        "camera.jpg": b"\xff\xd8\xff\xe0" + b"\0" * 20,
        "screenshot.jpg": b"\x89PNG\r\n\x1a\n" + b"\0" * 20,  # a PNG named .jpg
        "modern.webp": b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8,
        "iphone.HEIC": b"\0\0\0\x18ftypheic" + b"\0" * 8,
        "unknown.png": b"nothing recognisable",
    }
    for name, head in samples.items():
        (tmp_path / name).write_bytes(head)
    assert {name: photo_content_type(tmp_path / name) for name in samples} == {
        "camera.jpg": "image/jpeg",
        "screenshot.jpg": "image/png",
        "modern.webp": "image/webp",
        "iphone.HEIC": "image/heic",
        "unknown.png": "image/png",
    }


def test_notifications_are_the_users_own_newest_first_and_read_offline(work: FieldWork) -> None:
    def notification(n: int, recipient: str, created: str, read_at: str | None = None) -> tuple[str, dict[str, Any]]:
        return "notification", {
            "id": f"00000000-0000-0000-0000-00000000e{n:03d}",
            "recipient_id": recipient,
            "title": f"note {n}",
            "created_at": created,
            "read_at": read_at,
        }

    pulled(
        work.store,
        notification(1, ME, "2026-12-01T09:00:00+00:00"),
        notification(2, ME, "2026-12-02T09:00:00+00:00"),
        notification(3, ME, "2026-11-30T09:00:00+00:00", read_at="2026-11-30T10:00:00+00:00"),
        notification(4, SOMEONE_ELSE, "2026-12-02T10:00:00+00:00"),
    )
    assert [n["title"] for n in work.notifications()] == ["note 2", "note 1", "note 3"]
    assert [n["title"] for n in work.notifications(unread_only=True)] == ["note 2", "note 1"]
    work.mark_notification_read("00000000-0000-0000-0000-00000000e002", at=datetime(2026, 12, 2, 11, 0, tzinfo=UTC))
    assert [n["title"] for n in work.notifications(unread_only=True)] == ["note 1"]
    [pending] = work.store.pending()
    assert pending.entity == "notification" and pending.data == {"read_at": "2026-12-02T11:00:00+00:00"}
    with pytest.raises(KeyError):
        work.mark_notification_read("00000000-0000-0000-0000-00000000e999")


def test_a_damaged_next_actions_list_costs_only_the_list(work: FieldWork) -> None:
    from mobile.core import next_actions

    work.store.set_state("next_actions", "{not json")
    assert next_actions.load(work.store) == []
    work.store.set_state(
        "next_actions",
        '[{"kind": "churn_risk", "title": "t", "detail": "d", "entity": "customer", "entity_id": "x", '
        '"customer_id": "x", "customer_name": "X"}]',
    )
    [action] = next_actions.load(work.store)
    assert (action.kind, action.customer_name) == ("churn_risk", "X")
