"""Pending changes and review: what waits to be sent, the last sync, and the server's answers
that need a look (conflicts with what was kept and what was lost, rejections)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.ui.views import review_items, waiting_words
from shared.sync.protocol import Entity


class ReviewScreen(Screen):
    waiting = StringProperty("")
    items = ListProperty([])

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        store = app.services.store
        self.waiting = waiting_words([entry.entity for entry in store.pending()])

        def current(entity: str, entity_id: str | None) -> dict[str, Any] | None:
            try:
                return store.get(Entity(entity), entity_id) if entity_id else None
            except ValueError:
                return None

        shown = review_items(app.services.work.review_items(), current)
        self.items = [{"title": item.title, "explanation": item.explanation} for item in shown]
