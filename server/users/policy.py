"""Who may see and change user accounts.

Admins manage everyone. A manager sees their team and manages their reps (never
roles or reporting lines). A rep sees and edits only their own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select

from server.access.actor import Actor
from server.access.fields import fields_outside, reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.visibility import sees_person
from server.errors import Conflict, Forbidden, InvalidInput
from server.models import User
from shared.enums import Role

MANAGER_EDITABLE = {"email", "full_name", "password", "home_location", "working_hours", "active"}
SELF_EDITABLE = {"full_name"}


class UserPolicy(Policy[User]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_person(actor, User.id)

    def _check_manager_ref(self, ctx: WriteContext, manager_id: Any) -> None:
        if manager_id is None:
            return
        manager = ctx.session.scalar(
            select(User).where(User.org_id == ctx.actor.org_id, User.id == manager_id, User.deleted_at.is_(None))
        )
        if manager is None or manager.role is Role.rep:
            raise InvalidInput(
                "manager_id must name a manager or admin of this organisation",
                code="INVALID_REFERENCE",
                extra={"field": "manager_id"},
            )

    def refused_fields(self, ctx: WriteContext, obj: User | None, values: Mapping[str, Any]) -> list[str]:
        actor = ctx.actor
        if obj is None:
            # Managers create reps for their own team only.
            wrong_team = actor.is_manager and values.get("manager_id", actor.user_id) != actor.user_id
            return ["manager_id"] if wrong_team else []
        if actor.is_rep:
            return fields_outside(values, SELF_EDITABLE)
        if actor.is_manager:
            is_self = obj.id == actor.user_id
            return fields_outside(
                values, (SELF_EDITABLE | {"home_location", "working_hours"}) if is_self else MANAGER_EDITABLE
            )
        if obj.id == actor.user_id:
            # An admin cannot lock themselves out.
            return sorted({"role", "active"} & set(values))
        return []

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        actor = ctx.actor
        if actor.is_rep:
            raise Forbidden("Reps may not create users", code="ROLE_FORBIDDEN")
        if actor.is_manager:
            if values["role"] is not Role.rep:
                raise Forbidden("Managers may only create reps", code="ROLE_FORBIDDEN")
            values["manager_id"] = actor.user_id
        self._check_manager_ref(ctx, values.get("manager_id"))

    def before_update(self, ctx: WriteContext, obj: User, changes: dict[str, Any]) -> None:
        if ctx.actor.is_admin:
            self._check_manager_ref(ctx, changes.get("manager_id"))
        reject_nulls(changes, {"email", "password", "role", "active", "working_hours"})

    def before_delete(self, ctx: WriteContext, obj: User) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete users", code="ROLE_FORBIDDEN")
        if obj.id == ctx.actor.user_id:
            raise Conflict("You cannot delete your own account", code="SELF_DELETE")
