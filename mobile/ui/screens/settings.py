"""Settings: the account, text size, the map's source (and its tile cache), tracking
consent, export diagnostics, log out (warned while changes wait to be sent: they would be
lost)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.core import map_context
from mobile.core.sync_client import APP_VERSION
from mobile.ui.tiles import TileCache


class SettingsScreen(Screen):
    account = StringProperty("")
    message = StringProperty("")
    confirm_logout = BooleanProperty(False)
    text_size = StringProperty("normal")
    map_source = StringProperty(map_context.MAP_SOURCE_TILES)
    map_summary = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        app = App.get_running_app()
        store = app.services.store
        self.account = (
            f"Signed in to {app.server_url}\nUser {store.user_id or '-'}\nThis phone: "
            f"{store.get_state('device_identifier')}\nApp {APP_VERSION}"
        )
        self.message = ""
        self.confirm_logout = False
        self.text_size = store.get_state("text_size") or "normal"
        self.map_source = map_context.load(store).map_source
        self.describe_map()

    def choose_text_size(self, name: str) -> None:
        if name != self.text_size:
            App.get_running_app().set_text_size(name)  # rebuilds the screens, this one included

    def choose_map_source(self, source: str) -> None:
        App.get_running_app().services.store.set_state("map_source", source)
        self.map_source = source
        self.describe_map()

    def describe_map(self) -> None:
        app = App.get_running_app()
        context = map_context.load(app.services.store)
        tiles, size = TileCache(Path(app.data_dir) / "tiles").size()
        if not context.tile_url:
            where = "Your organisation uses drawn maps only (no map tiles)."
        elif context.map_source == map_context.MAP_SOURCE_VECTORS:
            where = "Drawn map only: no map tiles are downloaded."
        else:
            host = urlsplit(context.tile_url).hostname or context.tile_url
            where = f"Map tiles from {host}, kept on this phone for offline use."
        self.map_summary = f"{where}\n{tiles} tiles stored ({size / 1e6:.1f} MB)."

    def clear_map_cache(self) -> None:
        TileCache(Path(App.get_running_app().data_dir) / "tiles").clear()
        self.describe_map()
        self.message = "Stored map tiles deleted; they are downloaded again when needed."

    def set_tracking_consent(self, allowed: bool) -> None:
        app = App.get_running_app()
        app.services.store.set_state("tracking_consent", "1" if allowed else "0")
        if not allowed and app.tracking:
            app.toggle_day()  # ends the day: no position leaves the phone without consent
        self.message = "Positions are recorded during the working day." if allowed else "No position is recorded."

    def export_diagnostics(self) -> None:
        app = App.get_running_app()
        report = {
            "exported_at": datetime.now(UTC).isoformat(),
            "app_version": APP_VERSION,
            "server": app.server_url,
            "last_sync": app.sync_message,
            **app.services.store.diagnostics(),
        }
        path = Path(app.data_dir) / f"diagnostics-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
        path.write_text(json.dumps(report, indent=2, default=str))
        self.message = f"Saved to {path}"

    def log_out(self) -> None:
        app = App.get_running_app()
        pending = app.services.store.pending_count()
        if pending and not self.confirm_logout:
            self.confirm_logout = True
            self.message = (
                f"{pending} change{'s' if pending != 1 else ''} not sent yet would be lost. Sync first, "
                "or tap Log out again to lose them."
            )
            return
        app.log_out()
