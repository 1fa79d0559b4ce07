"""Who sees and records absences.

Everyone sees the organisation's holidays and the absences of the people they
see; a rep records their own days off, a manager their team's, an admin
anyone's and the organisation-wide holidays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_

from server.absences.service import check_absence_dates
from server.access.actor import Actor
from server.access.fields import reject_nulls
from server.access.policy import Policy, WriteContext
from server.access.references import check_user_ref
from server.access.visibility import sees_person
from server.errors import Forbidden, InvalidInput
from server.models import Absence


class AbsencePolicy(Policy[Absence]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        return or_(Absence.user_id.is_(None), sees_person(actor, Absence.user_id))

    def refused_fields(self, ctx: WriteContext, obj: Absence | None, values: Mapping[str, Any]) -> list[str]:
        if obj is not None:
            return []
        refused = []
        if values.get("organisation_wide") and not ctx.actor.is_admin:
            refused.append("organisation_wide")
        if ctx.actor.is_rep and values.get("user_id") not in (None, ctx.actor.user_id):
            refused.append("user_id")
        return refused

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        check_absence_dates(values["starts_on"], values["ends_on"])
        if values.pop("organisation_wide", False):
            if values.get("user_id") is not None:
                raise InvalidInput(
                    "An organisation-wide absence names no user", code="INVALID_INPUT", extra={"field": "user_id"}
                )
            return
        if values.get("user_id") is None:
            values["user_id"] = ctx.actor.user_id
        elif not ctx.actor.is_rep:
            check_user_ref(ctx.session, ctx.actor, values["user_id"], "user_id")

    def before_update(self, ctx: WriteContext, obj: Absence, changes: dict[str, Any]) -> None:
        self._check_holiday_writer(ctx.actor, obj)
        reject_nulls(changes, {"starts_on", "ends_on", "kind"})
        # A PATCH of one end is checked against the other as stored.
        check_absence_dates(changes.get("starts_on", obj.starts_on), changes.get("ends_on", obj.ends_on))

    def before_delete(self, ctx: WriteContext, obj: Absence) -> None:
        self._check_holiday_writer(ctx.actor, obj)

    def _check_holiday_writer(self, actor: Actor, obj: Absence) -> None:
        if obj.user_id is None and not actor.is_admin:
            raise Forbidden("Only admins change the organisation's holidays", code="ROLE_FORBIDDEN")
