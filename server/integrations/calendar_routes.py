"""`/users/{id}/calendar-feed`: POST makes the secret URL, GET (with it) serves text/calendar,
DELETE revokes it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import sees_person
from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import AppSettings, CurrentActor, DbSession
from server.errors import Forbidden, NotFound
from server.integrations.calendar import create_feed, feed_user, render_feed, revoke_feeds
from server.models import User
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/users", tags=["calendar"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES)


class CalendarFeedCreated(BaseModel):
    url: str = Field(description="Subscribe to this in a calendar app; anyone with it reads the plan")
    created_at: datetime


def _user_for_change(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """The user themselves, their manager or an admin; others get 404 (or 403 for a rep
    naming a colleague they can see... a rep sees only themselves, so 404)."""
    user = session.scalar(
        select(User).where(
            User.org_id == actor.org_id, User.id == user_id, User.deleted_at.is_(None), sees_person(actor, User.id)
        )
    )
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if actor.is_manager and user.id != actor.user_id and user.manager_id != actor.user_id:
        raise Forbidden("Only the user, their manager or an admin manages this feed", code="ROLE_FORBIDDEN")
    return user


@router.post(
    "/{user_id}/calendar-feed",
    response_model=CalendarFeedCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Make (or replace) the secret URL of a user's plan as iCal",
)
def create_calendar_feed(
    user_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings
) -> CalendarFeedCreated:
    user = _user_for_change(session, actor, user_id)
    feed, token = create_feed(session, settings.secret_key, user)
    base = settings.public_url.rstrip("/")
    return CalendarFeedCreated(
        url=f"{base}/api/v1/users/{user.id}/calendar-feed?token={token}", created_at=feed.created_at
    )


@router.get(
    "/{user_id}/calendar-feed",
    summary="The plan as iCal (RFC 5545); the secret token is the credential",
    responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
def read_calendar_feed(
    user_id: uuid.UUID,
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str, Query(min_length=20, max_length=100, description="The secret from POST")],
) -> Response:
    user = feed_user(session, settings.secret_key, user_id, token)
    if user is None:
        # The same answer for a wrong, revoked or foreign secret: nothing to probe.
        raise NotFound("no calendar feed at this address (revoked or never made)", code="FEED_NOT_FOUND")
    return Response(
        render_feed(session, user),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="plan.ics"'},
    )


@router.delete("/{user_id}/calendar-feed", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the secret URL")
def delete_calendar_feed(user_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    revoke_feeds(session, _user_for_change(session, actor, user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
