"""Phones and emails are stored one way, whoever writes them (customers,
contacts, imports, the phone's sync)."""

from __future__ import annotations

from typing import Any

import phonenumbers

from server.access.policy import WriteContext
from server.errors import InvalidInput
from server.models import Organization


def normalise_contact_details(ctx: WriteContext, values: dict[str, Any]) -> None:
    """Phone to E.164 (the organisation's country for local numbers), email lowercased."""
    if "phone" in values:
        org = ctx.session.get(Organization, ctx.actor.org_id)
        values["phone"] = normalise_phone(values["phone"], org.default_country if org else "US")
    if values.get("email"):
        values["email"] = values["email"].strip().lower()


def normalise_phone(raw: str | None, default_country: str, field: str = "phone") -> str | None:
    """E.164, or a 422 naming the field when the number cannot be a real one."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, default_country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            f"{field}: {raw!r} is not a phone number", code="INVALID_PHONE", extra={"field": field}
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(
            f"{field}: {raw!r} is not a possible phone number", code="INVALID_PHONE", extra={"field": field}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


__all__ = ["normalise_contact_details", "normalise_phone"]
