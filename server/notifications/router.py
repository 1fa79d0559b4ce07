"""A user's notifications: `GET /notifications`, `POST /notifications/{id}/read`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import CurrentActor, DbSession
from server.notifications.resources import notification_resource
from server.notifications.schemas import NotificationPage, NotificationRead
from server.notifications.service import list_notifications, mark_read
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/notifications", tags=["notifications"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES
)


@router.get("", response_model=NotificationPage, summary="The caller's notifications, newest first")
def get_notifications(
    session: DbSession,
    actor: CurrentActor,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NotificationPage:
    return NotificationPage.model_validate(
        list_notifications(session, actor, unread_only=unread, limit=limit, cursor=cursor)
    )


@router.post("/{notification_id}/read", response_model=NotificationRead, summary="Mark one notification read")
def read_notification(notification_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> NotificationRead:
    obj = mark_read(session, actor, notification_id)
    return NotificationRead.model_validate(notification_resource.to_dict(obj))
