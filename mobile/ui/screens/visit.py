"""A visit: check in with the GPS fix (distance to the customer shown), notes, the customer's
open tasks, check out with an outcome; or skip it with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ListProperty, ObjectProperty, StringProperty

from mobile.ui import theme
from mobile.ui.photos import PhotoRefused, keep_photo
from mobile.ui.views import OUTCOMES, VisitDetail, distance_words, visit_detail
from mobile.ui.widgets import MessageScreen, TouchButton
from shared.sync.protocol import Entity


class VisitScreen(MessageScreen):
    visit = ObjectProperty(None, allownone=True)
    where = StringProperty("")
    outcomes = ListProperty(list(OUTCOMES))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ticker: Any = None

    def show(self, visit_id: str) -> None:
        self.say("")
        self.ids.note.text = ""
        self.ids.outcome.text = "Outcome"
        self.ids.skip_reason.text = ""
        self.load(visit_id)
        self.manager.current = self.name

    def load(self, visit_id: str) -> None:
        app = App.get_running_app()
        record = app.services.store.get(Entity.visit, visit_id)
        if record is None:
            self.visit = None
            return
        detail = app.services.work.customer_detail(record["customer_id"])
        self.visit = visit_detail(record, detail, app.zone)
        self._show_tasks(self.visit)
        self.update_position()

    def _show_tasks(self, visit: VisitDetail) -> None:
        box = self.ids.tasks
        box.clear_widgets()
        for task_id, title in visit.open_tasks:
            button = TouchButton(text=f"Mark done: {title}", background_tint=theme.MUTED)
            button.bind(on_release=lambda _button, chosen=task_id: self.complete_task(chosen))
            box.add_widget(button)

    def on_enter(self, *_args: Any) -> None:
        self._ticker = Clock.schedule_interval(lambda _dt: self.update_position(), 1.0)

    def on_leave(self, *_args: Any) -> None:
        if self._ticker is not None:
            self._ticker.cancel()

    def update_position(self) -> None:
        fix = App.get_running_app().services.location.last_fix
        here = (fix.lat, fix.lon) if fix else None
        self.where = distance_words(here, fix.accuracy_m if fix else None, self.visit.location if self.visit else None)

    def _fix_or_say(self) -> Any:
        fix = App.get_running_app().services.location.last_fix
        if fix is None:
            self.say("No GPS fix yet: wait a moment outdoors, or start the day to turn the GPS on.")
        return fix

    def check_in(self) -> None:
        visit: VisitDetail | None = self.visit
        fix = self._fix_or_say()
        if visit is None or fix is None:
            return
        app = App.get_running_app()
        app.services.work.check_in(visit.id, fix.lat, fix.lon, accuracy_m=fix.accuracy_m)
        app.after_write()
        self.load(visit.id)

    def save_note(self) -> None:
        visit: VisitDetail | None = self.visit
        text = self.ids.note.text.strip()
        if visit is None:
            return
        if not text:
            self.say("Write the note first.")
            return
        app = App.get_running_app()
        app.services.work.add_note(visit.customer_id, text)
        app.after_write()
        self.ids.note.text = ""
        self.say("Note saved.", good=True)
        self.load(visit.id)

    def add_photo(self) -> None:
        if self.visit is None:
            return
        self.say("Taking a photo...", good=True)
        App.get_running_app().services.camera.take(lambda path: Clock.schedule_once(lambda _dt: self._photo(path)))

    def _photo(self, path: Path | None) -> None:
        visit: VisitDetail | None = self.visit
        if visit is None:
            return
        if path is None:
            self.say("No photo taken.")
            return
        app = App.get_running_app()
        try:
            kept = keep_photo(Path(app.data_dir), path)
        except PhotoRefused as refused:
            self.say(str(refused))
            return
        app.services.work.add_photo(visit.customer_id, kept, visit_id=visit.id)
        app.after_write()
        self.say(f"Photo added ({kept.stat().st_size / 1e6:.1f} MB); it is sent after the visit's data.", good=True)

    def complete_task(self, task_id: str) -> None:
        app = App.get_running_app()
        app.services.work.complete_task(task_id)
        app.after_write()
        if self.visit is not None:
            self.load(self.visit.id)

    def check_out(self) -> None:
        visit: VisitDetail | None = self.visit
        outcome = self.ids.outcome.text
        if visit is None:
            return
        if outcome not in OUTCOMES:
            self.say("Choose the outcome of the visit.")
            return
        fix = self._fix_or_say()
        if fix is None:
            return
        app = App.get_running_app()
        app.services.work.check_out(visit.id, fix.lat, fix.lon, outcome=outcome, accuracy_m=fix.accuracy_m)
        app.after_write()
        self.back()

    def move_later(self, hours: int) -> None:
        """The customer asked for later: the visit moves, keeping its length."""
        visit: VisitDetail | None = self.visit
        if visit is None:
            return
        app = App.get_running_app()
        record = app.services.store.get(Entity.visit, visit.id) or {}
        start = record.get("planned_start")
        if not start:
            self.say("This visit has no planned time to move.")
            return
        try:
            app.services.work.reschedule_visit(visit.id, datetime.fromisoformat(start) + timedelta(hours=hours))
        except ValueError as problem:
            self.say(str(problem).capitalize() + ".")
            return
        app.after_write()
        self.back()

    def skip(self) -> None:
        visit: VisitDetail | None = self.visit
        if visit is None:
            return
        try:
            App.get_running_app().services.work.skip_visit(visit.id, self.ids.skip_reason.text)
        except ValueError as problem:
            self.say(str(problem).capitalize() + ".")
            return
        App.get_running_app().after_write()
        self.back()

    def back(self) -> None:
        today = self.manager.get_screen("today")
        today.refresh()
        self.manager.current = "today"
