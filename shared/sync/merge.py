"""The merge rules as pure functions: the server applies them, tests check them.

| data | rule |
|---|---|
| scalar fields | per-field last-writer-wins by (HLC, client_id); a causal edit always wins |
| address + location | one unit: its fields win or lose together |
| manager-only fields | dropped from a rep's write (`applied_partial`) |
| tags | add/remove set: each element's latest add against its latest remove |
| visits, notes, photos | append-only by client id (see the server's insert path) |
| task status | open < in_progress < done within a generation; a manager's move back opens a new generation |

A field's clock `{"v": row_version, "h": hlc, "c": client_id}` says which row
version set it and with which HLC. An edit based on `base_row_version >= v`
had seen the current value: it is causal and wins without a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "ADDRESS_FIELDS",
    "APPEND_ONLY",
    "REP_EDITABLE_FIELDS",
    "TASK_STATUS_RANK",
    "FieldClock",
    "FieldDecision",
    "TaskStatusMerge",
    "clock_group",
    "decide_field",
    "merge_tags",
    "merge_task_status",
    "tags_present",
]

# Written together or not at all: never half of one correction and half of another.
ADDRESS_FIELDS: frozenset[str] = frozenset(
    {"street", "city", "postal_code", "region", "country", "location", "geocode_accuracy"}
)
ADDRESS_GROUP = "address"
TAGS_CLOCK = "tags"

# What a rep may change per entity (everything else is manager-only: territory,
# owner, tier, status, revenue, visit frequency, ...). The server's policies
# use these same sets, so the app can grey out what would be dropped.
REP_EDITABLE_FIELDS: Mapping[str, frozenset[str]] = {
    "customer": frozenset({"name", "phone", "email", "website", "notes", "tags", "visit_windows"} | ADDRESS_FIELDS),
    "task": frozenset({"status", "description"}),
}

# Records that are only ever added: an insert of an existing id is a duplicate
# (same content) or an id collision (other content), and they take no updates.
APPEND_ONLY: frozenset[str] = frozenset({"note", "photo"})

TASK_STATUS_RANK: Mapping[str, int] = {"open": 0, "in_progress": 1, "done": 2}


def clock_group(entity: str, field: str) -> str:
    """The clock a field is versioned under (the address fields share one)."""
    if entity == "customer" and field in ADDRESS_FIELDS:
        return ADDRESS_GROUP
    return field


@dataclass(frozen=True, slots=True)
class FieldClock:
    version: int
    hlc: int
    client_id: str

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> FieldClock | None:
        if not value:
            return None
        return cls(int(value.get("v", 0)), int(value.get("h", 0)), str(value.get("c", "")))

    def to_json(self) -> dict[str, Any]:
        return {"v": self.version, "h": self.hlc, "c": self.client_id}

    def order_key(self) -> tuple[int, str]:
        return (self.hlc, self.client_id)


class FieldDecision(StrEnum):
    causal = "causal"  # the writer had seen the current value: apply, nothing lost
    wins = "wins"  # concurrent and later: apply; the overwritten value is logged
    loses = "loses"  # concurrent and earlier: keep the current value; the incoming one is logged


def decide_field(stored: FieldClock | None, hlc: int, client_id: str, base_row_version: int | None) -> FieldDecision:
    if stored is None or (base_row_version is not None and stored.version <= base_row_version):
        return FieldDecision.causal
    if stored.client_id == client_id and hlc >= stored.hlc:
        # The same device's later edit: its own edits are ordered (mids), never concurrent.
        return FieldDecision.causal
    if (hlc, client_id) > stored.order_key():
        return FieldDecision.wins
    return FieldDecision.loses


def merge_tags(
    current: Iterable[str],
    clocks: Mapping[str, list[int]],
    add: Iterable[str],
    remove: Iterable[str],
    hlc: int,
) -> tuple[list[str], dict[str, list[int]]]:
    """Add/remove set: a tag is present when its latest add is not older than its latest remove.

    `clocks` maps tag -> [latest add HLC, latest remove HLC]. Tags present
    without a clock (older data) count as added at HLC 0.
    """
    merged: dict[str, list[int]] = {tag: list(pair) for tag, pair in clocks.items()}
    for tag in current:
        merged.setdefault(tag, [0, -1])
    for tag in add:
        pair = merged.setdefault(tag, [0, -1])
        pair[0] = max(pair[0], hlc)
    for tag in remove:
        pair = merged.setdefault(tag, [0, -1])
        pair[1] = max(pair[1], hlc)
    return tags_present(merged), merged


def tags_present(clocks: Mapping[str, list[int]]) -> list[str]:
    """The tags whose latest add wins over their latest remove (add wins a tie), sorted."""
    return sorted(tag for tag, (added, removed) in clocks.items() if added >= removed)


@dataclass(frozen=True, slots=True)
class TaskStatusMerge:
    status: str
    generation: int
    # False: the incoming status lost (stale generation or a move back by a rep)
    accepted: bool
    reason: str | None = None


def merge_task_status(
    current_status: str,
    current_generation: int,
    incoming_status: str,
    incoming_generation: int | None,
    *,
    by_manager: bool,
) -> TaskStatusMerge:
    """open < in_progress < done within a generation; cancelled is terminal.

    Only a manager moves a task back (reopens it: a new generation) or cancels
    it. A rep's edit for an older generation is stale: the task was reopened
    after the rep last saw it.
    """
    generation = current_generation if incoming_generation is None else incoming_generation
    if generation < current_generation:
        return TaskStatusMerge(current_status, current_generation, False, "stale_generation")
    if incoming_status == current_status:
        return TaskStatusMerge(current_status, current_generation, True)
    if by_manager:
        if incoming_status == "cancelled":
            return TaskStatusMerge("cancelled", current_generation, True)
        moves_back = current_status == "cancelled" or (
            TASK_STATUS_RANK[incoming_status] < TASK_STATUS_RANK[current_status]
        )
        if moves_back:
            return TaskStatusMerge(incoming_status, current_generation + 1, True)
        return TaskStatusMerge(incoming_status, current_generation, True)
    if incoming_status == "cancelled" or current_status == "cancelled":
        return TaskStatusMerge(current_status, current_generation, False, "manager_only")
    if TASK_STATUS_RANK[incoming_status] < TASK_STATUS_RANK[current_status]:
        # A later step already happened (possibly on another device): keep it.
        return TaskStatusMerge(current_status, current_generation, False, "lattice")
    return TaskStatusMerge(incoming_status, current_generation, True)
