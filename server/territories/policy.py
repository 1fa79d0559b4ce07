"""Territories: admins and managers shape them; reps see the ones they work."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, select, true
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.api.resource import Policy, WriteContext
from server.errors import Forbidden, InvalidInput
from server.models import Territory, TerritoryRep, User
from server.territories.geojson import area_problem, normalised
from shared.enums import Role


class TerritoryPolicy(Policy[Territory]):
    def visible(self, actor: Actor) -> ColumnElement[bool]:
        if actor.is_admin:
            return true()
        return Territory.id.in_(actor.territory_ids)

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
            User.org_id == ctx.actor.org_id, User.id.in_(wanted), User.deleted_at.is_(None), User.role == Role.rep
        )
        if ctx.actor.is_manager:
            stmt = stmt.where(User.id.in_(ctx.actor.team_ids))
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
        for required in ("name", "geometry", "color"):
            if required in changes and changes[required] is None:
                raise InvalidInput(f"{required} cannot be null", extra={"field": required})
        self._check_reps(ctx, changes.get("rep_ids"))

    def before_delete(self, ctx: WriteContext, obj: Territory) -> None:
        self._check_writer(ctx.actor)


def geometry_value(ctx: WriteContext, values: dict[str, Any]) -> None:
    """GeoJSON -> a normalised MultiPolygon, or 422 with the problem's code (SELF_INTERSECTION, ...)."""
    area = values.get("geometry")
    if area is None:
        return
    problem = area_problem(ctx.session, area)
    if problem is not None:
        raise InvalidInput(f"geometry: {problem.detail}", code=problem.code, extra={"field": "geometry"})
    values["geometry"] = normalised(area)


def set_reps(ctx: WriteContext, territory: Territory, relations: dict[str, Any]) -> None:
    rep_ids = relations.get("rep_ids")
    if rep_ids is None:
        return
    ctx.session.execute(
        delete(TerritoryRep).where(TerritoryRep.org_id == territory.org_id, TerritoryRep.territory_id == territory.id)
    )
    ctx.session.add_all(
        TerritoryRep(org_id=territory.org_id, territory_id=territory.id, user_id=rep_id) for rep_id in set(rep_ids)
    )
    # A change of assignment is a change of the territory (sync scopes follow it).
    territory.row_version += 1


def add_rep_ids(session: Session, territories: list[Territory], rows: list[dict[str, Any]]) -> None:
    links = session.execute(
        select(TerritoryRep.territory_id, TerritoryRep.user_id).where(
            TerritoryRep.territory_id.in_([t.id for t in territories])
        )
    ).all()
    by_territory: dict[uuid.UUID, list[uuid.UUID]] = {}
    for territory_id, user_id in links:
        by_territory.setdefault(territory_id, []).append(user_id)
    for territory, row in zip(territories, rows, strict=True):
        row["rep_ids"] = sorted(by_territory.get(territory.id, []))
