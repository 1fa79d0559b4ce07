"""Customers (search by name, else nearest first) and my open tasks."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from mobile.ui import theme
from mobile.ui.screens.customer import customer_summary
from mobile.ui.views import customer_rows, task_rows
from shared.sync.protocol import Entity


class SelectableRow(BoxLayout):
    """A list row: a tap on it (not on a button inside it) selects its record on `screen`."""

    screen = ""

    def record_id(self) -> str:
        raise NotImplementedError

    def on_touch_up(self, touch: Any) -> bool:
        if super().on_touch_up(touch):
            return True  # a button in the row took it
        if self.collide_point(*touch.pos) and touch.grab_current is None:
            App.get_running_app().root.get_screen(self.screen).select(self.record_id())
            return True
        return False


class CustomerListRow(SelectableRow):
    screen = "customers"
    customer_id = StringProperty("")
    name = StringProperty("")
    tier = StringProperty("")
    status = StringProperty("")
    place = StringProperty("")

    def record_id(self) -> str:
        return str(self.customer_id)


class CustomersScreen(Screen):
    """A phone opens a tapped customer; a tablet shows them beside the list."""

    rows = ListProperty([])
    heading = StringProperty("")
    wide = BooleanProperty(False)
    detail_id = StringProperty("")
    detail_title = StringProperty("")
    detail_text = StringProperty("")

    def on_size(self, *_args: Any) -> None:
        self.wide = self.width >= theme.TABLET_MIN_WIDTH

    def select(self, customer_id: str) -> None:
        if not self.wide:
            self.manager.get_screen("customer").show(customer_id)
            return
        detail = App.get_running_app().services.work.customer_detail(customer_id)
        self.detail_id = customer_id if detail else ""
        self.detail_title = str((detail or {}).get("customer", {}).get("name") or "")
        self.detail_text = customer_summary(detail) if detail else "This customer is not on this phone."

    def on_pre_enter(self, *_args: Any) -> None:
        self.search(self.ids.query.text)

    def typed(self, text: str) -> None:
        """Search as the rep types, once they pause (every keystroke would re-query)."""
        Clock.unschedule(self._search_later)
        self._pending_text = text
        Clock.schedule_once(self._search_later, 0.25)

    def _search_later(self, _dt: float) -> None:
        self.search(self._pending_text)

    def search(self, text: str) -> None:
        app = App.get_running_app()
        work = app.services.work
        if text.strip():
            found = work.search_customers(text)
            self.heading = f"{len(found)} customer{'s' if len(found) != 1 else ''} named like '{text.strip()}'"
            shown = customer_rows(found)
        else:
            fix = app.services.location.last_fix
            if fix is not None:
                near = work.customers_near(fix.lat, fix.lon, radius_m=20_000, limit=50)
                self.heading = "Nearest first"
                shown = customer_rows([n.customer for n in near], {n.customer["id"]: n.distance_m for n in near})
            else:
                self.heading = "By name (no GPS fix for the nearest)"
                shown = customer_rows(app.services.store.query(Entity.customer, order="name", limit=50))
        self.rows = [{**asdict(row), "customer_id": row.id} for row in shown]
        for row in self.rows:
            row.pop("id")


class TaskListRow(SelectableRow):
    screen = "tasks"
    task_id = StringProperty("")
    title = StringProperty("")
    customer_name = StringProperty("")
    due = StringProperty("")
    overdue = StringProperty("")

    def record_id(self) -> str:
        return str(self.task_id)


class TasksScreen(Screen):
    """A tapped task: on a phone its customer's page (their other tasks and history); on a
    tablet the task beside the list."""

    rows = ListProperty([])
    heading = StringProperty("")
    wide = BooleanProperty(False)
    detail_id = StringProperty("")
    detail_title = StringProperty("")
    detail_text = StringProperty("")
    detail_customer_id = StringProperty("")

    def on_size(self, *_args: Any) -> None:
        self.wide = self.width >= theme.TABLET_MIN_WIDTH

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def select(self, task_id: str) -> None:
        app = App.get_running_app()
        task = app.services.store.get(Entity.task, task_id) or {}
        customer_id = str(task.get("customer_id") or "")
        if not self.wide:
            if customer_id:
                self.manager.get_screen("customer").show(customer_id)
            return
        row = next((row for row in self.rows if row["task_id"] == task_id), None)
        customer = app.services.store.get(Entity.customer, customer_id) or {} if customer_id else {}
        self.detail_id = task_id if task else ""
        self.detail_title = str(task.get("title") or "")
        self.detail_customer_id = customer_id
        lines = [
            row["due"].capitalize() if row and row["due"] else "No due date",
            f"At {customer.get('name')}" if customer else "Not about a customer",
            str(customer.get("street") or "") + (f", {customer.get('city')}" if customer.get("city") else ""),
            "",
            str(task.get("description") or "No description."),
        ]
        self.detail_text = "\n".join(line for line in lines if line is not None).strip()

    def refresh(self) -> None:
        app = App.get_running_app()
        tasks = app.services.work.my_open_tasks()
        ids = {task.get("customer_id") for task in tasks if task.get("customer_id")}
        customers = {c_id: app.services.store.get(Entity.customer, c_id) or {} for c_id in ids}
        shown = task_rows(tasks, customers, app.zone, datetime.now(UTC))
        self.heading = (
            f"{len(shown)} open task{'s' if len(shown) != 1 else ''}" if shown else "No open task. Well done."
        )
        self.rows = [
            {
                "task_id": row.id,
                "title": row.title,
                "customer_name": row.customer_name,
                "due": row.due + ("  (overdue)" if row.overdue else ""),
                "overdue": "1" if row.overdue else "",
            }
            for row in shown
        ]

    def complete(self, task_id: str) -> None:
        app = App.get_running_app()
        app.services.work.complete_task(task_id)
        app.after_write()
        if task_id == self.detail_id:
            self.detail_id = self.detail_title = self.detail_text = self.detail_customer_id = ""
        self.refresh()
