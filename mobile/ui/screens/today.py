"""Today: the sync strip, the working day, the day's visits in plan order, and (on a
tablet) the selected visit beside the list."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from mobile.core import next_actions
from mobile.ui import theme
from mobile.ui.views import TodayVisit, today_visits
from shared.sync.protocol import Entity


class VisitRow(BoxLayout):
    visit_id = StringProperty("")
    number = StringProperty("")
    customer_name = StringProperty("")
    tier = StringProperty("")
    window = StringProperty("")
    status = StringProperty("")
    distance_text = StringProperty("")
    done = BooleanProperty(False)

    def on_touch_up(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos) and touch.grab_current is None:
            screen = App.get_running_app().root.get_screen("today")
            screen.select(self.visit_id)
            return True
        return bool(super().on_touch_up(touch))


class TodayScreen(Screen):
    rows = ListProperty([])
    progress = StringProperty("")
    empty_text = StringProperty("")
    wide = BooleanProperty(False)
    selected = ObjectProperty(None, allownone=True)
    for_you = StringProperty("For you")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: list[TodayVisit] = []

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def on_size(self, *_args: Any) -> None:
        self.wide = self.width >= theme.TABLET_MIN_WIDTH

    def refresh(self) -> None:
        app = App.get_running_app()
        work = app.services.work
        if app.services.store.user_id is None:
            return
        visits = work.today_visits(datetime.now(app.zone).date())
        ids = {visit["customer_id"] for visit in visits}
        customers = {c_id: app.services.store.get(Entity.customer, c_id) or {} for c_id in ids}
        fix = app.services.location.last_fix
        here = (fix.lat, fix.lon) if fix else None
        shown = today_visits(visits, customers, app.zone, here)
        self._shown = shown
        self.rows = [_row_data(row) for row in shown]
        done = sum(1 for row in shown if row.done)
        self.progress = f"{done} of {len(shown)} done" if shown else ""
        self.empty_text = "" if shown else "No visits planned today. Pull down or tap Sync now to check again."
        waiting = len(work.notifications(unread_only=True)) + len(next_actions.load(app.services.store))
        self.for_you = f"For you ({waiting})" if waiting else "For you"
        if self.selected is not None:
            self.selected = next((row for row in shown if row.id == self.selected.id), None)
        app.refresh_pending()

    def select(self, visit_id: str) -> None:
        """A tap on a visit: a phone opens it; a tablet shows it beside the list."""
        self.selected = next((row for row in self._shown if row.id == visit_id), None)
        if not self.wide:
            self.open_selected()

    def open_selected(self) -> None:
        if self.selected is not None:
            self.manager.get_screen("visit").show(self.selected.id)


def _row_data(row: TodayVisit) -> dict[str, Any]:
    """A RecycleView row's properties."""
    data = asdict(row)
    data["visit_id"] = data.pop("id")
    data["number"] = str(row.number)
    data["distance_text"] = row.distance_text
    for unused in ("customer_id", "distance_km"):
        data.pop(unused)
    return data
