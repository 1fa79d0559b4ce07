"""`/workflow-rules`: admins edit rules, managers read them and their runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from server.api.router_factory import PROBLEM_RESPONSES
from server.deps import CurrentActor, DbSession
from server.unit_of_work import UnitOfWorkRoute
from server.workflows import service
from server.workflows.schemas import RuleCreate, RulePage, RuleRead, RuleUpdate, RunPage, TemplatePage

router = APIRouter(
    prefix="/workflow-rules", tags=["workflow rules"], route_class=UnitOfWorkRoute, responses=PROBLEM_RESPONSES
)


@router.get("", response_model=RulePage, summary="The organisation's rules (managers and admins)")
def list_rules(session: DbSession, actor: CurrentActor) -> RulePage:
    return RulePage(items=[RuleRead.model_validate(service.to_read(r)) for r in service.list_rules(session, actor)])


@router.post(
    "",
    response_model=RuleRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a rule, or switch on a built-in template (admins)",
)
def create_rule(payload: RuleCreate, session: DbSession, actor: CurrentActor, response: Response) -> RuleRead:
    rule = service.create_rule(session, actor, payload)
    response.headers["Location"] = f"/api/v1/workflow-rules/{rule.id}"
    return RuleRead.model_validate(service.to_read(rule))


@router.get("/templates", response_model=TemplatePage, summary="The built-in rules an admin can switch on")
def list_templates(actor: CurrentActor) -> TemplatePage:
    return TemplatePage.model_validate({"items": service.list_templates(actor)})


@router.get("/{rule_id}", response_model=RuleRead, summary="One rule")
def get_rule(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> RuleRead:
    return RuleRead.model_validate(service.to_read(service.get_rule(session, actor, rule_id)))


@router.patch("/{rule_id}", response_model=RuleRead, summary="Change a rule or switch it on or off (admins)")
def change_rule(rule_id: uuid.UUID, update: RuleUpdate, session: DbSession, actor: CurrentActor) -> RuleRead:
    return RuleRead.model_validate(service.to_read(service.change_rule(session, actor, rule_id, update)))


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule (admins)")
def delete_rule(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    service.delete_rule(session, actor, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{rule_id}/runs", response_model=RunPage, summary="Every firing of a rule, newest first")
def list_runs(
    rule_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> RunPage:
    return RunPage.model_validate(service.list_runs(session, actor, rule_id, limit=limit, cursor=cursor))
