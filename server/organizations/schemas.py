"""Organisation settings: what planning, check-in verification and maps read."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from server.api.schemas import CountryCode, StrictModel
from shared.enums import OpportunityStage, Tier

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    return value


Clock = Annotated[str, AfterValidator(_clock)]
VisitFrequencies = dict[Tier, Annotated[int, Field(ge=1, le=365)]]
ServiceMinutes = dict[Tier, Annotated[int, Field(ge=1, le=480)]]
VerificationRadii = dict[Tier, Annotated[float, Field(ge=10, le=5_000)]]
StageProbabilities = dict[OpportunityStage, Annotated[int, Field(ge=0, le=100)]]


class Lunch(StrictModel):
    window: tuple[Clock, Clock] = Field(description="When lunch may start: [from, to], local time")
    minutes: int = Field(ge=1, le=240)

    @model_validator(mode="after")
    def _ordered(self) -> Lunch:
        if self.window[0] >= self.window[1]:
            raise ValueError(f"lunch window {list(self.window)} ends before it starts")
        return self


class OrganizationSettings(BaseModel):
    """The settings in force: what is stored, with the defaults filled in."""

    timezone: str = Field(description="IANA zone; working hours, visit windows and workdays are local times")
    default_country: str = Field(description="ISO 3166-1 alpha-2, for phone numbers typed without a country code")
    visit_frequency_days: dict[Tier, int] = Field(description="Days between visits per tier (a customer's own wins)")
    service_minutes: dict[Tier, int] = Field(description="Minutes on site per tier (a customer's own wins)")
    lunch: Lunch
    verification_radius_m: dict[Tier, float] = Field(description="How near a check-in must be, per tier")
    map_tile_url: str = Field(description="{z}/{x}/{y} tile URL template; empty: vector drawings only")
    map_attribution: str
    stage_probabilities: dict[OpportunityStage, int] = Field(
        description="Default win probability (%) per opportunity stage"
    )
    churn_margin: float = Field(description="At risk: days since the last order > usual interval x this")
    at_risk_visit_factor: float = Field(description="An at-risk customer's visit frequency is multiplied by this")


class OrganizationSettingsUpdate(StrictModel):
    """A PATCH: only the settings sent change; per-tier maps change only the tiers they name."""

    timezone: str | None = Field(default=None, max_length=64)
    default_country: CountryCode | None = None
    visit_frequency_days: VisitFrequencies | None = None
    service_minutes: ServiceMinutes | None = None
    lunch: Lunch | None = None
    verification_radius_m: VerificationRadii | None = None
    map_tile_url: str | None = Field(default=None, max_length=500)
    map_attribution: str | None = Field(default=None, max_length=300)
    stage_probabilities: StageProbabilities | None = None
    churn_margin: float | None = Field(default=None, ge=1, le=10)
    at_risk_visit_factor: float | None = Field(default=None, ge=0.1, le=1)
