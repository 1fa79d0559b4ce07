"""Schema pieces shared by several resources."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.enums import WEEKDAYS

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _check_weekly_hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    for day, spans in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
        for span in spans:
            if len(span) != 2 or not all(_HHMM.match(t) for t in span):
                raise ValueError(f'{day}: each span is ["HH:MM", "HH:MM"], got {span!r}')
            if span[0] >= span[1]:
                raise ValueError(f"{day}: span {span!r} ends before it starts")
    return value


WeeklyHours = Annotated[
    dict[str, list[list[str]]],
    AfterValidator(_check_weekly_hours),
    Field(
        description='{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], ...}', examples=[{"mon": [["08:00", "17:00"]]}]
    ),
]
Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
Text = Annotated[str, Field(max_length=20_000)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class TenantRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    row_version: int
