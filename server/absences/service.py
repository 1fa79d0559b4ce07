"""Absence rules beyond one field: the date range, and listing by overlap."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select

from server.absences.schemas import MAX_ABSENCE_DAYS, AbsenceListQuery
from server.errors import InvalidInput
from server.models import Absence


def check_absence_dates(starts_on: date, ends_on: date) -> None:
    """422 before anything is written (the table's own check would only say 409)."""
    if ends_on < starts_on:
        raise InvalidInput("ends_on is before starts_on", code="INVALID_DATE_RANGE", extra={"field": "ends_on"})
    if (ends_on - starts_on).days + 1 > MAX_ABSENCE_DAYS:
        raise InvalidInput(
            f"An absence lasts at most {MAX_ABSENCE_DAYS} days; record a longer one in parts",
            code="INVALID_DATE_RANGE",
            extra={"field": "ends_on"},
        )


def overlapping(stmt: Select[Any], query: AbsenceListQuery) -> Select[Any]:
    if query.date_from is not None:
        stmt = stmt.where(Absence.ends_on >= query.date_from)
    if query.date_to is not None:
        stmt = stmt.where(Absence.starts_on <= query.date_to)
    return stmt
