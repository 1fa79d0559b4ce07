"""Conditions: checked when a rule is saved, evaluated against a record when it fires.

A condition is a leaf `{"field": "outcome", "op": "equals", "value": "No answer"}` or a
group `{"all": [...]}` / `{"any": [...]}`; `{}` always holds. Values are compared in
their JSON form (enums as their value, ids and dates as strings, money as a number).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from server.errors import InvalidInput
from server.workflows.fields import condition_fields
from server.workflows.schemas import MAX_CONDITION_DEPTH, MAX_CONDITIONS, Operator, Trigger

NO_VALUE_OPERATORS = frozenset({Operator.is_empty, Operator.is_not_empty})
LIST_OPERATORS = frozenset({Operator.in_, Operator.not_in})


class UnknownConditionField(Exception):
    """A stored rule names a field the record no longer has (reported on the run)."""


def check_conditions(trigger: Trigger, node: Mapping[str, Any]) -> None:
    """422 with a stable code for the first thing wrong; nothing is saved."""
    leaves = _check_node(trigger, node, depth=1)
    if leaves > MAX_CONDITIONS:
        raise InvalidInput(
            f"conditions: at most {MAX_CONDITIONS} conditions in a rule, got {leaves}", code="TOO_MANY_CONDITIONS"
        )


def _check_node(trigger: Trigger, node: Any, depth: int) -> int:
    if not isinstance(node, Mapping):
        raise InvalidInput("conditions: each condition is a JSON object", code="INVALID_CONDITION")
    if depth > MAX_CONDITION_DEPTH:
        raise InvalidInput(f"conditions: groups nest at most {MAX_CONDITION_DEPTH} deep", code="CONDITIONS_TOO_DEEP")
    if not node:
        return 0
    groups = [key for key in ("all", "any") if key in node]
    if groups:
        if len(node) != 1 or not isinstance(node[groups[0]], list):
            raise InvalidInput(
                'conditions: a group is {"all": [...]} or {"any": [...]} and nothing else', code="INVALID_CONDITION"
            )
        return sum(_check_node(trigger, child, depth + 1) for child in node[groups[0]])
    unknown_keys = set(node) - {"field", "op", "value"}
    if unknown_keys or "field" not in node or "op" not in node:
        raise InvalidInput(
            'conditions: a condition is {"field", "op", "value"} or a group {"all"|"any": [...]}',
            code="INVALID_CONDITION",
        )
    field, op = node["field"], node["op"]
    if not isinstance(field, str) or field not in condition_fields(trigger):
        raise InvalidInput(
            f"conditions: {field!r} is not a field of a {trigger} rule",
            code="UNKNOWN_FIELD",
            extra={"field": str(field)[:64]},
        )
    try:
        operator = Operator(op)
    except ValueError:
        known = ", ".join(o.value for o in Operator)
        raise InvalidInput(
            f"conditions: {str(op)[:40]!r} is not an operator; use one of {known}", code="UNKNOWN_OPERATOR"
        ) from None
    value = node.get("value")
    if operator in LIST_OPERATORS and not isinstance(value, list):
        raise InvalidInput(f"conditions: {operator} takes a list of values", code="INVALID_CONDITION")
    if operator in (Operator.greater_than, Operator.less_than) and (
        isinstance(value, bool) or not isinstance(value, int | float | str)
    ):
        raise InvalidInput(f"conditions: {operator} takes a number or a date", code="INVALID_CONDITION")
    return 1


def json_value(value: Any) -> Any:
    """A record's value in the form conditions (and webhook payloads) compare and show."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def holds(node: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Does the record satisfy the (already checked) conditions?"""
    if not node:
        return True
    if "all" in node:
        return all(holds(child, record) for child in node["all"])
    if "any" in node:
        return any(holds(child, record) for child in node["any"])
    field = node["field"]
    try:
        actual = json_value(record[field])
    except KeyError:
        raise UnknownConditionField(field) from None
    return _compare(Operator(node["op"]), actual, node.get("value"))


def _compare(op: Operator, actual: Any, expected: Any) -> bool:
    if op is Operator.is_empty:
        return actual in (None, "", [], {})
    if op is Operator.is_not_empty:
        return actual not in (None, "", [], {})
    if op is Operator.equals:
        return bool(actual == expected)
    if op is Operator.not_equals:
        return bool(actual != expected)
    if op is Operator.in_:
        return actual in expected
    if op is Operator.not_in:
        return actual not in expected
    numbers = isinstance(actual, int | float) and isinstance(expected, int | float)
    texts = isinstance(actual, str) and isinstance(expected, str)
    if not (numbers or texts):
        return False  # nothing to compare (an empty value, or a number against a date)
    return bool(actual > expected) if op is Operator.greater_than else bool(actual < expected)
