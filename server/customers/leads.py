"""Who a new lead goes to, on every way in (API, phone, import).

1. The rep whose territory contains it (`territory`): the rep who captured it when it
   is their territory, else of the territory's reps the one with the fewest open leads.
2. Else, when a rep captured it, that rep (`manual`, as when a manager names the owner).
3. Else round-robin among the creating manager's active reps (`round_robin`).
4. Else nobody: it waits in the admins' unassigned queue (`unassigned`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.models import Customer, LeadRoundRobin, TerritoryRep, User
from shared.enums import CustomerStatus, Role


class LeadAssignment:
    territory = "territory"
    round_robin = "round_robin"
    manual = "manual"
    unassigned = "unassigned"


def _active_reps(session: Session, org_id: uuid.UUID) -> Any:
    return select(User.id).where(User.org_id == org_id, User.role == Role.rep, User.active, User.deleted_at.is_(None))


def territory_rep(session: Session, org_id: uuid.UUID, territory_id: uuid.UUID) -> uuid.UUID | None:
    """The territory's active rep with the fewest open leads (ties: the lowest id)."""
    open_leads = (
        select(func.count())
        .where(
            Customer.org_id == org_id,
            Customer.owner_id == TerritoryRep.user_id,
            Customer.status == CustomerStatus.lead,
            Customer.deleted_at.is_(None),
        )
        .correlate(TerritoryRep)
        .scalar_subquery()
    )
    return session.scalar(
        select(TerritoryRep.user_id)
        .where(
            TerritoryRep.org_id == org_id,
            TerritoryRep.territory_id == territory_id,
            TerritoryRep.user_id.in_(_active_reps(session, org_id)),
        )
        .order_by(open_leads, TerritoryRep.user_id)
        .limit(1)
    )


def next_round_robin_rep(session: Session, org_id: uuid.UUID, manager_id: uuid.UUID) -> uuid.UUID | None:
    """The manager's next active rep after the one who got the last lead (by id, wrapping)."""
    reps = list(session.scalars(_active_reps(session, org_id).where(User.manager_id == manager_id).order_by(User.id)))
    if not reps:
        return None
    # Lock the pointer row: two leads created at once go to two different reps.
    last = session.scalar(
        select(LeadRoundRobin.last_rep_id)
        .where(LeadRoundRobin.org_id == org_id, LeadRoundRobin.manager_id == manager_id)
        .with_for_update()
    )
    chosen: uuid.UUID = next((rep for rep in reps if last is not None and rep > last), reps[0])
    session.execute(
        insert(LeadRoundRobin)
        .values(org_id=org_id, manager_id=manager_id, last_rep_id=chosen)
        .on_conflict_do_update(index_elements=["org_id", "manager_id"], set_={"last_rep_id": chosen})
    )
    return chosen


def assign_new_lead(session: Session, creator: Actor | None, values: dict[str, Any]) -> None:
    """Set `owner_id` and `assigned_by` on a new lead's values (creator None: an import)."""
    if values.get("status", CustomerStatus.lead) != CustomerStatus.lead:
        return
    org_id = creator.org_id if creator is not None else values["org_id"]
    if values.get("owner_id") is not None and (creator is None or not creator.is_rep):
        values["assigned_by"] = LeadAssignment.manual
        return
    territory_id = values.get("territory_id")
    owner: uuid.UUID | None = None
    if territory_id is not None:
        # A rep who captures a lead on their own territory keeps it.
        works_it = creator is not None and creator.is_rep and territory_id in creator.territory_ids
        owner = creator.user_id if works_it and creator is not None else territory_rep(session, org_id, territory_id)
    if owner is not None:
        values["owner_id"], values["assigned_by"] = owner, LeadAssignment.territory
    elif creator is not None and creator.is_rep:
        values["owner_id"], values["assigned_by"] = creator.user_id, LeadAssignment.manual
    elif creator is not None and creator.is_manager and (rep := next_round_robin_rep(session, org_id, creator.user_id)):
        values["owner_id"], values["assigned_by"] = rep, LeadAssignment.round_robin
    else:
        values["owner_id"], values["assigned_by"] = None, LeadAssignment.unassigned
