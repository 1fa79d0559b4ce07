"""Settings: the account, tracking consent, export diagnostics, log out (warned while changes
wait to be sent: they would be lost)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.core.sync_client import APP_VERSION


class SettingsScreen(Screen):
    account = StringProperty("")
    message = StringProperty("")
    confirm_logout = BooleanProperty(False)

    def on_pre_enter(self, *_args: Any) -> None:
        app = App.get_running_app()
        store = app.services.store
        self.account = (
            f"Signed in to {app.server_url}\nUser {store.user_id or '-'}\nThis phone: "
            f"{store.get_state('device_identifier')}\nApp {APP_VERSION}"
        )
        self.message = ""
        self.confirm_logout = False

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
