"""Webhooks against a local HTTP receiver that checks the signature, email through a real
local SMTP server (aiosmtpd), and the calendar feed read by an independent iCal parser."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from server.config import Settings
from server.integrations.email import queue_email, send_email
from server.integrations.webhooks import SIGNATURE_HEADER, attempt_delivery, verify
from server.models import Customer, EmailMessage, Notification, User, Visit, Webhook, WebhookDelivery
from tests.net import free_port
from tests.server.world import WORLD as W


class Receiver:
    """A webhook receiver: answers the statuses it is told to, in order, and records
    whether each request's signature was valid and recent."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(SIGNATURE_HEADER, "")
                outer.received.append(
                    {
                        "body": json.loads(body),
                        "valid": verify(outer.secret, signature, body),
                        "tampered_valid": verify(outer.secret, signature, body + b" "),
                        "event": self.headers.get("X-FieldForce-Event"),
                    }
                )
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def register(client: httpx.Client, headers: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def fast_retries(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"webhook_retry_base_seconds": 0, **changes})


def test_a_signed_delivery_retried_after_a_500(client, as_user, db, settings, receiver):
    admin = as_user("admin_a")
    hook = register(client, admin, receiver.url, ["order_recorded"])
    assert hook["secret"].startswith("whsec_")
    receiver.secret = hook["secret"]
    order = {"customer_id": str(W.c1), "order_date": "2026-11-20", "amount": "250.00"}
    assert client.post("/api/v1/orders", json=order, headers=admin).status_code == 201
    [delivery] = db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == uuid.UUID(hook["id"])))

    receiver.answers = [500]
    assert attempt_delivery(db, delivery.id, fast_retries(settings)) == "retrying"
    assert attempt_delivery(db, delivery.id, fast_retries(settings)) == "delivered"
    assert [r["valid"] for r in receiver.received] == [True, True]
    assert not any(r["tampered_valid"] for r in receiver.received)
    first = receiver.received[0]["body"]
    assert first["event"] == "order_recorded" and first["data"]["amount"] == 250.0
    assert receiver.received[1]["body"] == first  # a retry sends the same body

    listed = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()["items"]
    assert [(d["status"], d["attempts"], d["response_status"]) for d in listed] == [("delivered", 2, 200)]
    # A stale signature is refused by the receiver's check (replay).
    body = delivery.body.encode()
    from server.integrations.webhooks import sign

    old = sign(hook["secret"], int(time.time()) - 3600, body)
    assert not verify(hook["secret"], old, body)


def test_a_failing_receiver_is_switched_off_and_the_admins_told(client, as_user, db, settings, receiver):
    admin = as_user("admin_a")
    hook = register(client, admin, receiver.url, ["order_recorded"])
    receiver.secret = hook["secret"]
    strict = fast_retries(settings, webhook_max_attempts=2, webhook_disable_after=2)
    for day in (20, 21):
        order = {"customer_id": str(W.c1), "order_date": f"2026-11-{day}", "amount": "10.00"}
        assert client.post("/api/v1/orders", json=order, headers=admin).status_code == 201
    deliveries = list(db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == uuid.UUID(hook["id"]))))
    receiver.answers = [503] * 10
    for delivery in deliveries:
        assert attempt_delivery(db, delivery.id, strict) == "retrying"
        assert attempt_delivery(db, delivery.id, strict) == "failed"
    stored = db.get(Webhook, uuid.UUID(hook["id"]))
    db.refresh(stored)
    assert stored.active is False and "2 deliveries in a row failed" in (stored.disabled_reason or "")
    [notice] = db.scalars(select(Notification).where(Notification.kind == "webhook_disabled"))
    assert notice.recipient_id == W.admin_a
    # Switched off: new events are not queued; an admin switches it back on.
    order = {"customer_id": str(W.c1), "order_date": "2026-11-22", "amount": "10.00"}
    assert client.post("/api/v1/orders", json=order, headers=admin).status_code == 201
    assert len(list(db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == stored.id)))) == 2
    again = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True}, headers=admin).json()
    assert again["active"] and again["consecutive_failures"] == 0 and again["disabled_reason"] is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "INVALID_WEBHOOK_URL"),
        ("javascript:alert(1)", "INVALID_WEBHOOK_URL"),
        ("https://user:pw@example.com/hook", "INVALID_WEBHOOK_URL"),
        ("http://127.0.0.1:8000/api/v1/orders", "WEBHOOK_URL_IS_SELF"),
    ],
)
def test_bad_webhook_urls_are_refused(client, as_user, url, code):
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["order_recorded"]}, headers=as_user("admin_a")
    )
    assert response.status_code == 422 and response.json()["code"] == code
    assert client.get("/api/v1/webhooks", headers=as_user("admin_a")).json()["items"] == []


def test_a_webhook_to_the_server_itself_and_unknown_events(client, live_server, as_user):
    admin = as_user("admin_a")
    own = client.post("/api/v1/webhooks", json={"url": f"{live_server}/x", "events": ["order_recorded"]}, headers=admin)
    assert own.status_code == 422 and own.json()["code"] == "WEBHOOK_URL_IS_SELF"
    unknown = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/", "events": ["tea_time"]}, headers=admin
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "UNKNOWN_EVENT"


def test_private_addresses_are_refused_in_production(settings):
    from server.errors import InvalidInput
    from server.integrations.webhooks import check_url

    production_like = settings.model_copy(update={"webhook_allow_private_networks": False})
    with pytest.raises(InvalidInput) as refused:
        check_url("http://10.1.2.3/hook", production_like, [])
    assert refused.value.code == "WEBHOOK_URL_PRIVATE"


# ---- email ---------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_rule_emails_through_the_smtp_server(client, as_user, db, settings, smtp):
    inbox, port = smtp
    admin = as_user("admin_a")
    db.execute(update(Customer).where(Customer.id == W.c1).values(email="buyer@customer.test"))
    db.flush()
    rule = {
        "name": "Thank you mail",
        "trigger": "visit_completed",
        "conditions": {"field": "outcome", "op": "equals", "value": "Order taken"},
        "actions": [
            {
                "type": "send_email",
                "to": "customer",
                "subject": "Thank you, {customer_name}",
                "body": "Outcome: {outcome}",
            }
        ],
    }
    assert client.post("/api/v1/workflow-rules", json=rule, headers=admin).status_code == 201
    response = client.patch(
        f"/api/v1/visits/{W.child('visit', W.c1)}",
        json={"status": "completed", "outcome": "Order taken"},
        headers=as_user("r1"),
    )
    assert response.status_code == 200
    [message] = db.scalars(select(EmailMessage).where(EmailMessage.org_id == W.org_a))
    configured = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}", "smtp_from": "FF <ff@test.local>"})
    assert send_email(db, message.id, configured) == "sent"
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["buyer@customer.test"]
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == f"Thank you, Customer {W.c1.int:x}" and mail["From"] == "FF <ff@test.local>"
    assert mail.get_payload(decode=True).decode().strip() == "Outcome: Order taken"


def test_email_without_smtp_is_failed_with_the_reason_and_a_down_server_is_retried(db, settings, smtp):
    message = queue_email(db, W.org_a, "someone@test.local", "s", "b")
    assert send_email(db, message.id, settings.model_copy(update={"smtp_url": None})) == "failed"
    assert "SMTP_URL is not set" in (db.get(EmailMessage, message.id).error or "")
    again = queue_email(db, W.org_a, "someone@test.local", "s", "b")
    down = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    assert send_email(db, again.id, down) == "pending"  # a retry is queued
    assert db.get(EmailMessage, again.id).attempts == 1


# ---- calendar feed -----------------------------------------------------------------------------------


def test_a_reps_plan_as_ical_at_a_secret_revocable_url(client, as_user, db, live_server):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    db.execute(
        update(Visit)
        .where(Visit.id == W.child("visit", W.c1))
        .values(planned_start=soon, planned_end=soon + timedelta(minutes=45), fixed=True)
    )
    db.execute(
        update(Customer)
        .where(Customer.id == W.c1)
        .values(
            name="Café; Müller, und Söhne — a very long name that needs folding at seventy-five octets", city="Lyon"
        )
    )
    db.flush()
    made = client.post(f"/api/v1/users/{W.r1}/calendar-feed", headers=as_user("r1"))
    assert made.status_code == 201
    url = made.json()["url"]
    path = url.split("8000", 1)[1]
    feed = httpx.get(f"{live_server}{path}")  # no login: the secret is the credential
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    raw = feed.content
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "lines are folded at 75 octets"
    assert raw.count(b"\r\n") == raw.count(b"\n"), "every line ends with CRLF"
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = [c for c in calendar.walk("VEVENT")]
    assert str(event["UID"]) == f"{W.child('visit', W.c1)}@fieldforce"
    assert (
        str(event["SUMMARY"])
        == "Visit: Café; Müller, und Söhne — a very long name that needs folding at seventy-five octets"
    )
    assert event.decoded("DTSTART") == soon and event.decoded("DTEND") == soon + timedelta(minutes=45)
    assert "Appointment agreed" in str(event["DESCRIPTION"])
    assert abs(float(event["GEO"].latitude) - 45.755) < 1e-6

    # A new secret replaces the old; DELETE revokes; another user's id with this secret opens nothing.
    assert httpx.get(f"{live_server}{path.replace(str(W.r1), str(W.r2))}").status_code == 404
    newer = client.post(f"/api/v1/users/{W.r1}/calendar-feed", headers=as_user("m1")).json()["url"]
    assert httpx.get(f"{live_server}{path}").status_code == 404
    new_path = newer.split("8000", 1)[1]
    assert httpx.get(f"{live_server}{new_path}").status_code == 200
    assert client.delete(f"/api/v1/users/{W.r1}/calendar-feed", headers=as_user("r1")).status_code == 204
    gone = httpx.get(f"{live_server}{new_path}")
    assert gone.status_code == 404 and gone.json()["code"] == "FEED_NOT_FOUND"
    # A deactivated user's feed closes too.
    third = client.post(f"/api/v1/users/{W.r1}/calendar-feed", headers=as_user("r1")).json()["url"].split("8000", 1)[1]
    db.execute(update(User).where(User.id == W.r1).values(active=False))
    db.flush()
    assert httpx.get(f"{live_server}{third}").status_code == 404


def test_webhook_events_are_the_record_triggers():
    from server.integrations.webhooks import EVENTS
    from server.workflows.schemas import SCHEDULED_TRIGGERS, Trigger

    assert set(EVENTS) == {t.value for t in Trigger if t not in SCHEDULED_TRIGGERS}
