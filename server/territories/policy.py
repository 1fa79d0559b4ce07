"""Territories: admins and managers shape them; reps see the ones they work."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, select

from server.access.actor import Actor
from server.access.fields import reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.visibility import sees_person, sees_territory
from server.errors import Forbidden, InvalidInput
from server.models import Territory, User
from shared.enums import Role


class TerritoryPolicy(Policy[Territory]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_territory(actor)

    def _check_writer(self, actor: Actor) -> None:
        if actor.is_rep:
            raise Forbidden("Reps may not change territories", code="ROLE_FORBIDDEN")

    def _check_reps(self, ctx: WriteContext, rep_ids: list[uuid.UUID] | None) -> None:
        if rep_ids is None:
            return
        if ctx.actor.is_manager and not rep_ids:
            # Otherwise the territory would vanish from the manager's own view.
            raise InvalidInput(
                "A manager's territory needs at least one of their reps",
                code="INVALID_REFERENCE",
                extra={"field": "rep_ids"},
            )
        wanted = set(rep_ids)
        stmt = select(User.id).where(
            User.org_id == ctx.actor.org_id,
            User.id.in_(wanted),
            User.deleted_at.is_(None),
            User.role == Role.rep,
            sees_person(ctx.actor, User.id),
        )
        found = set(ctx.session.scalars(stmt))
        if found != wanted:
            raise InvalidInput(
                "rep_ids must name reps you manage in this organisation",
                code="INVALID_REFERENCE",
                extra={"field": "rep_ids", "unknown": sorted(str(i) for i in wanted - found)},
            )

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_writer(ctx.actor)
        # An omitted rep_ids is an empty list for a manager, which _check_reps refuses.
        self._check_reps(ctx, values.get("rep_ids", [] if ctx.actor.is_manager else None))

    def before_update(self, ctx: WriteContext, obj: Territory, changes: dict[str, Any]) -> None:
        self._check_writer(ctx.actor)
        reject_nulls(changes, {"name", "geometry", "color"})
        self._check_reps(ctx, changes.get("rep_ids"))

    def before_delete(self, ctx: WriteContext, obj: Territory) -> None:
        self._check_writer(ctx.actor)
