"""Workflow rules over HTTP on the fixed world: every trigger, operator and action, the
templates, the loop guard, bad input, and what a failing action does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.models import Customer, Notification, Task, User, WorkflowRun
from server.workflows.scheduled import run_scheduled_rules
from tests.server.world import WORLD as W

RULES = "/api/v1/workflow-rules"


def make_rule(client: httpx.Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(RULES, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def complete_visit(client: httpx.Client, headers: dict[str, str], visit_id: uuid.UUID, outcome: str) -> httpx.Response:
    return client.patch(f"/api/v1/visits/{visit_id}", json={"status": "completed", "outcome": outcome}, headers=headers)


def tasks_titled(db: Session, title: str) -> list[Task]:
    return list(db.scalars(select(Task).where(Task.org_id == W.org_a, Task.title == title)))


def runs(client: httpx.Client, headers: dict[str, str], rule_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{RULES}/{rule_id}/runs", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


# ---- triggers and actions ---------------------------------------------------------------------------


def test_follow_up_template_end_to_end_over_http(client, as_user, db):
    admin = as_user("admin_a")
    templates = client.get(f"{RULES}/templates", headers=as_user("m1")).json()["items"]
    assert {t["key"] for t in templates} >= {
        "no_answer_call_again",
        "interested_send_details",
        "follow_up_needed",
        "won_post_sale_visit",
        "a_customer_overdue",
    }
    rule = make_rule(client, admin, template="follow_up_needed", params={"days": 5})
    assert rule["trigger"] == "visit_completed" and rule["enabled"]

    before = datetime.now(UTC)
    assert complete_visit(client, as_user("r1"), W.child("visit", W.c1), "Follow-up needed").status_code == 200
    [task] = tasks_titled(db, f"Follow up with Customer {W.c1.int:x}")
    assert task.assignee_id == W.r1 and task.customer_id == W.c1 and task.kind == "follow_up"
    assert task.due_at is not None and timedelta(days=4.9) < task.due_at - before < timedelta(days=5.1)
    [run] = runs(client, admin, rule["id"])
    assert run["status"] == "ok" and run["entity_id"] == str(W.child("visit", W.c1))
    assert run["actions"][0]["task_id"] == str(task.id)

    # Another outcome does not match; completing an already completed visit does not fire again.
    assert complete_visit(client, as_user("r2"), W.child("visit", W.c2), "Order taken").status_code == 200
    assert complete_visit(client, as_user("r1"), W.child("visit", W.c1), "Follow-up needed").status_code == 200
    assert len(runs(client, admin, rule["id"])) == 1


@pytest.mark.parametrize(
    ("template", "outcome", "title", "kind"),
    [
        ("no_answer_call_again", "No answer", "Call Customer 2001 again", "call"),
        ("interested_send_details", "Interested", "Email the product details to Customer 2001", "other"),
    ],
)
def test_outcome_templates(client, as_user, db, template, outcome, title, kind):
    make_rule(client, as_user("admin_a"), template=template)
    assert complete_visit(client, as_user("r1"), W.child("visit", W.c1), outcome).status_code == 200
    [task] = tasks_titled(db, title)
    assert task.kind == kind and task.assignee_id == W.r1


def test_won_opportunity_gets_a_post_sale_visit_task_and_a_stage_history(client, as_user, db):
    make_rule(client, as_user("admin_a"), template="won_post_sale_visit", params={"days": 10})
    opportunity = W.child("opportunity", W.c1)
    response = client.patch(
        f"/api/v1/opportunities/{opportunity}",
        json={"stage": "won", "close_reason": "Best price"},
        headers=as_user("r1"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["probability"] == 100 and response.json()["close_reason"] == "Best price"
    [task] = tasks_titled(db, f"Post-sale visit: Customer {W.c1.int:x} (Deal)")
    assert task.assignee_id == W.r1
    history = client.get(f"/api/v1/opportunities/{opportunity}/history", headers=as_user("m1")).json()["items"]
    assert [(h["from_stage"], h["to_stage"], h["changed_by"]) for h in history] == [("lead", "won", str(W.r1))]


def test_lead_created_notifies_the_manager_and_sets_a_field(client, as_user, db):
    admin = as_user("admin_a")
    make_rule(
        client,
        admin,
        name="New lead",
        trigger="lead_created",
        conditions={"all": [{"field": "assigned_by", "op": "in", "value": ["territory", "manual"]}]},
        actions=[
            {"type": "notify", "recipients": ["manager"], "title": "New lead: {name}", "body": "In {city}"},
            {"type": "set_field", "field": "tags", "value": ["from-rule"]},
        ],
    )
    response = client.post(
        "/api/v1/customers",
        json={"name": "Fresh Lead", "city": "Lyon", "location": {"lat": 45.755, "lon": 4.805}},
        headers=as_user("r1"),
    )
    assert response.status_code == 201, response.text
    lead_id = uuid.UUID(response.json()["id"])
    lead = db.get(Customer, lead_id)
    db.refresh(lead)
    assert lead.tags == ["from-rule"] and lead.owner_id == W.r1 and lead.assigned_by == "territory"
    [note] = db.scalars(select(Notification).where(Notification.entity_id == lead_id))
    assert note.recipient_id == W.m1 and note.title == "New lead: Fresh Lead" and note.body == "In Lyon"
    # The manager reads it on the web; nobody else sees it.
    listed = client.get("/api/v1/notifications?unread=true", headers=as_user("m1")).json()
    assert listed["unread"] >= 1 and str(note.id) in [n["id"] for n in listed["items"]]
    assert client.post(f"/api/v1/notifications/{note.id}/read", headers=as_user("r1")).status_code == 404
    read = client.post(f"/api/v1/notifications/{note.id}/read", headers=as_user("m1"))
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert str(note.id) not in [
        n["id"] for n in client.get("/api/v1/notifications?unread=true", headers=as_user("m1")).json()["items"]
    ]


def test_order_recorded_and_every_operator(client, as_user, db):
    admin = as_user("admin_a")
    conditions = {
        "all": [
            {"field": "amount", "op": "greater_than", "value": 500},
            {"field": "amount", "op": "less_than", "value": 10000},
            {"field": "currency", "op": "equals", "value": "EUR"},
            {"field": "currency", "op": "not_equals", "value": "USD"},
            {"field": "customer.tier", "op": "in", "value": ["C", "B"]},
            {"field": "customer.tier", "op": "not_in", "value": ["A"]},
            {"field": "margin", "op": "is_empty"},
            {"field": "customer.name", "op": "is_not_empty"},
            {
                "any": [
                    {"field": "order_date", "op": "greater_than", "value": "2026-01-01"},
                    {"field": "amount", "op": "equals", "value": 1},
                ]
            },
        ]
    }
    rule = make_rule(
        client,
        admin,
        name="Big order",
        trigger="order_recorded",
        conditions=conditions,
        actions=[
            {"type": "create_task", "title": "Thank {customer_name} for {amount}", "assignee": "owner", "kind": "call"}
        ],
    )
    small = {"customer_id": str(W.c2), "order_date": "2026-11-20", "amount": "120.00"}
    big = {"customer_id": str(W.c2), "order_date": "2026-11-21", "amount": "900.00"}
    assert client.post("/api/v1/orders", json=small, headers=admin).status_code == 201
    assert runs(client, admin, rule["id"]) == []
    assert client.post("/api/v1/orders", json=big, headers=admin).status_code == 201
    [task] = tasks_titled(db, f"Thank Customer {W.c2.int:x} for 900.00")
    assert task.assignee_id == W.r2


def test_tier_changed_fires_from_the_tier_job(client, as_user, db):
    from server.customers.tiers import recompute_tiers

    rule = make_rule(
        client,
        as_user("admin_a"),
        name="Up to A",
        trigger="tier_changed",
        conditions={
            "all": [
                {"field": "tier", "op": "equals", "value": "A"},
                {"field": "previous_tier", "op": "equals", "value": "C"},
            ]
        },
        actions=[{"type": "notify", "recipients": ["owner", "admins"], "title": "{name} is now an A customer"}],
    )
    recompute_tiers(db, W.org_a)
    db.flush()
    notified = {
        n.recipient_id for n in db.scalars(select(Notification).where(Notification.rule_id == uuid.UUID(rule["id"])))
    }
    upgraded = {
        c.owner_id for c in db.scalars(select(Customer).where(Customer.org_id == W.org_a, Customer.tier == "A"))
    }
    assert upgraded and notified == upgraded | {W.admin_a}


def test_scheduled_triggers_fire_once_per_occasion(client, as_user, db):
    admin = as_user("admin_a")
    overdue = make_rule(
        client,
        admin,
        name="Overdue task",
        trigger="task_overdue",
        actions=[{"type": "notify", "recipients": ["manager"], "title": "Overdue: {title}"}],
    )
    not_visited = make_rule(client, admin, template="a_customer_overdue")
    db.execute(
        update(Task).where(Task.id == W.child("task", W.c1)).values(due_at=datetime.now(UTC) - timedelta(days=2))
    )
    db.execute(
        update(Customer)
        .where(Customer.id == W.c2)
        .values(tier="A", last_visit_at=datetime.now(UTC) - timedelta(days=60))
    )
    db.flush()
    first = run_scheduled_rules(db)
    assert first["task_overdue"] >= 1 and first["customer_not_visited"] >= 1
    assert run_scheduled_rules(db) == {"task_overdue": 0, "customer_not_visited": 0}
    overdue_runs = [r for r in runs(client, admin, overdue["id"]) if r["entity_id"] == str(W.child("task", W.c1))]
    assert len(overdue_runs) == 1 and overdue_runs[0]["status"] == "ok"
    [task] = tasks_titled(db, f"Visit Customer {W.c2.int:x}: overdue A customer")
    assert task.assignee_id == W.r2 and task.priority == "high"
    assert any(r["entity_id"] == str(W.c2) for r in runs(client, admin, not_visited["id"]))
    # A new due date is a new occasion.
    db.execute(
        update(Task).where(Task.id == W.child("task", W.c1)).values(due_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.flush()
    assert run_scheduled_rules(db)["task_overdue"] == 1


def test_email_and_webhook_actions_are_queued_with_the_write(client, as_user, db):
    from server.models import EmailMessage, WebhookDelivery

    admin = as_user("admin_a")
    hook = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["order_recorded"]}, headers=admin
    )
    assert hook.status_code == 201, hook.text
    db.execute(update(User).where(User.id == W.r1).values(email="r1@world.test"))
    make_rule(
        client,
        admin,
        name="Tell by mail",
        trigger="visit_completed",
        actions=[
            {
                "type": "send_email",
                "to": "visiting_rep",
                "subject": "Visit at {customer_name}",
                "body": "Outcome: {outcome}",
            },
            {"type": "call_webhook", "webhook_id": hook.json()["id"]},
        ],
    )
    assert complete_visit(client, as_user("r1"), W.child("visit", W.c1), "Interested").status_code == 200
    [mail] = db.scalars(select(EmailMessage).where(EmailMessage.org_id == W.org_a))
    assert (mail.to_address, mail.subject, mail.body) == (
        "r1@world.test",
        f"Visit at Customer {W.c1.int:x}",
        "Outcome: Interested",
    )
    [delivery] = db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == uuid.UUID(hook.json()["id"])))
    assert delivery.event == "visit_completed" and '"outcome":"Interested"' in delivery.body


# ---- failures, loops and references that went away -----------------------------------------------------


def test_two_rules_undoing_each_other_stop_at_the_depth_limit(client, as_user, db):
    admin = as_user("admin_a")
    forth = make_rule(
        client,
        admin,
        name="qualified -> proposal",
        trigger="opportunity_stage_changed",
        conditions={"field": "stage", "op": "equals", "value": "qualified"},
        actions=[{"type": "set_field", "field": "stage", "value": "proposal"}],
    )
    back = make_rule(
        client,
        admin,
        name="proposal -> qualified",
        trigger="opportunity_stage_changed",
        conditions={"field": "stage", "op": "equals", "value": "proposal"},
        actions=[{"type": "set_field", "field": "stage", "value": "qualified"}],
    )
    response = client.patch(
        f"/api/v1/opportunities/{W.child('opportunity', W.c1)}", json={"stage": "qualified"}, headers=admin
    )
    assert response.status_code == 200, response.text
    statuses = sorted(r["status"] for r in runs(client, admin, forth["id"]) + runs(client, admin, back["id"]))
    assert "loop_stopped" in statuses and statuses.count("ok") == 3
    stopped = next(
        r for r in runs(client, admin, forth["id"]) + runs(client, admin, back["id"]) if r["status"] == "loop_stopped"
    )
    assert "limit" in stopped["error"] and stopped["depth"] == 3


def test_a_failing_action_is_logged_and_the_write_stands(client, as_user, db):
    admin = as_user("admin_a")
    rule = make_rule(
        client,
        admin,
        name="Tell r2",
        trigger="visit_completed",
        actions=[
            {"type": "notify", "recipients": [str(W.r2)], "title": "done"},
            {"type": "create_task", "title": "Next step", "assignee": "visiting_rep"},
        ],
    )
    # r2 is deleted after the rule was saved: the rule is reported, the visit is still completed.
    db.execute(update(User).where(User.id == W.r2).values(deleted_at=datetime.now(UTC)))
    db.flush()
    assert complete_visit(client, as_user("r1"), W.child("visit", W.c1), "Order taken").status_code == 200
    [run] = runs(client, admin, rule["id"])
    assert run["status"] == "invalid"
    assert run["actions"][0]["result"] == "failed" and "no longer exists" in run["actions"][0]["error"]
    assert run["actions"][1]["result"] == "ok"
    assert len(tasks_titled(db, "Next step")) == 1


def test_a_required_action_that_fails_undoes_the_write(client, as_user, db):
    admin = as_user("admin_a")
    make_rule(
        client,
        admin,
        name="Needs an email",
        trigger="visit_completed",
        actions=[{"type": "send_email", "to": "customer", "subject": "s", "body": "b", "required": True}],
    )
    response = complete_visit(client, as_user("r1"), W.child("visit", W.c1), "Order taken")
    assert response.status_code == 422 and response.json()["code"] == "WORKFLOW_ACTION_FAILED"
    assert "no email address" in response.json()["detail"]
    visit = client.get(f"/api/v1/visits/{W.child('visit', W.c1)}", headers=as_user("r1")).json()
    assert visit["status"] == "planned"


def test_a_stored_condition_on_a_field_that_is_gone_is_reported(client, as_user, db):
    from server.models import WorkflowRule

    admin = as_user("admin_a")
    rule = make_rule(
        client,
        admin,
        name="x",
        trigger="order_recorded",
        actions=[{"type": "notify", "recipients": ["admins"], "title": "t"}],
    )
    db.execute(
        update(WorkflowRule)
        .where(WorkflowRule.id == uuid.UUID(rule["id"]))
        .values(conditions={"field": "discount", "op": "is_empty"})
    )
    db.flush()
    order = {"customer_id": str(W.c1), "order_date": "2026-11-20", "amount": "10.00"}
    assert client.post("/api/v1/orders", json=order, headers=admin).status_code == 201
    [run] = db.scalars(select(WorkflowRun).where(WorkflowRun.rule_id == uuid.UUID(rule["id"])))
    assert run.status == "invalid" and "discount" in (run.error or "")


# ---- bad input and who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"trigger": "visit_started"}, "UNKNOWN_TRIGGER"),
        ({"conditions": {"field": "colour", "op": "equals", "value": 1}}, "UNKNOWN_FIELD"),
        ({"conditions": {"field": "outcome", "op": "like", "value": "x"}}, "UNKNOWN_OPERATOR"),
        ({"conditions": {"field": "outcome", "op": "in", "value": "x"}}, "INVALID_CONDITION"),
        (
            {"conditions": {"all": [{"any": [{"all": [{"any": [{"field": "outcome", "op": "is_empty"}]}]}]}]}},
            "CONDITIONS_TOO_DEEP",
        ),
        ({"actions": [{"type": "launch_rocket"}]}, "UNKNOWN_ACTION"),
        ({"actions": [{"type": "create_task"}]}, "INVALID_ACTION"),
        ({"actions": [{"type": "set_field", "field": "rep_id", "value": "not-a-uuid"}]}, "INVALID_ACTION"),
        ({"actions": [{"type": "set_field", "field": "org_id", "value": None}]}, "UNKNOWN_FIELD"),
        ({"actions": [{"type": "notify", "recipients": [str(uuid.uuid4())], "title": "t"}]}, "INVALID_REFERENCE"),
        ({"actions": [{"type": "call_webhook", "webhook_id": str(uuid.uuid4())}]}, "INVALID_REFERENCE"),
        ({"actions": []}, "INVALID_ACTION"),
        ({"template": "make_coffee"}, "UNKNOWN_TEMPLATE"),
        ({"template": "follow_up_needed", "params": {"days": 9999}}, "INVALID_TEMPLATE_PARAMS"),
    ],
)
def test_bad_rules_are_refused_with_a_code_and_nothing_saved(client, as_user, body, code):
    admin = as_user("admin_a")
    rule = {
        "name": "bad",
        "trigger": "visit_completed",
        "actions": [{"type": "notify", "recipients": ["owner"], "title": "t"}],
    }
    if "template" in body:
        rule = {}
    response = client.post(RULES, json=rule | body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert client.get(RULES, headers=admin).json()["items"] == []


def test_admins_edit_managers_read_reps_do_not_see(client, as_user):
    admin = as_user("admin_a")
    rule = make_rule(client, admin, template="no_answer_call_again")
    assert client.get(RULES, headers=as_user("m1")).status_code == 200
    assert client.get(f"{RULES}/{rule['id']}/runs", headers=as_user("m1")).status_code == 200
    assert client.get(RULES, headers=as_user("r1")).status_code == 403
    assert client.patch(f"{RULES}/{rule['id']}", json={"enabled": False}, headers=as_user("m1")).status_code == 403
    assert client.get(f"{RULES}/{rule['id']}", headers=as_user("admin_b")).status_code == 404
    changed = client.patch(f"{RULES}/{rule['id']}", json={"enabled": False}, headers=admin)
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert client.delete(f"{RULES}/{rule['id']}", headers=admin).status_code == 204
    assert client.get(f"{RULES}/{rule['id']}", headers=admin).status_code == 404


def test_every_process_that_writes_fires_the_rules():
    """The engine hears of writes through a registry (server/api/resource.py): the server, the
    job worker and the command line each register it on import."""
    import subprocess
    import sys

    for module in ("server.app", "server.jobs.queue", "server.cli"):
        check = (
            f"import {module}; from server.api.resource import write_observers; "
            "from server.workflows.engine import record_written; assert record_written in write_observers()"
        )
        assert subprocess.run([sys.executable, "-c", check], capture_output=True).returncode == 0, module
