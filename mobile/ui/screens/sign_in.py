"""Sign in: the server's address, email (or org/email) and password; each problem said in words."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen


class SignInScreen(Screen):
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_args: Any) -> None:
        app = App.get_running_app()
        if not self.ids.server.text:
            self.ids.server.text = app.server_url

    def submit(self) -> None:
        server, email, password = self.ids.server, self.ids.email, self.ids.password
        for field in (server, email, password):
            field.error = ""
        self.message = ""
        if not server.text.strip().startswith(("http://", "https://")):
            server.error = "Start the address with http:// or https://"
        if not email.text.strip():
            email.error = "Your email (or organisation/email)"
        if not password.text:
            password.error = "Your password"
        if server.error or email.error or password.error:
            return
        self.busy = True
        App.get_running_app().sign_in(server.text.strip(), email.text, password.text, self._signed_in)

    def _signed_in(self, error: str | None) -> None:
        self.busy = False
        if error:
            self.message = error
            return
        self.ids.password.text = ""
        app = App.get_running_app()
        app.services.store.set_state("session_ended", "0")
        self.manager.current = "today"
        app.sync_now("sign-in")
