"""Built-in rules an admin can switch on, from how field teams work.

Visit outcomes are the app's ("No answer", "Interested", "Follow-up needed", ...):
the phone sends them as the visit's `outcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.errors import InvalidInput
from server.workflows.schemas import Trigger


@dataclass(frozen=True)
class Param:
    name: str
    default: int
    minimum: int
    maximum: int
    description: str


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    trigger: Trigger
    params: tuple[Param, ...]
    build: Callable[[dict[str, int]], dict[str, Any]]

    def rule(self, given: dict[str, int]) -> dict[str, Any]:
        """The rule's fields with `given` over the defaults; each parameter checked."""
        known = {param.name: param for param in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InvalidInput(
                f"params: {self.key} takes {', '.join(known) or 'no parameters'}, not {', '.join(unknown)}",
                code="INVALID_TEMPLATE_PARAMS",
            )
        values = {param.name: param.default for param in self.params} | given
        for name, value in values.items():
            param = known[name]
            if not param.minimum <= value <= param.maximum:
                raise InvalidInput(
                    f"params: {name} must be between {param.minimum} and {param.maximum}",
                    code="INVALID_TEMPLATE_PARAMS",
                )
        return {"name": self.name, "description": self.description, "trigger": self.trigger} | self.build(values)


def _outcome(value: str) -> dict[str, Any]:
    return {"field": "outcome", "op": "equals", "value": value}


DAYS = Param("days", 3, 0, 365, "Days until the task is due")

TEMPLATES: dict[str, Template] = {
    template.key: template
    for template in (
        Template(
            "no_answer_call_again",
            "No answer: call again",
            "A visit or call ends with no answer: a call task for the same rep, due in a few days.",
            Trigger.visit_completed,
            (DAYS,),
            lambda p: {
                "conditions": _outcome("No answer"),
                "actions": [
                    {
                        "type": "create_task",
                        "title": "Call {customer_name} again",
                        "kind": "call",
                        "due_in_days": p["days"],
                        "assignee": "visiting_rep",
                    }
                ],
            },
        ),
        Template(
            "interested_send_details",
            "Interested: send the product details",
            "The customer is interested: an email task to send them the product details.",
            Trigger.visit_completed,
            (Param("days", 1, 0, 30, "Days until the task is due"),),
            lambda p: {
                "conditions": _outcome("Interested"),
                "actions": [
                    {
                        "type": "create_task",
                        "title": "Email the product details to {customer_name}",
                        "kind": "other",
                        "due_in_days": p["days"],
                        "assignee": "visiting_rep",
                    }
                ],
            },
        ),
        Template(
            "follow_up_needed",
            "Follow-up needed: follow-up task",
            "A visit marked follow-up needed: a follow-up task for the same rep in N days.",
            Trigger.visit_completed,
            (Param("days", 7, 0, 365, "Days until the follow-up is due"),),
            lambda p: {
                "conditions": _outcome("Follow-up needed"),
                "actions": [
                    {
                        "type": "create_task",
                        "title": "Follow up with {customer_name}",
                        "kind": "follow_up",
                        "due_in_days": p["days"],
                        "assignee": "visiting_rep",
                    }
                ],
            },
        ),
        Template(
            "won_post_sale_visit",
            "Opportunity won: post-sale visit",
            "An opportunity is won: a post-sale follow-up visit task for the customer's owner after N days.",
            Trigger.opportunity_stage_changed,
            (Param("days", 14, 0, 365, "Days after the win"),),
            lambda p: {
                "conditions": {"field": "stage", "op": "equals", "value": "won"},
                "actions": [
                    {
                        "type": "create_task",
                        "title": "Post-sale visit: {customer_name} ({title})",
                        "kind": "follow_up",
                        "due_in_days": p["days"],
                        "assignee": "owner",
                    }
                ],
            },
        ),
        Template(
            "a_customer_overdue",
            "A customer overdue: task and manager notice",
            "An A customer not visited for longer than their frequency: a visit task for the rep "
            "and a notification for their manager.",
            Trigger.customer_not_visited,
            (Param("days", 2, 0, 30, "Days until the task is due"),),
            lambda p: {
                "conditions": {"field": "tier", "op": "equals", "value": "A"},
                "trigger_params": {"factor": 1.0},
                "actions": [
                    {
                        "type": "create_task",
                        "title": "Visit {customer_name}: overdue A customer",
                        "kind": "follow_up",
                        "priority": "high",
                        "due_in_days": p["days"],
                        "assignee": "owner",
                    },
                    {
                        "type": "notify",
                        "recipients": ["manager"],
                        "title": "A customer overdue: {customer_name}",
                        "body": "Last visit {last_visit_at}.",
                    },
                ],
            },
        ),
    )
}
