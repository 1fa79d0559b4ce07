"""Who may see and change user accounts.

Admins manage everyone. A manager sees their team and manages their reps (never
roles or reporting lines). A rep sees and edits only their own name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true

from server.access.actor import Actor
from server.api.resource import Policy, WriteContext
from server.auth.security import hash_password
from server.auth.service import revoke_all_sessions
from server.errors import Conflict, Forbidden, InvalidInput
from server.models import User
from shared.enums import Role

MANAGER_EDITABLE = {"email", "full_name", "password", "home_location", "working_hours", "active"}
SELF_EDITABLE = {"full_name"}


def forbid_fields(fields: set[str], allowed: set[str], who: str) -> None:
    refused = sorted(fields - allowed)
    if refused:
        raise Forbidden(
            f"{who} may not change: {', '.join(refused)}",
            code="FIELD_NOT_ALLOWED",
            extra={"fields": refused},
        )


class UserPolicy(Policy[User]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        if actor.is_admin:
            return true()
        return User.id.in_(actor.team_ids)

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

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        actor = ctx.actor
        if actor.is_rep:
            raise Forbidden("Reps may not create users", code="ROLE_FORBIDDEN")
        if actor.is_manager:
            if values["role"] is not Role.rep:
                raise Forbidden("Managers may only create reps", code="ROLE_FORBIDDEN")
            if values.get("manager_id", actor.user_id) != actor.user_id:
                raise Forbidden("Managers create reps for their own team", code="FIELD_NOT_ALLOWED")
            values["manager_id"] = actor.user_id
        self._check_manager_ref(ctx, values.get("manager_id"))
        values["email"] = values["email"].strip().lower()
        values["password_hash"] = hash_password(values.pop("password"))

    def before_update(self, ctx: WriteContext, obj: User, changes: dict[str, Any]) -> None:
        actor = ctx.actor
        is_self = obj.id == actor.user_id
        if actor.is_rep:
            forbid_fields(set(changes), SELF_EDITABLE, "A rep")
        elif actor.is_manager:
            allowed = (SELF_EDITABLE | {"home_location", "working_hours"}) if is_self else MANAGER_EDITABLE
            forbid_fields(set(changes), allowed, "A manager")
        else:
            if is_self and ({"role", "active"} & set(changes)):
                raise Forbidden(
                    "Admins cannot change their own role or deactivate themselves", code="FIELD_NOT_ALLOWED"
                )
            self._check_manager_ref(ctx, changes.get("manager_id"))
        for required in ("email", "password", "role", "active", "working_hours"):
            if required in changes and changes[required] is None:
                raise InvalidInput(f"{required} cannot be null", code="INVALID_INPUT", extra={"field": required})
        if "email" in changes:
            changes["email"] = changes["email"].strip().lower()
        if "password" in changes:
            changes["password_hash"] = hash_password(changes.pop("password"))
            revoke_all_sessions(ctx.session, obj)
        if changes.get("active") is False and obj.active:
            revoke_all_sessions(ctx.session, obj)

    def before_delete(self, ctx: WriteContext, obj: User) -> None:
        if ctx.actor.is_rep:
            raise Forbidden("Reps may not delete users", code="ROLE_FORBIDDEN")
        if obj.id == ctx.actor.user_id:
            raise Conflict("You cannot delete your own account", code="SELF_DELETE")
        obj.active = False
        revoke_all_sessions(ctx.session, obj)
