"""Positions are kept for a configurable number of days (POSITION_RETENTION_DAYS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.db import rows_affected

# Small batches keep each transaction (and the sync horizon it holds) short.
_PURGE = text(
    """
    DELETE FROM positions WHERE id IN (
        SELECT id FROM positions WHERE received_at < :cutoff AND device_time < :cutoff LIMIT :batch
    )
    """
)


def purge_positions(session_factory: Callable[[], Session], days: int, *, batch: int = 50_000) -> int:
    """Delete positions older than `days` days, batch by batch; returns how many."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    total = 0
    while True:
        session: Session = session_factory()
        try:
            deleted = rows_affected(session.execute(_PURGE, {"cutoff": cutoff, "batch": batch}))
            session.commit()
        finally:
            session.close()
        total += deleted
        if deleted < batch:
            return total
