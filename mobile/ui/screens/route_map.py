"""The route map: numbered pins in plan order, the route line, my position.

Drawn as vectors on Kivy's canvas (equirectangular around the day's centre,
which is exact enough at a day's scale): it needs no network and no tiles, so
it always works offline. Map tiles under it (kivy-garden mapview, with the
organisation's tile source) are the next step.
"""

from __future__ import annotations

import math
from typing import Any

from kivy.app import App
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from mobile.ui import theme
from shared.sync.protocol import Entity


class RouteCanvas(Widget):
    """Pins [(number, lat, lon, done)], my position (lat, lon) or None."""

    pins = ListProperty([])
    here = ObjectProperty(None, allownone=True)

    def on_pins(self, *_args: Any) -> None:
        self.redraw()

    def on_here(self, *_args: Any) -> None:
        self.redraw()

    def on_size(self, *_args: Any) -> None:
        self.redraw()

    def on_pos(self, *_args: Any) -> None:
        self.redraw()

    def project(self, lat: float, lon: float, box: tuple[float, float, float, float]) -> tuple[float, float]:
        """Lat/lon to widget pixels, the box (south, west, north, east) fitted with a margin."""
        south, west, north, east = box
        scale_x = math.cos(math.radians((south + north) / 2))
        width_deg = max((east - west) * scale_x, 1e-6)
        height_deg = max(north - south, 1e-6)
        margin = dp(28)
        scale = min((self.width - 2 * margin) / width_deg, (self.height - 2 * margin) / height_deg)
        centre_x = self.x + self.width / 2
        centre_y = self.y + self.height / 2
        x = centre_x + ((lon - (west + east) / 2) * scale_x) * scale
        y = centre_y + (lat - (south + north) / 2) * scale
        return x, y

    def redraw(self) -> None:
        self.canvas.clear()
        points = [(lat, lon) for _n, lat, lon, _done in self.pins] + ([self.here] if self.here else [])
        with self.canvas:
            Color(*theme.CARD)
            Rectangle(pos=self.pos, size=self.size)
            if not points:
                return
            lats, lons = [p[0] for p in points], [p[1] for p in points]
            box = (min(lats), min(lons), max(lats), max(lons))
            route = [self.project(lat, lon, box) for _n, lat, lon, _done in self.pins]
            if len(route) > 1:
                Color(*theme.ACCENT)
                Line(points=[c for xy in route for c in xy], width=dp(2))
            radius = dp(14)
            for (number, _lat, _lon, done), (x, y) in zip(self.pins, route, strict=True):
                Color(*(theme.MUTED if done else theme.ACCENT))
                Ellipse(pos=(x - radius, y - radius), size=(2 * radius, 2 * radius))
                label = CoreLabel(text=str(number), font_size=theme.SMALL, bold=True, color=theme.ON_ACCENT)
                label.refresh()
                Color(1, 1, 1, 1)
                width, height = label.texture.size
                Rectangle(texture=label.texture, pos=(x - width / 2, y - height / 2), size=(width, height))
            if self.here:
                x, y = self.project(self.here[0], self.here[1], box)
                Color(*theme.GOOD)
                Ellipse(pos=(x - dp(8), y - dp(8)), size=(dp(16), dp(16)))


class RouteMapScreen(Screen):
    caption = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        today = app.root.get_screen("today")
        pins = []
        for row in today.rows:
            visit = app.services.store.get(Entity.visit, row["visit_id"]) or {}
            customer = app.services.store.get(Entity.customer, visit.get("customer_id") or "") or {}
            spot = customer.get("location")
            if spot:
                pins.append((int(row["number"]), spot["lat"], spot["lon"], bool(row["done"])))
        fix = app.services.location.last_fix
        self.ids.route.pins = pins
        self.ids.route.here = (fix.lat, fix.lon) if fix else None
        missing = len(today.rows) - len(pins)
        self.caption = (
            f"{len(pins)} stops, numbered in visiting order"
            + (f" ({missing} without a location)" if missing else "")
            + ("  |  you: the green dot" if fix else "  |  no GPS fix: your position is not shown")
        )
