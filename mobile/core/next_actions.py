"""The rep's next best actions (overdue tasks, overdue A customers, customers at risk,
opportunities closing this month), as the server ranks them.

Fetched while online with each sync (`refresh`) and kept in the store's state, so the
list is there offline too; `load` reads what was kept. Pure Python, no Kivy.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mobile.core.store import LocalStore
from mobile.core.sync_client import SyncClient

__all__ = ["NextAction", "load", "refresh"]


@dataclass(frozen=True)
class NextAction:
    kind: str  # overdue_task | overdue_a_customer | churn_risk | closing_this_month
    title: str
    detail: str
    entity: str
    entity_id: str
    customer_id: str | None
    customer_name: str | None


def refresh(client: SyncClient, store: LocalStore, now: float | None = None) -> int:
    """Fetch the list for the signed-in user; returns how many actions it holds. Network
    errors propagate (the sync runner reports them); what was kept stays."""
    user_id = store.user_id
    if not user_id:
        return 0
    response = client.call("GET", f"/api/v1/users/{user_id}/next-actions")
    response.raise_for_status()
    items = list(response.json().get("items", []))
    store.set_state("next_actions", json.dumps(items))
    store.set_state("next_actions_at", str(time.time() if now is None else now))
    return len(items)


def load(store: LocalStore) -> list[NextAction]:
    try:
        items: list[dict[str, Any]] = json.loads(store.get_state("next_actions") or "[]")
        return [
            NextAction(
                kind=str(item["kind"]),
                title=str(item["title"]),
                detail=str(item.get("detail") or ""),
                entity=str(item["entity"]),
                entity_id=str(item["entity_id"]),
                customer_id=str(item["customer_id"]) if item.get("customer_id") else None,
                customer_name=str(item["customer_name"]) if item.get("customer_name") else None,
            )
            for item in items
        ]
    except (ValueError, TypeError, KeyError):
        return []  # a damaged value only costs the list until the next sync
