"""A live server whose sessions commit for real: concurrency needs real transactions."""

from tests.e2e.sync.conftest import org, sync_server, sync_settings

__all__ = ["org", "sync_server", "sync_settings"]
