"""For you: the notifications the rep was sent and the next best actions the server ranks
(overdue tasks, A customers due, customers at risk, deals closing this month). Both are on
the phone: read offline, a notification marked read is sent with the next sync."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from mobile.core import next_actions
from mobile.ui.views import for_you_rows


class ForYouRowView(BoxLayout):
    row_id = StringProperty("")
    kind = StringProperty("")
    title = StringProperty("")
    detail = StringProperty("")
    tag = StringProperty("")
    customer_id = StringProperty("")
    unread = BooleanProperty(False)


class ForYouScreen(Screen):
    rows = ListProperty([])
    heading = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        shown = for_you_rows(next_actions.load(app.services.store), app.services.work.notifications())
        self.rows = [{**{k: v for k, v in asdict(row).items() if k != "id"}, "row_id": row.id} for row in shown]
        unread = sum(1 for row in shown if row.unread)
        actions = sum(1 for row in shown if row.kind == "action")
        notes = f"{unread} new notification{'s' if unread != 1 else ''}"
        todo = f"{actions} thing{'s' if actions != 1 else ''} to do"
        self.heading = (
            f"{notes} - {todo}"
            if shown
            else "Nothing new. Notifications and your next best actions come with each sync."
        )

    def read(self, notification_id: str) -> None:
        app = App.get_running_app()
        app.services.work.mark_notification_read(notification_id)
        app.refresh_pending()
        self.refresh()

    def open(self, customer_id: str) -> None:
        if customer_id:
            self.manager.get_screen("customer").show(customer_id)
