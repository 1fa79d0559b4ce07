"""Sync push and HTTP share one write path: every hook a resource declares runs
for a phone's write as for a web write, and the merge hands the resource what
survives once. Also the task-status rule of SYNC.md: the one-way order wins."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from server.api.resource import ResourceSpec
from server.models import SyncConflict, Task
from server.sync.entities import SYNCED
from shared.sync.protocol import Entity
from tests.server.sync.phone import mutation, now_hlc, push
from tests.server.world import WORLD as W

HOOKS = ("convert_values", "on_change", "after_create", "after_write", "after_delete")


# ---- task status: the order wins over the clocks -----------------------------------------------


def test_an_offline_done_wins_over_a_later_stamped_in_progress_from_another_device(client, as_user, db):
    """Device B moves the task to in_progress at a later HLC; device A's `done`, made offline
    earlier, arrives after it. open < in_progress < done: done is kept, nothing is logged lost."""
    task = W.child("task", W.c1)
    device_a, device_b = str(uuid.uuid4()), str(uuid.uuid4())
    later, earlier = now_hlc(), now_hlc(-60_000)
    [moved] = push(
        client,
        as_user("r1"),
        device_b,
        [mutation(1, "update", "task", task, {"status": "in_progress"}, hlc=later, base_row_version=1)],
    )
    assert moved["outcome"] == "applied"
    [done] = push(
        client,
        as_user("r1"),
        device_a,
        [mutation(1, "update", "task", task, {"status": "done"}, hlc=earlier, base_row_version=1)],
    )
    assert (done["outcome"], done["fields"]) == ("applied", [])
    assert db.scalar(select(Task.status).where(Task.id == task).execution_options(populate_existing=True)) == "done"
    assert not db.scalars(select(SyncConflict).where(SyncConflict.entity_id == task)).all()


def test_an_offline_done_wins_over_a_managers_later_web_edit(client, as_user, db):
    """The manager's web edit stamps the status clock with the server's time; the rep's
    `done` from an hour ago still moves the task forward."""
    task = W.child("task", W.c1)
    edited = client.patch(f"/api/v1/tasks/{task}", json={"status": "in_progress"}, headers=as_user("m1"))
    assert edited.status_code == 200
    [done] = push(
        client,
        as_user("r1"),
        str(uuid.uuid4()),
        [mutation(1, "update", "task", task, {"status": "done"}, hlc=now_hlc(-3_600_000), base_row_version=1)],
    )
    assert done["outcome"] == "applied"
    assert client.get(f"/api/v1/tasks/{task}", headers=as_user("r1")).json()["status"] == "done"


def test_a_step_back_still_loses_to_the_order_and_is_logged(client, as_user, db):
    """The other half of the rule: a rep's later `in_progress` after `done` is kept for review, not applied."""
    task = W.child("task", W.c1)
    client.patch(f"/api/v1/tasks/{task}", json={"status": "done"}, headers=as_user("r1"))
    [back] = push(
        client,
        as_user("r1"),
        str(uuid.uuid4()),
        [mutation(1, "update", "task", task, {"status": "in_progress"}, hlc=now_hlc(60_000), base_row_version=1)],
    )
    assert (back["outcome"], back["fields"]) == ("applied_with_conflicts", ["status"])
    reasons = db.scalars(select(SyncConflict.reason).where(SyncConflict.entity_id == task)).all()
    assert reasons == ["lattice"]


# ---- every declared hook runs on both paths ----------------------------------------------------

# Per synced entity: who writes it, a valid insert, a valid update, and whether it can be deleted.
# Append-only entities (notes, photos) take no updates; a rep deletes neither visits nor tasks,
# so those are deleted by their manager.
WRITES: dict[Entity, dict[str, Any]] = {
    Entity.customer: {
        "who": "m1",
        "insert": {"name": "Hooked", "location": {"lat": 45.755, "lon": 4.806}},
        "update": {"phone": "0478000002"},
    },
    Entity.contact: {
        "who": "r1",
        "insert": {"customer_id": str(W.c1), "name": "Ann", "phone": "0478000003"},
        "update": {"email": "ANN@EXAMPLE.COM"},
    },
    Entity.opportunity: {
        "who": "m1",
        "insert": {"customer_id": str(W.c1), "title": "Deal"},
        "update": {"title": "Bigger deal", "stage": "qualified"},
    },
    Entity.note: {"who": "r1", "insert": {"customer_id": str(W.c1), "body": "hello"}},
    Entity.photo: {
        "who": "r1",
        "insert": {
            "customer_id": str(W.c1),
            "sha256": "a" * 64,
            "content_type": "image/jpeg",
            "size_bytes": 10,
            "taken_at": "2026-11-30T10:00:00+00:00",
        },
    },
    Entity.visit: {
        "who": "m1",
        "insert": {
            "customer_id": str(W.c1),
            "rep_id": str(W.r1),
            "planned_start": "2026-12-01T09:00:00+00:00",
            "planned_end": "2026-12-01T09:30:00+00:00",
        },
        "update": {
            "status": "completed",
            "check_out_at": "2026-12-01T09:40:00+00:00",
            "check_in_at": "2026-12-01T09:05:00+00:00",
        },
    },
    Entity.task: {
        "who": "m1",
        "insert": {"title": "Call back", "assignee_id": str(W.r1), "customer_id": str(W.c1)},
        "update": {"description": "ring twice"},
    },
    Entity.plan: {
        "who": "m1",
        "insert": {"rep_id": str(W.r1), "plan_date": "2026-12-03"},
        "update": {"distance_m": 1000},
    },
    Entity.order: {
        "who": "m1",
        "insert": {"customer_id": str(W.c1), "order_date": "2026-11-20", "amount": "120.00"},
        "update": {"amount": "130.00"},
    },
    Entity.absence: {
        "who": "r1",
        "insert": {"starts_on": "2027-01-04", "ends_on": "2027-01-05"},
        "update": {"note": "dentist"},
    },
    # Made by the server only (workflow rules, notices); declares no hooks, so it is not
    # written here (tests/server/crm and tests/e2e/sync cover it).
    Entity.notification: {},
}


def test_every_synced_entity_has_a_write_recipe():
    """A new synced entity must say how it is written here, so its hooks are checked too."""
    assert set(WRITES) == set(SYNCED)


@pytest.fixture
def recorded_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], int]]:
    """Wrap every hook of every synced resource: counts of (entity, hook) calls."""
    calls: dict[tuple[str, str], int] = {}

    def wrap(entity: str, hook_name: str, hook: Callable[..., Any]) -> Callable[..., Any]:
        def recording(*args: Any, **kwargs: Any) -> Any:
            calls[(entity, hook_name)] = calls.get((entity, hook_name), 0) + 1
            return hook(*args, **kwargs)

        return recording

    for entity, spec in SYNCED.items():
        for hook_name in HOOKS:
            hook = getattr(spec, hook_name)
            if hook is not None:
                monkeypatch.setattr(spec, hook_name, wrap(str(entity), hook_name, hook))
    yield calls


def declared(spec: ResourceSpec[Any]) -> set[str]:
    return {name for name in HOOKS if getattr(spec, name) is not None}


def hooks_run_over_http(client: Any, as_user: Any, entity: Entity, recipe: dict[str, Any]) -> None:
    headers = as_user(recipe["who"])
    path = f"/api/v1{SYNCED[entity].path}"
    created = client.post(path, json=recipe["insert"], headers=headers)
    assert created.status_code == 201, created.text
    item = created.json()["id"]
    if "update" in recipe:
        changed = client.patch(f"{path}/{item}", json=recipe["update"], headers=headers)
        assert changed.status_code == 200, changed.text
    deleter = as_user("m1") if entity in (Entity.visit, Entity.task, Entity.note) else headers
    assert client.delete(f"{path}/{item}", headers=deleter).status_code == 204


def hooks_run_over_sync(client: Any, as_user: Any, entity: Entity, recipe: dict[str, Any]) -> None:
    item = uuid.uuid4()
    device = str(uuid.uuid4())
    mutations = [mutation(1, "insert", str(entity), item, recipe["insert"], hlc=now_hlc())]
    if "update" in recipe:
        mutations.append(mutation(2, "update", str(entity), item, recipe["update"], hlc=now_hlc(1), base_row_version=1))
    results = push(client, as_user(recipe["who"]), device, mutations)
    assert [r["outcome"] for r in results] == ["applied"] * len(mutations), results
    manager = str(uuid.uuid4())
    [deleted] = push(client, as_user("m1"), manager, [mutation(1, "delete", str(entity), item, {}, hlc=now_hlc(2))])
    assert deleted["outcome"] == "applied", deleted


@pytest.mark.parametrize("path", ["http", "sync"])
@pytest.mark.parametrize("entity", sorted((e for e in SYNCED if declared(SYNCED[e])), key=str), ids=str)
def test_every_declared_hook_runs_on_both_write_paths(client, as_user, recorded_hooks, entity, path):
    """Each hook a synced resource declares (convert, after write, after delete) runs for a
    phone's insert/update/delete as for the same writes over HTTP."""
    spec = SYNCED[entity]
    recipe = WRITES[entity]
    if path == "http":
        hooks_run_over_http(client, as_user, entity, recipe)
    else:
        hooks_run_over_sync(client, as_user, entity, recipe)
    ran = {hook for (name, hook), count in recorded_hooks.items() if name == str(entity) and count}
    assert ran == declared(spec), f"{entity} over {path}: declared {declared(spec)}, ran {ran}"


def test_a_sync_delete_and_restore_run_the_resources_hooks(client, as_user, monkeypatch):
    """The defects this path fixed: a phone's delete skipped after_delete, and a restore
    skipped after_write. Checked with hooks planted on the contact resource."""
    spec = SYNCED[Entity.contact]
    seen: list[tuple[str, uuid.UUID]] = []
    monkeypatch.setattr(spec, "after_delete", lambda ctx, obj: seen.append(("after_delete", obj.id)))
    monkeypatch.setattr(spec, "after_write", lambda ctx, obj, relations: seen.append(("after_write", obj.id)))
    contact = W.child("contact", W.c1)
    results = push(
        client,
        as_user("m1"),
        str(uuid.uuid4()),
        [
            mutation(1, "delete", "contact", contact, {}, hlc=now_hlc()),
            mutation(2, "restore", "contact", contact, {}, hlc=now_hlc(1)),
        ],
    )
    assert [r["outcome"] for r in results] == ["applied", "applied"]
    assert seen == [("after_delete", contact), ("after_write", contact)]
