"""The shape of a resource's authorization: what an actor sees, which fields
they may write, and what else a write must satisfy.

A policy answers questions; the resource (`server/api/resource.py`) runs the
one write path that asks them, for HTTP and for sync push alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.models.base import TenantMixin

ModelT = TypeVar("ModelT", bound=TenantMixin)


@dataclass
class WriteContext:
    """Who writes, in which transaction."""

    session: Session
    actor: Actor
    # How many workflow rules deep this write is (0: a person's write). A rule's actions
    # write at depth + 1; past the limit the rules stop (server/workflows/engine.py).
    rule_depth: int = 0


class Policy(Generic[ModelT]):
    """Authorization for one resource. Default: everyone in the organisation reads and writes."""

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        """The rows the actor may see (the organisation filter is added by the resource)."""
        return true()

    def refused_fields(self, ctx: WriteContext, obj: ModelT | None, values: Mapping[str, Any]) -> list[str]:
        """The fields of `values` this actor may not write, without raising.

        `obj` is None for a create. HTTP answers 403 FIELD_NOT_ALLOWED naming
        them; a sync push drops them and answers `applied_partial`, so a rep's
        offline edit of a manager-only field never blocks the rest of it.
        """
        return []

    def before_create(self, ctx: WriteContext, values: dict[str, Any]) -> None:
        """Check and complete `values` (force owner fields, validate references)."""

    def before_update(self, ctx: WriteContext, obj: ModelT, changes: dict[str, Any]) -> None:
        """Check `changes` (only the fields being written)."""

    def before_delete(self, ctx: WriteContext, obj: ModelT) -> None:
        """Refuse a delete the actor may not make."""


__all__ = ["ModelT", "Policy", "WriteContext"]
