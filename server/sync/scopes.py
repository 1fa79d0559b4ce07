"""Which sync scopes a caller may pull.

A scope is `territory:<id>` (the customers of a territory and their records)
or `user:<id>` (a person's own visits, tasks, plans, absences and the customers
they own); everyone has `organisation` (its holidays); admins also have
`unassigned` (customers with neither). Which scopes a
*row* belongs to is defined once, in SQL (`ff_row_scopes`, migration 0004).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.access.visibility import may_see_person, may_see_territory
from server.errors import AppError
from server.models import Territory, User
from shared.sync.protocol import ORGANISATION_SCOPE, personal_scope, territory_scope

UNASSIGNED = "unassigned"


class ScopeForbidden(AppError):
    status, code, title = 403, "SCOPE_FORBIDDEN", "Scope not allowed"


def scopes_for(session: Session, actor: Actor) -> list[str]:
    if actor.is_admin:
        territories = session.scalars(
            select(Territory.id).where(Territory.org_id == actor.org_id, Territory.deleted_at.is_(None))
        )
        users = session.scalars(select(User.id).where(User.org_id == actor.org_id, User.deleted_at.is_(None)))
        every = [territory_scope(str(t)) for t in territories] + [personal_scope(str(u)) for u in users]
        return [*sorted(every), ORGANISATION_SCOPE, UNASSIGNED]
    return [
        *sorted(
            [territory_scope(str(t)) for t in actor.territory_ids] + [personal_scope(str(u)) for u in actor.team_ids]
        ),
        ORGANISATION_SCOPE,
    ]


def _in_organisation(session: Session, actor: Actor, model: type[Territory] | type[User], key: uuid.UUID) -> bool:
    """The tenant wall for an id the actor's role would let them see (a deleted one still
    pulls, so its tombstones reach the phones)."""
    if not actor.is_admin:
        return True  # the actor's own ids were loaded from their organisation
    return session.scalar(select(model.id).where(model.org_id == actor.org_id, model.id == key)) is not None


def check_scope(session: Session, actor: Actor, scope: str) -> None:
    """403 unless the caller may pull `scope`: one answer for "not yours", "another
    organisation's" and "does not exist", so a scope name reveals nothing."""
    kind, _, ident = scope.partition(":")
    if scope == UNASSIGNED:
        allowed = actor.is_admin
    elif scope == ORGANISATION_SCOPE:
        allowed = True  # the caller's own organisation: the change log is read by org_id
    else:
        try:
            key = uuid.UUID(ident)
        except ValueError:
            raise ScopeForbidden(f"{scope!r} is not a scope", code="INVALID_SCOPE", status=400) from None
        if kind == "territory":
            allowed = may_see_territory(actor, key) and _in_organisation(session, actor, Territory, key)
        elif kind == "user":
            allowed = may_see_person(actor, key) and _in_organisation(session, actor, User, key)
        else:
            raise ScopeForbidden(f"{scope!r} is not a scope", code="INVALID_SCOPE", status=400)
    if not allowed:
        raise ScopeForbidden(f"You may not pull {scope}")
