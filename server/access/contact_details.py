"""Phones and emails are stored one way, whoever writes them (customers,
contacts, imports, the phone's sync)."""

from __future__ import annotations

from typing import Any

from server.access.policy import WriteContext
from server.api.schemas import normalise_phone
from server.models import Organization


def normalise_contact_details(ctx: WriteContext, values: dict[str, Any]) -> None:
    """Phone to E.164 (the organisation's country for local numbers), email lowercased."""
    if "phone" in values:
        org = ctx.session.get(Organization, ctx.actor.org_id)
        values["phone"] = normalise_phone(values["phone"], org.default_country if org else "US")
    if values.get("email"):
        values["email"] = values["email"].strip().lower()


__all__ = ["normalise_contact_details"]
