"""Absences: a rep's days off, or the whole organisation's (a public holiday)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from server.api.filters import ListQuery
from server.api.schemas import StrictModel, TenantRead
from shared.enums import AbsenceKind

MAX_ABSENCE_DAYS = 366


class AbsenceCreate(StrictModel):
    id: uuid.UUID | None = None
    user_id: uuid.UUID | None = Field(default=None, description="Defaults to the caller")
    organisation_wide: bool = Field(default=False, description="A holiday for everyone (admins); no user_id then")
    starts_on: date
    ends_on: date = Field(description="The last day off (inclusive)")
    kind: AbsenceKind = AbsenceKind.day_off
    note: str | None = Field(default=None, max_length=500)


class AbsenceUpdate(StrictModel):
    starts_on: date | None = None
    ends_on: date | None = None
    kind: AbsenceKind | None = None
    note: str | None = Field(default=None, max_length=500)


class AbsenceRead(TenantRead):
    user_id: uuid.UUID | None = Field(description="None: the whole organisation is off")
    starts_on: date
    ends_on: date
    kind: AbsenceKind
    note: str | None


class AbsenceListQuery(ListQuery):
    user_id: uuid.UUID | None = None
    date_from: date | None = Field(default=None, description="Absences that end on or after this day")
    date_to: date | None = Field(default=None, description="Absences that start on or before this day")
