"""The route map: numbered pins in plan order, the route line, my position and the outline
of my territory.

Over the organisation's map tiles (kivy-garden mapview with `CachedTileSource`: a disk
cache, the app's User-Agent, no download while offline) when a tile source is set and
the rep has not chosen vectors only; otherwise, and always in tests, the same drawing on
a plain background fitted to the day (equirectangular around its centre, exact enough
at a day's scale), which needs neither network nor tiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from mobile.core import map_context
from mobile.ui import theme
from shared.sync.protocol import Entity

Pin = tuple[int, float, float, bool]  # (number, lat, lon, done)
Project = Callable[[float, float], tuple[float, float]]


def draw_day(
    project: Project,
    pins: Sequence[Pin],
    here: tuple[float, float] | None,
    rings: Sequence[Sequence[tuple[float, float]]],
) -> None:
    """Issue the drawing instructions into the canvas that is open (`with widget.canvas:`);
    `project` turns (lat, lon) into window pixels."""
    for ring in rings:
        Color(*theme.WARN)
        Line(points=[c for lat, lon in ring for c in project(lat, lon)], width=dp(1.5), close=True)
    route = [project(lat, lon) for _n, lat, lon, _done in pins]
    if len(route) > 1:
        Color(*theme.ACCENT)
        Line(points=[c for xy in route for c in xy], width=dp(2))
    radius = dp(14)
    for (number, _lat, _lon, done), (x, y) in zip(pins, route, strict=True):
        Color(*(theme.MUTED if done else theme.ACCENT))
        Ellipse(pos=(x - radius, y - radius), size=(2 * radius, 2 * radius))
        label = CoreLabel(text=str(number), font_size=theme.SMALL, bold=True, color=theme.ON_ACCENT)
        label.refresh()
        Color(1, 1, 1, 1)
        width, height = label.texture.size
        Rectangle(texture=label.texture, pos=(x - width / 2, y - height / 2), size=(width, height))
    if here:
        x, y = project(*here)
        Color(*theme.GOOD)
        Ellipse(pos=(x - dp(8), y - dp(8)), size=(dp(16), dp(16)))


class RouteCanvas(Widget):
    """The day drawn on a plain background, fitted to the widget: works with no tiles."""

    pins = ListProperty([])
    here = ObjectProperty(None, allownone=True)
    rings = ListProperty([])

    def on_pins(self, *_args: Any) -> None:
        self.redraw()

    def on_here(self, *_args: Any) -> None:
        self.redraw()

    def on_rings(self, *_args: Any) -> None:
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
        # The day decides the frame; the territory is drawn as far as it shows.
        points = [(lat, lon) for _n, lat, lon, _done in self.pins] + ([self.here] if self.here else [])
        if not points:
            points = [point for ring in self.rings for point in ring]
        with self.canvas:
            Color(*theme.CARD)
            Rectangle(pos=self.pos, size=self.size)
            if not points:
                return
            lats, lons = [p[0] for p in points], [p[1] for p in points]
            box = (min(lats), min(lons), max(lats), max(lons))
            draw_day(lambda lat, lon: self.project(lat, lon, box), self.pins, self.here, self.rings)


def fit_zoom(source: Any, points: Sequence[tuple[float, float]], width: float, height: float) -> int:
    """The closest zoom at which every point fits in width x height with a margin."""
    margin = dp(40)
    for zoom in range(min(17, source.get_max_zoom()), source.get_min_zoom(), -1):
        xs = [source.get_x(zoom, lon) for _lat, lon in points]
        ys = [source.get_y(zoom, lat) for lat, _lon in points]
        if max(xs) - min(xs) <= width - 2 * margin and max(ys) - min(ys) <= height - 2 * margin:
            return zoom
    return int(source.get_min_zoom()) + 1


def tiled_map(context: map_context.MapContext, cache_folder: Path, is_online: Callable[[], bool]) -> Widget:
    """A mapview with the organisation's tiles and a layer that draws the day over them.
    Imported here, not at the top: the vector map must work where mapview cannot load."""
    from kivy_garden.mapview import MapLayer, MapView

    from mobile.ui.tiles import CachedTileSource, TileCache, TileFetcher

    class DayLayer(MapLayer):
        pins: list[Pin] = []
        here: tuple[float, float] | None = None
        rings: list[list[tuple[float, float]]] = []

        def reposition(self) -> None:
            view = self.parent
            if view is None:
                return

            def project(lat: float, lon: float) -> tuple[float, float]:
                x, y = view.get_window_xy_from(lat, lon, view.zoom)
                return float(x), float(y)

            self.canvas.clear()
            with self.canvas:
                draw_day(project, self.pins, self.here, self.rings)

    class DayMap(MapView):
        def __init__(self, **kwargs: Any) -> None:
            self.cache = TileCache(cache_folder)
            self.fetcher = TileFetcher(is_online)
            super().__init__(cache_dir=str(cache_folder), **kwargs)
            self.map_source = CachedTileSource(context.tile_url, context.attribution, self.cache, self.fetcher)
            self.layer = DayLayer()
            self.add_layer(self.layer, mode="window")

        def show(self, pins: list[Pin], here: tuple[float, float] | None, rings: list[Any]) -> None:
            self.layer.pins, self.layer.here, self.layer.rings = pins, here, rings
            points = [(lat, lon) for _n, lat, lon, _done in pins] + ([here] if here else [])
            points = points or [point for ring in rings for point in ring]
            if points and self.width > 1:
                self.zoom = fit_zoom(self.map_source, points, self.width, self.height)
                lats, lons = [p[0] for p in points], [p[1] for p in points]
                self.center_on((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
            if not self.map_source.framed:
                self.map_source.framed = True
                self.remove_all_tiles()  # those placed before framing were left empty: load them now
                self.trigger_update(True)
            self.layer.reposition()

    return DayMap()


class RouteMapScreen(Screen):
    caption = StringProperty("")
    pins = ListProperty([])  # what is drawn, whichever map draws it
    here = ObjectProperty(None, allownone=True)
    showing = StringProperty("vectors")  # or "tiles"
    attribution = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tiled: Any = None  # the mapview, made on first use
        self._tiled_for: tuple[str, str] | None = None
        self.vector: RouteCanvas = self.ids.route  # held here too: ids are weak, and it leaves the tree

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        today = app.root.get_screen("today")
        pins: list[Pin] = []
        for row in today.rows:
            visit = app.services.store.get(Entity.visit, row["visit_id"]) or {}
            customer = app.services.store.get(Entity.customer, visit.get("customer_id") or "") or {}
            spot = customer.get("location")
            if spot:
                pins.append((int(row["number"]), spot["lat"], spot["lon"], bool(row["done"])))
        fix = app.services.location.last_fix
        self.pins = pins
        self.here = (fix.lat, fix.lon) if fix else None
        context = map_context.load(app.services.store)
        self.attribution = f"Map: {context.attribution}" if context.attribution else ""
        self._show(context, app)
        missing = len(today.rows) - len(pins)
        self.caption = (
            f"{len(pins)} stops, numbered in visiting order"
            + (f" ({missing} without a location)" if missing else "")
            + ("  |  you: the green dot" if fix else "  |  no GPS fix: your position is not shown")
            + ("  |  orange: your territory" if context.territory_rings else "")
            + ("" if app.online or not context.uses_tiles else "  |  offline: only map parts seen before")
        )

    def _show(self, context: map_context.MapContext, app: Any) -> None:
        area = self.ids.area
        if context.uses_tiles:
            wanted = (context.tile_url, context.attribution)
            if self.tiled is None or self._tiled_for != wanted:
                if self.tiled is not None:
                    self.tiled.fetcher.close()
                self.tiled = tiled_map(context, Path(app.data_dir) / "tiles", lambda: bool(app.online))
                self._tiled_for = wanted
            if self.tiled.parent is None:
                area.clear_widgets()
                area.add_widget(self.tiled)
            self.showing = "tiles"
            # After layout: the zoom that fits the day depends on the map's size.
            Clock.schedule_once(lambda _dt: self.tiled.show(list(self.pins), self.here, context.territory_rings), 0)
        else:
            route = self.vector
            if route.parent is None:
                area.clear_widgets()
                area.add_widget(route)
            self.showing = "vectors"
            route.rings = context.territory_rings
            route.pins = list(self.pins)
            route.here = self.here
