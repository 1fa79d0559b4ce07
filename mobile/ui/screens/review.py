"""Pending changes and review: what waits to be sent (photos with their size), the last sync,
and the server's answers that need a look (conflicts with what was kept and what was lost,
rejections). A tablet lists each waiting change beside them."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.ui import theme
from mobile.ui.views import photos_waiting_words, review_items, waiting_changes, waiting_words
from shared.sync.protocol import Entity


class ReviewScreen(Screen):
    waiting = StringProperty("")
    photos = StringProperty("")
    items = ListProperty([])
    changes = ListProperty([])  # each waiting change (shown beside the review on a tablet)
    wide = BooleanProperty(False)

    def on_size(self, *_args: Any) -> None:
        self.wide = self.width >= theme.TABLET_MIN_WIDTH

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        store = app.services.store
        pending = store.pending()
        self.waiting = waiting_words([entry.entity for entry in pending])
        self.photos = photos_waiting_words(store.pending_attachments())

        def customer_name(entity: str, entity_id: str, data: dict[str, Any]) -> str:
            if entity == Entity.customer.value:
                record = store.get(Entity.customer, entity_id) or {}
            else:
                try:
                    own = store.get(Entity(entity), entity_id) or {}
                except ValueError:
                    own = {}
                customer_id = data.get("customer_id") or own.get("customer_id")
                record = store.get(Entity.customer, customer_id) or {} if customer_id else {}
            return str(record.get("name") or "")

        self.changes = [
            {
                "title": row.title,
                "explanation": "   ".join(part for part in (row.about, row.fields) if part),
                "tone": list(theme.MUTED),
            }
            for row in waiting_changes(pending, customer_name)
        ]

        def current(entity: str, entity_id: str | None) -> dict[str, Any] | None:
            try:
                return store.get(Entity(entity), entity_id) if entity_id else None
            except ValueError:
                return None

        shown = review_items(app.services.work.review_items(), current)
        self.items = [{"title": item.title, "explanation": item.explanation} for item in shown]
