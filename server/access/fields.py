"""Field-level rules every policy shares: which fields a role may write, which
may not be nulled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from server.access.actor import Actor
from server.errors import Forbidden, InvalidInput


def fields_outside(fields: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The fields not in `allowed`, sorted (what a policy refuses for a role)."""
    return sorted(set(fields) - set(allowed))


def refuse_fields(actor: Actor, refused: Iterable[str]) -> None:
    """403 FIELD_NOT_ALLOWED naming each refused field (HTTP writes; a sync push drops them instead)."""
    names = sorted(refused)
    if names:
        article = "An" if str(actor.role)[0] in "aeiou" else "A"
        raise Forbidden(
            f"{article} {actor.role} may not change: {', '.join(names)}",
            code="FIELD_NOT_ALLOWED",
            extra={"fields": names},
        )


def reject_nulls(changes: Mapping[str, Any], not_null: Iterable[str]) -> None:
    """422 for a PATCH that would null a required column (the schemas allow omission, not null)."""
    for name in sorted(set(not_null) & set(changes)):
        if changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", extra={"field": name})


__all__ = ["fields_outside", "refuse_fields", "reject_nulls"]
