"""Plans: a rep reads their own; managers their team's; the planner (or a manager) writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from server.access.actor import Actor
from server.access.policy import Policy, WriteContext
from server.access.references import check_user_ref
from server.access.visibility import sees_person
from server.errors import Forbidden
from server.models import Plan


class PlanPolicy(Policy[Plan]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return sees_person(actor, Plan.rep_id)

    def _check_role(self, actor: Actor) -> None:
        if actor.is_rep:
            raise Forbidden("Plans are made by the planner; reps read them", code="ROLE_FORBIDDEN")

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        self._check_role(ctx.actor)
        check_user_ref(ctx.session, ctx.actor, values.get("rep_id"), "rep_id")

    def before_update(self, ctx: WriteContext, obj: Plan, changes: dict[str, Any]) -> None:
        self._check_role(ctx.actor)

    def before_delete(self, ctx: WriteContext, obj: Plan) -> None:
        self._check_role(ctx.actor)
