"""row_version bookkeeping on every write path.

A `before_flush` hook bumps `row_version` of every modified tenant row, so no
code path (API, import, job) can change a row without the version moving —
the sync change log (issue 4) relies on that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.models.base import TenantMixin


@event.listens_for(Session, "before_flush")
def _bump_row_versions(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, TenantMixin) and session.is_modified(obj, include_collections=False):
            obj.row_version = (obj.row_version or 0) + 1
