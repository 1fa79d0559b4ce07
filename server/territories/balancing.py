"""Propose (and separately apply) moving customers between a manager's reps to even out workloads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.balance import BalanceCustomer, BalanceRep, balance
from server.access.actor import Actor
from server.access.policy import WriteContext
from server.api.resource import ResourceSpec
from server.api.schemas import StrictModel
from server.errors import Forbidden, InvalidInput, NotFound
from server.geo import point_out
from server.models import Customer, Territory, TerritoryRep, User
from shared.enums import Role
from shared.geo import haversine_m
from shared.value import visit_frequency_days

DAYS_PER_MONTH = 30.4


class BalanceRequest(StrictModel):
    manager_id: uuid.UUID | None = Field(
        default=None, description="Required for admins; a manager balances their own team"
    )
    tolerance: float = Field(default=0.10, gt=0, le=0.5, description="Allowed deviation from the mean workload")
    time_limit_s: float = Field(default=10.0, ge=1, le=60)


class Move(StrictModel):
    customer_id: uuid.UUID
    to_territory_id: uuid.UUID
    row_version: int = Field(ge=1, description="The customer's row_version in the proposal; 412 if it changed")


class ApplyRequest(StrictModel):
    moves: list[Move] = Field(max_length=5_000)


def _team_manager(session: Session, actor: Actor, requested: uuid.UUID | None) -> uuid.UUID:
    if actor.is_rep:
        raise Forbidden("Only managers and admins balance territories", code="ROLE_FORBIDDEN")
    if actor.is_manager:
        if requested not in (None, actor.user_id):
            raise NotFound(f"manager {requested} not found")
        return actor.user_id
    if requested is None:
        raise InvalidInput("manager_id: whose team to balance", code="VALIDATION_FAILED", extra={"field": "manager_id"})
    found = session.scalar(
        select(User.id).where(
            User.org_id == actor.org_id, User.id == requested, User.role == Role.manager, User.deleted_at.is_(None)
        )
    )
    if found is None:
        raise NotFound(f"manager {requested} not found")
    return requested


@dataclass(frozen=True)
class _TeamMap:
    """Who works which territory in the team, with each territory's centre."""

    territories_of: dict[uuid.UUID, list[tuple[uuid.UUID, float, float]]]  # rep -> (territory, lat, lon)
    rep_of_territory: dict[uuid.UUID, uuid.UUID]


def propose(session: Session, actor: Actor, request: BalanceRequest) -> dict[str, Any]:
    """A proposal that evens the team's monthly workloads; nothing is written."""
    manager = _team_manager(session, actor, request.manager_id)
    reps = _team_reps(session, actor, manager)
    team = _team_map(session, actor, [rep_id for rep_id, _ in reps])
    model_reps = _balance_reps(reps, team)
    if len(model_reps) < 2:
        raise InvalidInput("Balancing needs at least two reps with territories in the team", code="NOTHING_TO_BALANCE")
    rows = _team_customers(session, actor, team)
    customers = [
        BalanceCustomer(
            str(row.id),
            lat,
            lon,
            DAYS_PER_MONTH / visit_frequency_days(row.tier, row.visit_frequency_days),
            str(team.rep_of_territory[territory_id]),
        )
        for row, territory_id, lat, lon in rows
    ]
    result = balance(customers, model_reps, tolerance=request.tolerance, time_limit=request.time_limit_s)
    return {
        "manager_id": str(manager),
        "tolerance": request.tolerance,
        "within_tolerance": result.within_tolerance,
        "mean_workload_h": result.mean_after_h,
        "reps": [
            {
                "rep_id": rep.id,
                "workload_before_h": result.workload_before_h[rep.id],
                "workload_after_h": result.workload_after_h[rep.id],
                "customers_before": sum(1 for c in customers if c.current_rep == rep.id),
                "customers_after": sum(1 for r in result.assignment.values() if r == rep.id),
            }
            for rep in model_reps
        ],
        "moves": _moves(rows, result.moved, result.assignment, team),
        "solver_status": result.status,
    }


def _team_reps(session: Session, actor: Actor, manager: uuid.UUID) -> list[tuple[uuid.UUID, Any]]:
    """The manager's live reps and their home locations, in id order."""
    return [
        (rep_id, home)
        for rep_id, home in session.execute(
            select(User.id, User.home_location)
            .where(
                User.org_id == actor.org_id,
                User.manager_id == manager,
                User.role == Role.rep,
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        )
    ]


def _team_map(session: Session, actor: Actor, rep_ids: list[uuid.UUID]) -> _TeamMap:
    links = session.execute(
        select(
            TerritoryRep.user_id,
            TerritoryRep.territory_id,
            func.ST_Y(func.ST_Centroid(Territory.geometry)),
            func.ST_X(func.ST_Centroid(Territory.geometry)),
        )
        .join(Territory, Territory.id == TerritoryRep.territory_id)
        .where(
            TerritoryRep.org_id == actor.org_id,
            TerritoryRep.user_id.in_(rep_ids),
            Territory.deleted_at.is_(None),
        )
        .order_by(TerritoryRep.user_id, TerritoryRep.territory_id)
    ).all()
    territories_of: dict[uuid.UUID, list[tuple[uuid.UUID, float, float]]] = {}
    rep_of_territory: dict[uuid.UUID, uuid.UUID] = {}
    for user_id, territory_id, lat, lon in links:
        territories_of.setdefault(user_id, []).append((territory_id, lat, lon))
        # A territory shared by two reps counts for the first: one owner per customer in the model.
        rep_of_territory.setdefault(territory_id, user_id)
    return _TeamMap(territories_of, rep_of_territory)


def _balance_reps(reps: list[tuple[uuid.UUID, Any]], team: _TeamMap) -> list[BalanceRep]:
    """Reps with at least one territory, placed at home (or at their territories' centre)."""
    model_reps = []
    for rep_id, home in reps:
        owned = team.territories_of.get(rep_id)
        if not owned:
            continue  # a rep without a territory has nothing to balance
        spot = point_out(home) or {
            "lat": sum(t[1] for t in owned) / len(owned),
            "lon": sum(t[2] for t in owned) / len(owned),
        }
        model_reps.append(BalanceRep(str(rep_id), spot["lat"], spot["lon"]))
    return model_reps


def _team_customers(session: Session, actor: Actor, team: _TeamMap) -> list[tuple[Customer, uuid.UUID, float, float]]:
    """The located customers of the team's territories, with their territory and position."""
    rows = session.scalars(
        select(Customer).where(
            Customer.org_id == actor.org_id,
            Customer.deleted_at.is_(None),
            Customer.location.is_not(None),
            Customer.territory_id.in_(list(team.rep_of_territory)),
        )
    ).all()
    located = []
    for row in rows:
        spot = point_out(row.location)
        if spot is not None and row.territory_id is not None:
            located.append((row, row.territory_id, spot["lat"], spot["lon"]))
    return located


def _moves(
    rows: list[tuple[Customer, uuid.UUID, float, float]],
    moved: list[str],
    assignment: dict[str, str],
    team: _TeamMap,
) -> list[dict[str, Any]]:
    """Each moved customer goes to the new rep's territory nearest to it."""
    by_id = {str(row.id): (row, territory_id, lat, lon) for row, territory_id, lat, lon in rows}
    moves = []
    for customer_id in moved:
        row, territory_id, lat, lon = by_id[customer_id]
        target = uuid.UUID(assignment[customer_id])
        nearest = min(team.territories_of[target], key=lambda t: haversine_m(t[1], t[2], lat, lon))[0]
        moves.append(
            {
                "customer_id": customer_id,
                "name": row.name,
                "from_rep_id": str(team.rep_of_territory[territory_id]),
                "to_rep_id": str(target),
                "to_territory_id": str(nearest),
                "row_version": row.row_version,
            }
        )
    return moves


def apply(ctx: WriteContext, customers: ResourceSpec[Customer], request: ApplyRequest) -> dict[str, Any]:
    """Move the customers as proposed; any customer changed since the proposal fails the whole call (412)."""
    if ctx.actor.is_rep:
        raise Forbidden("Only managers and admins balance territories", code="ROLE_FORBIDDEN")
    update_schema = customers.update_schema
    for move in request.moves:
        customers.update(ctx, move.customer_id, update_schema(territory_id=move.to_territory_id), move.row_version)
    return {"applied": len(request.moves)}
