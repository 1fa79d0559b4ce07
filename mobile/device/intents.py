"""Call, email and navigate: Android intents on a phone, the desktop's browser or mail
handler elsewhere. Every request is also remembered (`last`), which the tests read."""

from __future__ import annotations

import urllib.parse
import webbrowser

__all__ = ["Intents"]


class Intents:
    def __init__(self, *, android: bool = False, open_uri: bool = True) -> None:
        self._android = android
        self._open_uri = open_uri
        self.last: str | None = None

    def call(self, phone: str) -> None:
        self._start(f"tel:{phone.replace(' ', '')}")

    def email(self, address: str) -> None:
        self._start(f"mailto:{address}")

    def navigate(self, lat: float, lon: float, label: str = "") -> None:
        """The phone's navigation app (geo: URI); a map in the browser on the desktop."""
        if self._android:
            self._start(f"geo:{lat},{lon}?q={lat},{lon}({urllib.parse.quote(label)})")
        else:
            self._start(f"https://www.openstreetmap.org/directions?to={lat}%2C{lon}")

    def _start(self, uri: str) -> None:
        self.last = uri
        if not self._open_uri:
            return
        if self._android:  # pragma: no cover - needs an Android device
            from jnius import autoclass

            intent_class = autoclass("android.content.Intent")
            uri_class = autoclass("android.net.Uri")
            activity = autoclass("org.kivy.android.PythonActivity").mActivity
            activity.startActivity(intent_class(intent_class.ACTION_VIEW, uri_class.parse(uri)))
        else:
            webbrowser.open(uri)
