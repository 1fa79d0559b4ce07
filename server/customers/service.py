"""Customer writes beyond the columns a caller sends: derived values."""

from __future__ import annotations

from typing import Any

from server.access.contact_details import normalise_contact_details
from server.access.policy import WriteContext
from server.customers.repository import territory_containing


def convert_customer_values(ctx: WriteContext, values: dict[str, Any]) -> None:
    """Contact details normalised; the territory follows from where the customer is."""
    normalise_contact_details(ctx, values)
    location = values.get("location")
    if location is not None and "territory_id" not in values:
        values["territory_id"] = territory_containing(ctx.session, ctx.actor.org_id, location["lat"], location["lon"])
