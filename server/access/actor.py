"""Who is calling and what they may see.

Scopes are computed once per request: an admin sees the whole organisation; a
manager sees their team (themselves and the reps whose manager they are), the
team's territories and everything in them; a rep sees their territories'
customers, customers they own, and their own visits and tasks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import TerritoryRep, User
from shared.enums import Role


@dataclass
class Actor:
    user_id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    email: str
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    territory_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_manager(self) -> bool:
        return self.role is Role.manager

    @property
    def is_rep(self) -> bool:
        return self.role is Role.rep

    @property
    def manages_people(self) -> bool:
        return self.role in (Role.admin, Role.manager)


def load_actor(session: Session, user: User) -> Actor:
    team: set[uuid.UUID] = {user.id}
    if user.role is Role.manager:
        team |= set(
            session.scalars(
                select(User.id).where(User.org_id == user.org_id, User.manager_id == user.id, User.deleted_at.is_(None))
            )
        )
    territories: frozenset[uuid.UUID] = frozenset()
    if user.role is not Role.admin:
        territories = frozenset(
            session.scalars(
                select(TerritoryRep.territory_id).where(
                    TerritoryRep.org_id == user.org_id, TerritoryRep.user_id.in_(team)
                )
            )
        )
    return Actor(
        user_id=user.id,
        org_id=user.org_id,
        role=user.role,
        email=user.email,
        team_ids=frozenset(team),
        territory_ids=territories,
    )


# The email of the actor the server uses for its own writes (a webhook switched off, an
# import, the tier job): never a real user's.
SYSTEM_EMAIL = "system@fieldforce.invalid"


def system_actor(org_id: uuid.UUID) -> Actor:
    """The server itself, acting in an organisation with an admin's reach."""
    return Actor(user_id=uuid.UUID(int=0), org_id=org_id, role=Role.admin, email=SYSTEM_EMAIL)
