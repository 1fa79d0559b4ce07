"""The words the screens show, built from core records (no Kivy needed)."""

from __future__ import annotations

from mobile.core.store import OutboxEntry
from mobile.ui.views import photos_waiting_words, waiting_changes


def entry(kind: str, entity: str, data: dict[str, object]) -> OutboxEntry:
    return OutboxEntry(1, 1, kind, entity, f"{entity}-1", None, data, "")


def test_each_waiting_change_says_what_whom_and_which_fields() -> None:
    names = {"customer-1": "Cave Bonnet"}

    def customer_name(entity: str, entity_id: str, data: dict[str, object]) -> str:
        return names.get(entity_id) or names.get(str(data.get("customer_id")), "")

    rows = waiting_changes(
        [
            entry("update", "customer", {"phone": "+33", "street": "1 rue"}),
            entry("insert", "note", {"customer_id": "customer-1", "body": "Hi"}),
            entry("update", "visit", {"check_in_at": "...", "status": "in_progress"}),
            entry("delete", "contact", {}),
        ],
        customer_name,
    )
    assert [(row.title, row.about, row.fields) for row in rows] == [
        ("Customer changed", "Cave Bonnet", "phone, street"),
        ("New note", "Cave Bonnet", ""),
        ("Visit changed", "", "check-in, status"),
        ("Contact deleted", "", ""),
    ]


def test_photos_waiting_are_counted_with_their_size() -> None:
    assert photos_waiting_words([]) == ""
    assert photos_waiting_words([{"size": 30_000_000}]) == "1 photo waiting to upload (30.0 MB)"
    assert photos_waiting_words([{"size": 1_500_000}, {"size": 500_000}]) == "2 photos waiting to upload (2.0 MB)"
