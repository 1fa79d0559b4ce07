"""Reading and changing an organisation's settings, with their defaults (PLANNING.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.errors import Forbidden, InvalidInput
from server.models import Organization
from server.organizations.schemas import Lunch, OrganizationSettings, OrganizationSettingsUpdate
from server.tracking.verification import DEFAULT_RADIUS_M
from shared.enums import OpportunityStage, Tier
from shared.value import TIER_VISIT_FREQUENCY_DAYS

DEFAULT_STAGE_PROBABILITIES: dict[OpportunityStage, int] = {
    OpportunityStage.lead: 10,
    OpportunityStage.qualified: 25,
    OpportunityStage.proposal: 50,
    OpportunityStage.negotiation: 75,
    OpportunityStage.won: 100,
    OpportunityStage.lost: 0,
}


def stage_probabilities(org: Organization) -> dict[OpportunityStage, int]:
    """The organisation's values over the defaults."""
    stored: Mapping[str, Any] = org.stage_probabilities or {}
    return {stage: int(stored.get(stage.value, default)) for stage, default in DEFAULT_STAGE_PROBABILITIES.items()}


DEFAULT_SERVICE_MINUTES: dict[Tier, int] = {Tier.A: 45, Tier.B: 30, Tier.C: 20}
DEFAULT_LUNCH = Lunch(window=("12:00", "14:00"), minutes=45)
TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")


def effective_settings(org: Organization) -> OrganizationSettings:
    """Stored values over the defaults, for every tier."""
    return OrganizationSettings(
        timezone=org.timezone,
        default_country=org.default_country,
        visit_frequency_days={t: int(org.visit_frequency_days.get(t, TIER_VISIT_FREQUENCY_DAYS[t])) for t in Tier},
        service_minutes={t: int(org.service_minutes.get(t, DEFAULT_SERVICE_MINUTES[t])) for t in Tier},
        lunch=Lunch.model_validate(org.lunch) if org.lunch else DEFAULT_LUNCH,
        verification_radius_m={t: float(org.verification_radius_m.get(t, DEFAULT_RADIUS_M)) for t in Tier},
        map_tile_url=org.map_tile_url,
        map_attribution=org.map_attribution,
        stage_probabilities=stage_probabilities(org),
        churn_margin=org.churn_margin,
        at_risk_visit_factor=org.at_risk_visit_factor,
    )


def read_settings(session: Session, actor: Actor) -> OrganizationSettings:
    org = session.get(Organization, actor.org_id)
    assert org is not None  # the actor was loaded from it
    return effective_settings(org)


def change_settings(session: Session, actor: Actor, update: OrganizationSettingsUpdate) -> OrganizationSettings:
    """Admins only. Every value is checked before anything is written."""
    if not actor.is_admin:
        raise Forbidden("Only admins change the organisation's settings", code="ROLE_FORBIDDEN")
    changes = update.model_dump(exclude_unset=True)
    nulled = sorted(name for name, value in changes.items() if value is None)
    if nulled:
        raise InvalidInput(f"{nulled[0]} cannot be null", extra={"field": nulled[0]})
    org = session.scalar(select(Organization).where(Organization.id == actor.org_id).with_for_update())
    assert org is not None
    _check_timezone(changes.get("timezone"))
    tile_url = changes.get("map_tile_url", org.map_tile_url)
    attribution = changes.get("map_attribution", org.map_attribution)
    _check_tiles(tile_url, attribution)
    if "stage_probabilities" in changes:
        _check_closed_stages(changes["stage_probabilities"])
    for name in ("visit_frequency_days", "service_minutes", "verification_radius_m", "stage_probabilities"):
        if name in changes:
            # Per-tier maps merge: {"A": 7} changes tier A only.
            setattr(org, name, {**getattr(org, name), **{str(t): v for t, v in changes.pop(name).items()}})
    if "lunch" in changes:
        lunch: dict[str, Any] = changes.pop("lunch")
        org.lunch = {"window": list(lunch["window"]), "minutes": lunch["minutes"]}
    for name, value in changes.items():
        setattr(org, name, value)
    session.flush()
    return effective_settings(org)


def _check_closed_stages(probabilities: dict[OpportunityStage, int]) -> None:
    """Won is certain and lost is gone: the forecast depends on it."""
    fixed = {OpportunityStage.won: 100, OpportunityStage.lost: 0}
    for stage, value in fixed.items():
        if stage in probabilities and probabilities[stage] != value:
            raise InvalidInput(
                f"stage_probabilities: {stage} is always {value}",
                code="INVALID_PROBABILITY",
                extra={"field": "stage_probabilities"},
            )


def _check_timezone(zone: str | None) -> None:
    if zone is None:
        return
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"timezone: {zone!r} is not an IANA time zone (e.g. Europe/Paris)",
            code="INVALID_TIMEZONE",
            extra={"field": "timezone"},
        ) from None


def _check_tiles(url: str, attribution: str) -> None:
    """A tile URL is empty (vectors only) or an http(s) template with {z}, {x} and {y};
    tiles need their attribution shown (the OpenStreetMap tile policy asks for it)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            "map_tile_url: an http(s) URL, or empty for vector drawings only",
            code="INVALID_TILE_URL",
            extra={"field": "map_tile_url"},
        )
    missing = [p for p in TILE_PLACEHOLDERS if p not in url]
    if missing:
        raise InvalidInput(
            f"map_tile_url: the template needs {', '.join(missing)}",
            code="INVALID_TILE_URL",
            extra={"field": "map_tile_url"},
        )
    if not attribution.strip():
        raise InvalidInput(
            "map_attribution: tiles need their attribution shown",
            code="ATTRIBUTION_REQUIRED",
            extra={"field": "map_attribution"},
        )
