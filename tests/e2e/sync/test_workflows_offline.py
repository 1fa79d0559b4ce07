"""Workflow rules meet offline phones: a visit logged offline with "Follow-up needed" makes
a task on the server when it syncs, and the task reaches the phone in the same sync; a
rule's notification reaches the phone, is read there offline, and the read syncs back."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mobile.core import next_actions
from server.models import Notification, Task
from shared.sync.protocol import Entity
from tests.e2e.sync.harness import SyncOrg, bearer


def enable(base_url: str, org: SyncOrg, body: dict) -> None:
    response = httpx.post(f"{base_url}/api/v1/workflow-rules", json=body, headers=bearer(org, org.admin), timeout=30)
    assert response.status_code == 201, response.text


def test_follow_up_needed_offline_becomes_a_task_on_the_phone(sync_server, devices, engine: Engine, org: SyncOrg):
    enable(sync_server, org, {"template": "follow_up_needed", "params": {"days": 4}})
    enable(
        sync_server,
        org,
        {
            "name": "Tell the rep",
            "trigger": "visit_completed",
            "actions": [{"type": "notify", "recipients": ["visiting_rep"], "title": "Logged: {customer_name}"}],
        },
    )
    phone = devices["rep0"]
    phone.sync()
    visit = phone.app.today_visits()[0]
    customer_name = phone.store.get(Entity.customer, visit["customer_id"])["name"]

    # Offline (no sync in between): the visit is logged on the phone only.
    phone.app.check_in(visit["id"], 45.71, 4.81, accuracy_m=8)
    phone.app.check_out(visit["id"], 45.71, 4.81, outcome="Follow-up needed")
    assert not [t for t in phone.app.my_open_tasks() if t["title"].startswith("Follow up with")]

    phone.sync()  # pushes the visit, pulls what the rules made
    with Session(engine) as session:
        [task] = session.scalars(
            select(Task).where(Task.org_id == org.id, Task.title == f"Follow up with {customer_name}")
        ).all()
        assert task.assignee_id == org.reps[0]
    on_phone = [t for t in phone.app.my_open_tasks() if t["id"] == str(task.id)]
    assert on_phone and on_phone[0]["kind"] == "follow_up"

    [note] = phone.app.notifications(unread_only=True)
    assert note["title"] == f"Logged: {customer_name}"
    # Only the recipient's phone has it: not another rep's, not the manager's tablet (which
    # pulls the rep's personal scope for their visits and tasks).
    devices["rep1"].sync()
    assert devices["rep1"].store.count(Entity.notification) == 0
    devices["manager"].sync()
    assert devices["manager"].store.count(Entity.notification) == 0

    phone.app.mark_notification_read(note["id"])
    assert phone.app.notifications(unread_only=True) == []
    phone.sync()
    with Session(engine) as session:
        stored = session.get(Notification, uuid.UUID(note["id"]))
        assert stored is not None and stored.read_at is not None

    # The next best actions come with the sync too (the overdue follow-up is not due yet).
    held = next_actions.refresh(phone.client, phone.store)
    assert held == len(next_actions.load(phone.store))
    assert all(action.entity_id != str(task.id) for action in next_actions.load(phone.store))
