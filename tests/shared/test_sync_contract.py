"""The sync contract's pure parts: the clock and the merge rules."""

from __future__ import annotations

import pytest

from shared.sync.hlc import HybridLogicalClock, hlc_pack, hlc_physical_ms
from shared.sync.merge import (
    FieldClock,
    FieldDecision,
    clock_group,
    decide_field,
    merge_tags,
    merge_task_status,
)
from shared.sync.protocol import Mutation, canonical_json, payload_hash


class Wall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_hlc_never_goes_backwards_when_the_wall_clock_does():
    wall = Wall(1_000_000)
    clock = HybridLogicalClock(clock=wall)
    first = clock.now()
    wall.ms -= 3_600_000
    second = clock.now()
    assert second > first and hlc_physical_ms(second) == 1_000_000


def test_hlc_counter_rolls_into_the_next_millisecond():
    clock = HybridLogicalClock(last=hlc_pack(5, 0xFFFF), clock=Wall(5))
    assert clock.now() == hlc_pack(6, 0)


def test_hlc_folds_in_what_it_receives_and_applies_the_offset():
    clock = HybridLogicalClock(clock=Wall(1_000))
    clock.observe(hlc_pack(9_000, 3))
    assert clock.now() == hlc_pack(9_000, 4)
    clock.measure_offset(server_time_ms=50_000, sent_at_ms=900, received_at_ms=1_100)
    assert clock.offset_ms == 49_000 and hlc_physical_ms(clock.now()) == 50_000


def test_hlc_parts_out_of_range_are_refused():
    with pytest.raises(ValueError, match="out of range"):
        hlc_pack(-1)


@pytest.mark.parametrize(
    ("stored", "hlc", "client", "base", "expected"),
    [
        (None, 1, "a", None, FieldDecision.causal),  # never written by anyone
        (FieldClock(3, 50, "b"), 10, "a", 3, FieldDecision.causal),  # the writer had seen version 3
        (FieldClock(4, 50, "b"), 60, "a", 3, FieldDecision.wins),  # concurrent, later
        (FieldClock(4, 50, "b"), 40, "a", 3, FieldDecision.loses),  # concurrent, earlier
        (FieldClock(4, 50, "b"), 50, "a", 3, FieldDecision.loses),  # tie: client id decides ("a" < "b")
        (FieldClock(4, 50, "a"), 60, "a", 1, FieldDecision.causal),  # the same device's later edit
    ],
)
def test_decide_field(stored, hlc, client, base, expected):
    assert decide_field(stored, hlc, client, base) is expected


def test_address_fields_share_one_clock():
    assert {clock_group("customer", f) for f in ("street", "city", "location")} == {"address"}
    assert clock_group("customer", "phone") == "phone"
    assert clock_group("contact", "city") == "city"


def test_tags_latest_add_against_latest_remove():
    tags, clocks = merge_tags(["a", "b"], {}, add=["c"], remove=["a"], hlc=10)
    assert tags == ["b", "c"]
    tags, clocks = merge_tags(tags, clocks, add=["a"], remove=[], hlc=5)  # an older add loses
    assert tags == ["b", "c"]
    tags, _ = merge_tags(tags, clocks, add=["a"], remove=[], hlc=11)
    assert tags == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("current", "generation", "incoming", "incoming_generation", "manager", "expected"),
    [
        ("open", 0, "done", 0, False, ("done", 0, True)),
        ("done", 0, "in_progress", 0, False, ("done", 0, False)),  # the later step stays
        ("done", 0, "open", 0, True, ("open", 1, True)),  # a manager reopens: new generation
        ("open", 1, "done", 0, False, ("open", 1, False)),  # stale generation
        ("open", 0, "cancelled", 0, False, ("open", 0, False)),  # only managers cancel
        ("in_progress", 0, "cancelled", 0, True, ("cancelled", 0, True)),
    ],
)
def test_task_status_lattice(current, generation, incoming, incoming_generation, manager, expected):
    merged = merge_task_status(current, generation, incoming, incoming_generation, by_manager=manager)
    assert (merged.status, merged.generation, merged.accepted) == expected


def test_payload_hash_is_canonical_and_ignores_the_clock():
    one = Mutation(1, 100, "update", "customer", "x", {"b": 1, "a": "é"}, 3)
    two = Mutation(1, 999, "update", "customer", "x", {"a": "é", "b": 1}, 3)
    assert one.computed_hash() == two.computed_hash() == payload_hash("update", "customer", "x", 3, {"a": "é", "b": 1})
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
