"""`/webhooks`: admins register URLs and events, and read every delivery's outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.api.pagination import decode_cursor, encode_cursor
from server.api.router_factory import PROBLEM_RESPONSES
from server.api.schemas import StrictModel
from server.deps import AppSettings, CurrentActor, DbSession
from server.errors import Forbidden, InvalidInput, NotFound
from server.integrations.webhooks import EVENTS, check_events, check_url, forget_webhooks, new_secret
from server.models import Webhook, WebhookDelivery
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)

_EVENTS_HELP = "Events to deliver: " + ", ".join(EVENTS)


class WebhookCreate(StrictModel):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=len(EVENTS), description=_EVENTS_HELP)
    description: str | None = Field(default=None, max_length=300)


class WebhookUpdate(StrictModel):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENTS))
    description: str | None = Field(default=None, max_length=300)
    active: bool | None = Field(default=None, description="true switches a webhook that was switched off back on")


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery; shown only now, keep it")


class WebhookPage(BaseModel):
    items: list[WebhookRead]


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event: str
    status: str = Field(description="pending | retrying | delivered | failed")
    attempts: int
    response_status: int | None
    error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    body: str = Field(description="The exact JSON sent (and signed)")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = None


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins manage webhooks", code="ROLE_FORBIDDEN")


def _own_origins(request: Request) -> list[str]:
    return [str(request.base_url)]


def _get(session: Session, actor: Actor, webhook_id: uuid.UUID, *, for_update: bool = False) -> Webhook:
    _admin(actor)
    stmt = select(Webhook).where(Webhook.org_id == actor.org_id, Webhook.id == webhook_id, Webhook.deleted_at.is_(None))
    hook = session.scalar(stmt.with_for_update() if for_update else stmt)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return hook


def _read(hook: Webhook) -> dict[str, Any]:
    return {name: getattr(hook, name) for name in WebhookRead.model_fields}


@router.get("", response_model=WebhookPage, summary="The organisation's webhooks (admins)")
def list_webhooks(session: DbSession, actor: CurrentActor) -> WebhookPage:
    _admin(actor)
    hooks = session.scalars(
        select(Webhook).where(Webhook.org_id == actor.org_id, Webhook.deleted_at.is_(None)).order_by(Webhook.created_at)
    )
    return WebhookPage(items=[WebhookRead.model_validate(_read(h)) for h in hooks])


@router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED, summary="Register a webhook")
def create_webhook(
    payload: WebhookCreate, request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings
) -> WebhookCreated:
    _admin(actor)
    hook = Webhook(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        url=check_url(payload.url, settings, _own_origins(request)),
        events=check_events(payload.events),
        description=payload.description,
        secret=new_secret(),
        created_by=actor.user_id,
    )
    session.add(hook)
    session.flush()
    forget_webhooks(session)
    return WebhookCreated.model_validate(_read(hook) | {"secret": hook.secret})


@router.get("/{webhook_id}", response_model=WebhookRead, summary="One webhook")
def get_webhook(webhook_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> WebhookRead:
    return WebhookRead.model_validate(_read(_get(session, actor, webhook_id)))


@router.patch("/{webhook_id}", response_model=WebhookRead, summary="Change a webhook, or switch it back on")
def change_webhook(
    webhook_id: uuid.UUID,
    payload: WebhookUpdate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> WebhookRead:
    hook = _get(session, actor, webhook_id, for_update=True)
    changes = payload.model_dump(exclude_unset=True)
    for name in ("url", "events", "active"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", extra={"field": name})
    if "url" in changes:
        hook.url = check_url(changes["url"], settings, _own_origins(request))
    if "events" in changes:
        hook.events = check_events(changes["events"])
    if "description" in changes:
        hook.description = changes["description"]
    if changes.get("active") is True and not hook.active:
        hook.active, hook.consecutive_failures, hook.disabled_at, hook.disabled_reason = True, 0, None, None
    elif changes.get("active") is False:
        hook.active, hook.disabled_reason = False, "switched off by an admin"
    session.flush()
    forget_webhooks(session)
    return WebhookRead.model_validate(_read(hook))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a webhook")
def delete_webhook(webhook_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    hook = _get(session, actor, webhook_id, for_update=True)
    hook.deleted_at = datetime.now(UTC)
    hook.active = False
    session.flush()
    forget_webhooks(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage, summary="Deliveries, newest first")
def list_deliveries(
    webhook_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryPage:
    hook = _get(session, actor, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if cursor:
        last = session.get(WebhookDelivery, decode_cursor(cursor))
        if last is not None and last.webhook_id == hook.id:
            stmt = stmt.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(last.created_at, last.id))
    rows = list(
        session.scalars(stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1))
    )
    page = rows[:limit]
    return DeliveryPage(
        items=[DeliveryRead.model_validate({n: getattr(d, n) for n in DeliveryRead.model_fields}) for d in page],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > limit and page else None,
    )
