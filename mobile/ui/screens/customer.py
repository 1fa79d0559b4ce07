"""Customer 360: who they are, where, the people, what happened, what is open; call, email, go."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import DictProperty, StringProperty

from mobile.ui.widgets import MessageScreen


class CustomerScreen(MessageScreen):
    customer = DictProperty({})
    title = StringProperty("")
    summary = StringProperty("")
    came_from = StringProperty("customers")

    def show(self, customer_id: str) -> None:
        self.came_from = self.manager.current if self.manager.current != self.name else self.came_from
        detail = App.get_running_app().services.work.customer_detail(customer_id)
        self.say("")
        self.customer = (detail or {}).get("customer") or {}
        self.title = str(self.customer.get("name") or "")
        self.ids.phone.text = str(self.customer.get("phone") or "")
        self.ids.email_field.text = str(self.customer.get("email") or "")
        self.summary = customer_summary(detail) if detail else "This customer is not on this phone."
        self.manager.current = self.name

    def call(self) -> None:
        phone = self.customer.get("phone")
        if not phone:
            self.say("No phone number for this customer.")
            return
        App.get_running_app().services.intents.call(phone)

    def email(self) -> None:
        address = self.customer.get("email")
        if not address:
            self.say("No email address for this customer.")
            return
        App.get_running_app().services.intents.email(address)

    def navigate(self) -> None:
        spot = self.customer.get("location")
        if not spot:
            self.say("This customer has no location yet.")
            return
        App.get_running_app().services.intents.navigate(spot["lat"], spot["lon"], str(self.customer.get("name")))

    def save_details(self) -> None:
        """The rep fixes the phone or the email; checked here, merged field by field on the server."""
        phone, email = self.ids.phone.text.strip(), self.ids.email_field.text.strip()
        self.ids.phone.error = "" if not phone or sum(c.isdigit() for c in phone) >= 6 else "A phone number has digits"
        self.ids.email_field.error = (
            "" if not email or ("@" in email and "." in email.split("@")[-1]) else "Not an email"
        )
        if self.ids.phone.error or self.ids.email_field.error or not self.customer:
            return
        changes = {
            name: value
            for name, value in (("phone", phone), ("email", email))
            if value and value != (self.customer.get(name) or "")
        }
        if not changes:
            self.say("Nothing changed.")
            return
        app = App.get_running_app()
        app.services.work.edit_customer(self.customer["id"], **changes)
        app.after_write()
        self.show(self.customer["id"])
        self.say("Saved; it is sent with the next sync.", good=True)

    def visit_now(self) -> None:
        """An unplanned visit here, checked in with the GPS fix; the Visit screen takes over."""
        app = App.get_running_app()
        fix = app.services.location.last_fix
        if fix is None:
            self.say("No GPS fix yet: start the day to turn the GPS on, or wait outdoors.")
            return
        visit_id = app.services.work.start_unplanned_visit(
            self.customer["id"], fix.lat, fix.lon, accuracy_m=fix.accuracy_m
        )
        app.after_write()
        self.manager.get_screen("visit").show(visit_id)

    def back(self) -> None:
        self.manager.current = self.came_from


def customer_summary(detail: dict[str, Any]) -> str:
    """A customer's page as text: who, where, the people, what is open, what happened."""
    customer = detail["customer"]
    lines = [
        (f"Tier {customer['tier']}" if customer.get("tier") else "No tier yet")
        + f"  |  {customer.get('status') or ''}"
        + (f"  |  {', '.join(customer.get('tags') or [])}" if customer.get("tags") else ""),
        ", ".join(str(p) for p in (customer.get("street"), customer.get("postal_code"), customer.get("city")) if p)
        or ("No address; located by GPS" if customer.get("location") else "No address"),
        "",
        "People: " + (", ".join(str(c.get("name")) for c in detail["contacts"]) or "none yet"),
        "Open tasks: " + (", ".join(str(t.get("title")) for t in detail["open_tasks"]) or "none"),
        "Opportunities: "
        + (
            ", ".join(f"{o.get('title')} ({o.get('stage') or 'open'})" for o in detail.get("opportunities", []))
            or "none"
        ),
        "Last orders: "
        + (
            ", ".join(
                f"{o.get('order_date')} {o.get('amount')} {o.get('currency') or ''}".strip()
                for o in detail.get("orders", [])[:3]
            )
            or "none"
        ),
        "",
        "Last visits:",
    ]
    history = [v for v in detail["history"] if v.get("status") == "completed"][:5]
    lines += [f"  {str(v.get('check_in_at') or '')[:10]}  {v.get('outcome') or ''}" for v in history] or ["  none"]
    notes = detail["notes"][:3]
    if notes:
        lines += ["", "Notes:"] + [f"  {str(n.get('body'))[:120]}" for n in notes]
    return "\n".join(lines)
