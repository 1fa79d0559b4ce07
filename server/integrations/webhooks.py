"""Webhooks: admins register a URL and the events it wants; each event becomes a signed
delivery, recorded in the transaction that caused it and sent by the job queue.

Signature: `X-FieldForce-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
with the webhook's secret. A receiver recomputes it and refuses a `t` older than a few
minutes (replay). A failed try is retried with backoff (base x 4^n); a delivery that
runs out of tries is `failed`; after `WEBHOOK_DISABLE_AFTER` failed deliveries in a row
the webhook is switched off and the organisation's admins get a notification.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import system_actor
from server.access.policy import WriteContext
from server.config import Settings
from server.db import defer_in_transaction
from server.errors import InvalidInput
from server.models import User, Webhook, WebhookDelivery
from server.notifications.service import notify
from shared.enums import Role

SIGNATURE_HEADER = "X-FieldForce-Signature"
# The record events, named as the workflow triggers that fire on writes (a test keeps the two
# lists equal); time-based triggers reach a webhook through a rule's call_webhook action.
EVENTS: tuple[str, ...] = (
    "lead_created",
    "visit_completed",
    "opportunity_stage_changed",
    "order_recorded",
    "tier_changed",
)
_WEBHOOKS_KEY = "webhooks_by_event"


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None, tolerance_s: int = 300) -> bool:
    """What a receiver does (the tests' receiver uses it): the signature matches and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


# ---- registering ------------------------------------------------------------------------------


def check_url(url: str, settings: Settings, own_origins: list[str]) -> str:
    """An http(s) URL that is not this server (and not a private address in production)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url: an http:// or https:// URL", code="INVALID_WEBHOOK_URL", extra={"field": "url"})
    if parts.username or parts.password:
        raise InvalidInput(
            "url: put no credentials in the URL; deliveries are signed",
            code="INVALID_WEBHOOK_URL",
            extra={"field": "url"},
        )
    target = _origin(url)
    if target in {_origin(origin) for origin in [settings.public_url, *own_origins]}:
        raise InvalidInput(
            "url: a webhook cannot point at this server itself", code="WEBHOOK_URL_IS_SELF", extra={"field": "url"}
        )
    if not host_allowed(settings, parts.hostname):
        raise InvalidInput(
            "url: loopback and private addresses are refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS)",
            code="WEBHOOK_URL_PRIVATE",
            extra={"field": "url"},
        )
    return url


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in ("localhost", "::1", "0.0.0.0") or host.startswith("127."):
        host = "loopback"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port


def is_private_host(hostname: str) -> bool:
    """Does the name resolve to a loopback, private, link-local or reserved address?"""
    try:
        infos = socket.getaddrinfo(hostname, None)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable now: the delivery will fail and be logged
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback or address.is_private or address.is_link_local or address.is_reserved:
            return True
    return False


def host_allowed(settings: Settings, hostname: str) -> bool:
    """Checked when registering and again before each try (a name can change address)."""
    return settings.allows_private_webhooks or not is_private_host(hostname)


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidInput(
            f"events: {', '.join(unknown)} not known; use {', '.join(EVENTS)}",
            code="UNKNOWN_EVENT",
            extra={"field": "events"},
        )
    if not events:
        raise InvalidInput("events: name at least one event", code="UNKNOWN_EVENT", extra={"field": "events"})
    return sorted(set(events))


# ---- queueing -----------------------------------------------------------------------------------


def _subscribed(session: Session, org_id: uuid.UUID, event: str) -> list[Webhook]:
    """Active webhooks per event, read once per transaction."""
    cache: dict[uuid.UUID, list[Webhook]] = session.info.setdefault(_WEBHOOKS_KEY, {})
    hooks = cache.get(org_id)
    if hooks is None:
        hooks = list(
            session.scalars(
                select(Webhook).where(Webhook.org_id == org_id, Webhook.active, Webhook.deleted_at.is_(None))
            )
        )
        cache[org_id] = hooks
    return [hook for hook in hooks if event in hook.events]


def forget_webhooks(session: Session) -> None:
    session.info.pop(_WEBHOOKS_KEY, None)


def queue_event(
    session: Session, org_id: uuid.UUID, event: str, entity: str, payload: Callable[[], dict[str, Any]]
) -> None:
    """`payload` is built only when a webhook wants the event (most writes have none)."""
    hooks = _subscribed(session, org_id, event)
    if not hooks:
        return
    body = payload()
    for hook in hooks:
        queue_delivery(session, hook, event, entity, body)


def queue_delivery(
    session: Session,
    webhook: Webhook,
    event: str,
    entity: str,
    payload: dict[str, Any],
    *,
    rule_id: uuid.UUID | None = None,
) -> WebhookDelivery:
    delivery_id = uuid.uuid4()
    body = {
        "id": str(delivery_id),
        "event": event,
        "entity": entity,
        "occurred_at": datetime.now(UTC).isoformat(),
        "organization_id": str(webhook.org_id),
        "rule_id": str(rule_id) if rule_id else None,
        "data": payload,
    }
    delivery = WebhookDelivery(
        id=delivery_id,
        org_id=webhook.org_id,
        webhook_id=webhook.id,
        event=event,
        body=json.dumps(body, separators=(",", ":"), sort_keys=True, default=str),
        status="pending",
    )
    session.add(delivery)
    session.flush()
    defer_in_transaction(session, "fieldforce:deliver_webhook", {"delivery_id": str(delivery_id)})
    return delivery


# ---- delivering -----------------------------------------------------------------------------------


def attempt_delivery(
    session: Session, delivery_id: uuid.UUID, settings: Settings, *, client: httpx.Client | None = None
) -> str:
    """One try of one delivery (the job); returns its status afterwards. A delivery being
    tried by another worker is left alone."""
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update(skip_locked=True)
    )
    if delivery is None or delivery.status in ("delivered", "failed"):
        return delivery.status if delivery is not None else "missing"
    webhook = session.get(Webhook, delivery.webhook_id)
    if webhook is None or webhook.deleted_at is not None or not webhook.active:
        delivery.status, delivery.error = "failed", "the webhook was removed or switched off"
        session.flush()
        return delivery.status
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "FieldForce-Webhooks/1",
        SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
        "X-FieldForce-Event": delivery.event,
        "X-FieldForce-Delivery": str(delivery.id),
    }
    delivery.attempts += 1
    error: str | None = None
    status_code: int | None = None
    host = urlsplit(webhook.url).hostname or ""
    if not host_allowed(settings, host):
        error = "the URL now resolves to a private address; refused"
    else:
        try:
            http = client or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
            try:
                response = http.post(webhook.url, content=body, headers=headers)
            finally:
                if client is None:
                    http.close()
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"the receiver answered {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
    delivery.response_status = status_code
    delivery.error = error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", datetime.now(UTC), None
        webhook.consecutive_failures = 0
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.status, delivery.next_attempt_at = "failed", None
        webhook.consecutive_failures += 1
        if webhook.consecutive_failures >= settings.webhook_disable_after:
            _switch_off(session, webhook)
    else:
        wait = settings.webhook_retry_base_seconds * 4 ** (delivery.attempts - 1)
        delivery.status = "retrying"
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=wait)
        defer_in_transaction(
            session,
            "fieldforce:deliver_webhook",
            {"delivery_id": str(delivery.id)},
            scheduled_at=delivery.next_attempt_at,
        )
    session.flush()
    return delivery.status


def _switch_off(session: Session, webhook: Webhook) -> None:
    webhook.active = False
    webhook.disabled_at = datetime.now(UTC)
    webhook.disabled_reason = f"{webhook.consecutive_failures} deliveries in a row failed"
    ctx = WriteContext(session, system_actor(webhook.org_id))
    admins = session.scalars(
        select(User.id).where(
            User.org_id == webhook.org_id, User.role == Role.admin, User.active, User.deleted_at.is_(None)
        )
    )
    for admin in admins:
        notify(
            ctx,
            admin,
            kind="webhook_disabled",
            title=f"Webhook switched off: {webhook.url[:200]}",
            body=f"{webhook.disabled_reason}. Fix the receiver, then switch it on again.",
            entity="webhook",
            entity_id=webhook.id,
        )
