from tests.e2e.sync.conftest import org, sync_server, sync_settings  # noqa: F401 - the committed live server
