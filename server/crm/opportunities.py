"""Opportunities: each stage's default probability, and the stage history every write
path records (who moved it, when, from which stage to which)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from server.access.policy import WriteContext
from server.crm.policy import CustomerChildPolicy
from server.models import Opportunity, OpportunityStageChange, Organization
from server.organizations.settings import stage_probabilities
from shared.enums import OpportunityStage


def _default_probability(session: Session, ctx: WriteContext, stage: Any) -> int:
    org = session.get(Organization, ctx.actor.org_id)
    assert org is not None
    return stage_probabilities(org)[OpportunityStage(stage)]


class OpportunityPolicy(CustomerChildPolicy):
    """A stage without a probability takes the stage's default; won is 100 and lost 0
    whatever was sent, so the forecast never counts a closed deal as open."""

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        super().before_create(ctx, values)
        stage = values.setdefault("stage", OpportunityStage.lead)
        if values.get("probability") is None or stage in (OpportunityStage.won, OpportunityStage.lost):
            values["probability"] = _default_probability(ctx.session, ctx, stage)

    def before_update(self, ctx: WriteContext, obj: Opportunity, changes: dict[str, Any]) -> None:
        super().before_update(ctx, obj, changes)
        stage = changes.get("stage")
        if stage is None or stage == obj.stage:
            return
        if "probability" not in changes or stage in (OpportunityStage.won, OpportunityStage.lost):
            changes["probability"] = _default_probability(ctx.session, ctx, stage)


def record_first_stage(ctx: WriteContext, obj: Opportunity) -> None:
    ctx.session.add(
        OpportunityStageChange(
            org_id=obj.org_id, opportunity_id=obj.id, from_stage=None, to_stage=obj.stage, changed_by=_who(ctx)
        )
    )


def record_stage_change(ctx: WriteContext, obj: Opportunity, changes: Mapping[str, Any]) -> None:
    """Before the change is written (the row still holds the old stage)."""
    new = changes.get("stage")
    if new is None or new == obj.stage:
        return
    ctx.session.add(
        OpportunityStageChange(
            org_id=obj.org_id, opportunity_id=obj.id, from_stage=obj.stage, to_stage=new, changed_by=_who(ctx)
        )
    )


def _who(ctx: WriteContext) -> Any:
    # A rule or the server itself writes as an actor without a real user id.
    return None if ctx.actor.user_id.int == 0 else ctx.actor.user_id
