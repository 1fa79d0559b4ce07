"""Keeping the change log small, and watching the horizon that pulls wait for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.db import rows_affected

# A change row may go when a newer row exists for the same (scope, entity, id):
# a client behind it gets the newer row (the current state) instead. Delete
# rows (tombstones) always stay, so a client that was offline for months still
# learns of every delete.
_COMPACT = text(
    """
    DELETE FROM sync_changes AS old
     USING sync_changes AS newer
     WHERE old.kind <> 'delete'
       AND newer.org_id = old.org_id AND newer.scope = old.scope
       AND newer.entity = old.entity AND newer.entity_id = old.entity_id
       AND (newer.xid, newer.pos) > (old.xid, old.pos)
       AND newer.xid < pg_snapshot_xmin(pg_current_snapshot())
    """
)
_FORGET_RESULTS = text("DELETE FROM sync_mutation_results WHERE created_at < now() - :keep")


def compact(session: Session, *, keep_results: timedelta = timedelta(days=90)) -> dict[str, int]:
    """Delete superseded change rows and old duplicate answers; returns the counts."""
    changes = rows_affected(session.execute(_COMPACT))
    results = rows_affected(session.execute(_FORGET_RESULTS, {"keep": keep_results}))
    return {"changes_deleted": changes, "results_deleted": results}


def horizon_status(session: Session) -> dict[str, Any]:
    """How far the pull horizon (the oldest running transaction) lags behind.

    A pull returns nothing written by a transaction that started after the
    oldest one still running: a long or idle transaction holds every pull
    back. Servers set idle_in_transaction_session_timeout; this shows the lag.
    """
    row = session.execute(
        text(
            """
            SELECT pg_snapshot_xmax(s)::text::bigint - pg_snapshot_xmin(s)::text::bigint AS lag_xids,
                   (SELECT coalesce(extract(epoch FROM max(now() - xact_start)), 0)
                      FROM pg_stat_activity WHERE backend_xid IS NOT NULL) AS oldest_writer_seconds,
                   (SELECT count(*) FROM sync_changes) AS change_rows,
                   (SELECT count(*) FROM sync_clients) AS clients
              FROM pg_current_snapshot() AS s
            """
        )
    ).one()
    return {
        "horizon_lag_xids": int(row.lag_xids),
        "oldest_writer_seconds": float(row.oldest_writer_seconds),
        "change_rows": int(row.change_rows),
        "clients": int(row.clients),
    }
