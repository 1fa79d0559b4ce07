"""The caller's organisation over HTTP: its settings."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import CurrentActor, DbSession
from server.organizations.schemas import OrganizationSettings, OrganizationSettingsUpdate
from server.organizations.settings import change_settings, read_settings
from server.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/organizations/me", tags=["organizations"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES
)


@router.get("/settings", response_model=OrganizationSettings, summary="The settings in force, defaults filled in")
def get_settings(session: DbSession, actor: CurrentActor) -> OrganizationSettings:
    """Everyone in the organisation reads them (the app draws its map with them); admins change them."""
    return read_settings(session, actor)


@router.patch("/settings", response_model=OrganizationSettings, summary="Change settings (admins)")
def patch_settings(body: OrganizationSettingsUpdate, session: DbSession, actor: CurrentActor) -> OrganizationSettings:
    return change_settings(session, actor, body)
