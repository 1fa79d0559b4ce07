"""Journeys through the real app in a real Kivy window, driven by simulated taps.

Run by the tests in a subprocess (Kivy's window is one per process):

    python -m tests.mobile.ui.journeys sign_in --server URL --data DIR --shots DIR \
        --email E --password P [--size phone|tablet]

Each journey is a generator run on Kivy's UI thread: `yield seconds` waits,
`yield condition` waits until it holds (or fails the journey after 30 s).
What the journey saw is printed as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SIZES = {"phone": (360, 640), "tablet": (1280, 800)}
Step = Generator[float | Callable[[], bool], None, None]


def tap(widget: Any) -> None:
    """A finger down and up on the widget's centre, through Kivy's touch dispatch."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def reveal(widget: Any) -> None:
    """Scroll the widget's ScrollView so that it is on screen (a finger can only tap what it sees)."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and not isinstance(parent, ScrollView):
        parent = parent.parent
    if parent is not None:
        parent.scroll_to(widget, padding=10, animate=False)


def sign_in(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    screen = app.root.get_screen("sign_in")
    yield 0.5
    shot("sign-in")
    screen.ids.server.ids.input.text = ""
    tap(screen.ids.submit)
    yield 0.2
    seen["empty_form_errors"] = {name: screen.ids[name].error for name in ("server", "email", "password")}
    shot("sign-in-errors")

    screen.ids.server.ids.input.text = "http://127.0.0.1:1"  # nothing listens there
    screen.ids.email.ids.input.text = args.email
    screen.ids.password.ids.input.text = args.password
    tap(screen.ids.submit)
    yield lambda: bool(screen.message)
    seen["unreachable_message"] = screen.message
    screen.message = ""
    screen.ids.server.ids.input.text = args.server
    screen.ids.password.ids.input.text = "not-the-password"
    tap(screen.ids.submit)
    yield lambda: bool(screen.message)
    seen["wrong_password_message"] = screen.message

    screen.ids.password.ids.input.text = args.password
    tap(screen.ids.submit)
    yield lambda: app.root.current == "today" and app.last_sync != "never" and not app.syncing
    today = app.root.get_screen("today")
    today.refresh()
    yield 0.3
    seen["after_sign_in"] = {
        "screen": app.root.current,
        "rows": [(row["number"], row["customer_name"], row["window"], row["status"]) for row in today.rows],
        "progress": today.progress,
        "pending": app.pending,
        "online": app.online,
    }
    shot("today")
    if today.rows:
        tap(visit_row(today, today.rows[0]["visit_id"]))  # a phone opens the visit; a tablet shows it aside
        yield 0.3
        seen["selected"] = today.selected.customer_name if today.selected else None
        seen["screen_after_tap"] = app.root.current
        shot("first-visit")
        if app.root.current == "visit":
            tap(app.root.get_screen("visit").ids.back)
            yield lambda: app.root.current == "today"

    tap(today.ids.day_button)
    yield lambda: app.tracking
    yield 1.5  # a few replayed fixes
    shot("today-tracking")
    tap(today.ids.map_button)
    route_map = app.root.get_screen("route_map")
    yield lambda: app.root.current == "route_map"
    yield 0.3
    shot("route-map")
    seen["map_pins"] = [pin[0] for pin in route_map.pins]
    seen["map_here"] = route_map.here is not None
    seen["map_showing"] = route_map.showing
    tap(route_map.ids.back)
    yield lambda: app.root.current == "today"
    tap(today.ids.day_button)
    yield lambda: not app.tracking
    app.sync_now("journey")
    yield lambda: not app.syncing and app.services.tracker.pending_marks() == 0 and app.pending == 0
    seen["after_day"] = {
        "buffered": app.services.tracker.buffered(),
        "marks_waiting": app.services.tracker.pending_marks(),
        "sync_message": app.sync_message,
    }
    # Customers: a tap opens the customer on a phone, shows them beside the list on a tablet.
    tap(today.ids.nav.ids.customers)
    customers = app.root.get_screen("customers")
    yield lambda: app.root.current == "customers" and bool(customers.rows)
    yield 0.3
    tap(customers.ids.customers.children[0].children[-1])  # the first row
    yield 0.3
    seen["customer_tap"] = {"screen": app.root.current, "beside": customers.detail_title}
    shot("customers")
    # Tasks: the same, a task beside the list on a tablet; its customer's page on a phone.
    app.go("tasks")
    tasks = app.root.get_screen("tasks")
    yield lambda: app.root.current == "tasks" and bool(tasks.rows)
    yield 0.3
    row = [w for w in tasks.ids.tasks.children[0].children if getattr(w, "task_id", "")][-1]
    tap(row.children[-1])  # the row's text, not its Done button
    yield 0.3
    seen["task_tap"] = {"screen": app.root.current, "beside": tasks.detail_title, "text": tasks.detail_text}
    shot("tasks")
    # Review with changes waiting (the server out of reach): each listed beside on a tablet.
    import httpx

    from shared.sync.protocol import Entity

    online = app.services.client.http
    app.services.client.http = httpx.Client(base_url="http://127.0.0.1:1", timeout=2)
    first = app.services.store.query(Entity.customer, order="name", limit=1)[0]
    app.services.work.edit_customer(first["id"], phone="+33 4 78 12 12 12")
    app.services.work.add_note(first["id"], "Closed on Mondays.")
    app.after_write()
    app.go("review")
    review = app.root.get_screen("review")
    yield lambda: app.root.current == "review" and len(review.changes) == 2
    yield 0.3
    seen["review"] = {"waiting": review.waiting, "changes": [dict(c) for c in review.changes]}
    for change in seen["review"]["changes"]:
        change.pop("tone", None)
    shot("review-waiting")
    app.services.client.http = online
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0


def signed_in(app: Any, args: argparse.Namespace) -> Step:
    """Sign in with the right password and wait for the first sync."""
    screen = app.root.get_screen("sign_in")
    yield 0.3
    screen.ids.server.ids.input.text = args.server
    screen.ids.email.ids.input.text = args.email
    screen.ids.password.ids.input.text = args.password
    tap(screen.ids.submit)
    yield lambda: app.root.current == "today" and app.last_sync != "never" and not app.syncing


def visit_row(today: Any, visit_id: str) -> Any:
    rows = [w for w in today.ids.visits.children[0].children if getattr(w, "visit_id", None) == visit_id]
    return rows[0]


def a_day_offline(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """Start the day, lose the network, do the first visit (check in near the customer, a
    note, check out with an outcome), end the day, get the network back: all of it arrives."""
    import httpx

    from mobile.device.location import FakeLocation, fixes_along
    from shared.sync.protocol import Entity

    yield from signed_in(app, args)
    today = app.root.get_screen("today")
    today.refresh()
    yield 0.2
    first = today.rows[0]
    customer = app.services.store.get(
        Entity.customer, app.services.store.get(Entity.visit, first["visit_id"])["customer_id"]
    )
    lat, lon = customer["location"]["lat"], customer["location"]["lon"]
    # The GPS: a walk that ends 20 m from the customer's door.
    walk = [(lat - 0.002 + k * 0.0002, lon) for k in range(10)] + [(lat + 0.00018, lon)] * 20
    app.services.location = FakeLocation(fixes_along(walk, datetime.now(UTC), timedelta(seconds=5)), speed=25)

    online = app.services.client.http
    app.services.client.http = httpx.Client(base_url="http://127.0.0.1:1", timeout=2)  # the network is gone
    tap(today.ids.day_button)
    yield lambda: app.tracking
    app.sync_now("journey")
    yield lambda: not app.syncing and not app.online
    shot("offline")
    seen["offline_message"] = app.sync_message

    tap(visit_row(today, first["visit_id"]))
    visit = app.root.get_screen("visit")
    yield lambda: app.root.current == "visit"
    yield lambda: app.services.location.last_fix is not None and "from the customer" in visit.where
    yield 2.5  # at the door
    tap(visit.ids.check_in)
    yield lambda: visit.visit is not None and visit.visit.status == "in_progress"
    seen["where_at_check_in"] = visit.where
    visit.ids.note.text = "Wants the spring catalogue; call back in March."
    tap(visit.ids.save_note)
    yield 0.2
    # A 30 MB photo (a camera at full resolution): kept on the phone, sent after the data.
    from mobile.device.camera import FixedCamera

    photo = args.data / "DSC_0042.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(30_000_000 - 4))
    app.services.camera = FixedCamera(photo)
    reveal(visit.ids.add_photo)
    yield 0.2
    tap(visit.ids.add_photo)
    yield lambda: visit.message.startswith("Photo added")
    seen["photo_message"] = visit.message
    reveal(visit.ids.check_out)
    yield 0.2
    tap(visit.ids.check_out)  # no outcome chosen yet: refused, said in words
    yield 0.2
    seen["check_out_without_outcome"] = visit.message
    visit.ids.outcome.text = "Order taken"
    visit.message = ""
    yield 0.3
    shot("visit")
    tap(visit.ids.check_out)
    yield lambda: app.root.current == "today"
    today.refresh()
    yield 0.2
    seen["progress_offline"] = today.progress
    seen["pending_offline"] = app.pending
    tap(today.ids.day_button)
    yield lambda: not app.tracking
    shot("day-done-offline")

    app.services.client.http = online  # the network is back
    app.sync_now("journey")
    yield lambda: not app.syncing and app.online and app.pending == 0 and app.services.tracker.pending_marks() == 0
    today.refresh()
    yield 0.2
    shot("synced")
    seen["after_sync"] = {
        "pending": app.pending,
        "buffered": app.services.tracker.buffered(),
        "progress": today.progress,
    }
    seen["visit_id"] = first["visit_id"]


def customers_and_tasks(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """A GPS that never fixes; a visit moved an hour later; a customer found by name, their page,
    a call; a task completed that reaches the server."""
    yield from signed_in(app, args)
    today = app.root.get_screen("today")
    today.refresh()
    yield 0.2
    last = today.rows[-1]["visit_id"]  # 14:00, still planned whatever ran before
    today.select(last)  # a phone opens it
    visit = app.root.get_screen("visit")
    yield lambda: app.root.current == "visit"
    tap(visit.ids.check_in)  # the day was not started: the GPS is off, there is no fix
    yield 0.2
    seen["no_fix_message"] = visit.message
    reveal(visit.ids.later)
    yield 0.2
    tap(visit.ids.later)
    yield lambda: app.root.current == "today"
    today.refresh()
    yield 0.2
    seen["moved_to"] = next(row["window"] for row in today.rows if row["visit_id"] == last)
    yield lambda: app.pending == 0 and not app.syncing  # the move is sent (2 s after the edit)
    tap(today.ids.nav.ids.customers)
    customers = app.root.get_screen("customers")
    yield lambda: app.root.current == "customers"
    customers.ids.query.text = args.search
    yield lambda: bool(customers.rows) and args.search.lower() in customers.rows[0]["name"].lower()
    yield 0.3
    shot("search")
    seen["found"] = [row["name"] for row in customers.rows]
    row = next(w for w in customers.ids.customers.children[0].children if getattr(w, "name", "") == seen["found"][0])
    tap(row)
    customer = app.root.get_screen("customer")
    yield lambda: app.root.current == "customer"
    yield 0.2
    shot("customer")
    seen["customer_summary"] = customer.summary
    tap(customer.ids.call)
    yield 0.1
    seen["called"] = app.services.intents.last or customer.message
    tap(customer.ids.back)
    yield lambda: app.root.current == "customers"

    tap(customers.ids.nav.ids.tasks)
    tasks = app.root.get_screen("tasks")
    yield lambda: app.root.current == "tasks"
    yield 0.2
    seen["tasks_before"] = [row["title"] for row in tasks.rows]
    shot("tasks")
    done_button = next(
        child
        for w in tasks.ids.tasks.children[0].children
        if getattr(w, "title", "") == args.task
        for child in w.children
        if getattr(child, "text", "") == "Done"
    )
    seen["pending_before_done"] = app.pending
    tap(done_button)
    yield 0.2
    seen["tasks_after"] = [row["title"] for row in tasks.rows]
    seen["pending_after_done"] = app.pending
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0


def a_new_lead(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """A lead next door to a customer: the form's checks, the duplicate warning, saved anyway."""
    from mobile.device.location import FakeLocation, fixes_along
    from shared.sync.protocol import Entity

    yield from signed_in(app, args)
    neighbour = app.services.store.query(Entity.customer, "name = ?", (args.search,))[0]
    spot = (neighbour["location"]["lat"] + 0.0001, neighbour["location"]["lon"])  # 11 m away
    app.services.location = FakeLocation(fixes_along([spot] * 3, datetime.now(UTC), timedelta(seconds=1)), speed=10)
    app.services.location.start(lambda fix: None, lambda status: None)
    app.go("customers")
    customers = app.root.get_screen("customers")
    yield lambda: app.root.current == "customers"
    tap(customers.ids.new_lead)
    lead = app.root.get_screen("lead")
    yield lambda: app.root.current == "lead"
    reveal(lead.ids.save)
    yield 0.2
    tap(lead.ids.save)
    yield 0.2
    seen["empty_name_error"] = lead.ids.name.error
    lead.ids.name.ids.input.text = "Boulangerie du Coin"
    lead.ids.phone.ids.input.text = "12"
    reveal(lead.ids.save)
    yield 0.2
    tap(lead.ids.save)
    yield 0.2
    seen["bad_phone_error"] = lead.ids.phone.error
    lead.ids.phone.ids.input.text = "+33 4 78 00 00 42"
    lead.ids.contact.ids.input.text = "Mme Roux"
    lead.ids.note.ids.input.text = "Opens a second shop in spring."
    # A photo chosen from a file, as on the desktop: once cancelled, then chosen.
    from mobile.ui.file_picker import FilePickerCamera
    from tests.mobile.ui.fake_tiles import tile_png

    pictures = args.data / "pictures"
    pictures.mkdir(exist_ok=True)
    (pictures / "shop-front.png").write_bytes(tile_png(1, 1, 1))
    (pictures / "notes.txt").write_text("not a picture")
    picker = FilePickerCamera(pictures)
    app.services.camera = picker
    reveal(lead.ids.add_photo)
    yield 0.2
    tap(lead.ids.add_photo)
    yield lambda: picker.popup is not None
    yield 0.5
    assert picker.chooser is not None
    seen["chooser_lists"] = sorted(Path(path).name for path in picker.chooser.files if Path(path).is_file())
    tap(picker.cancel_button)
    yield lambda: picker.popup is None
    yield 0.5  # the dialog fades out; until then it still takes the touches
    seen["photo_after_cancel"] = lead.photo_name
    tap(lead.ids.add_photo)
    yield lambda: picker.popup is not None
    yield 0.5
    picker.chooser.selection = [str(pictures / "shop-front.png")]
    yield 0.3
    shot("photo-chooser")
    tap(picker.use_button)
    yield lambda: bool(lead.photo_name)
    seen["photo_chosen"] = lead.photo_name
    yield lambda: app.services.location.last_fix is not None
    reveal(lead.ids.here)
    yield 0.2
    tap(lead.ids.here)
    yield lambda: bool(lead.nearby_name)
    seen["duplicate_warning"] = lead.nearby_name
    reveal(lead.ids.save)
    yield 0.2
    tap(lead.ids.save)
    yield 0.3
    seen["first_save_message"] = lead.message
    shot("lead-duplicate")
    reveal(lead.ids.save)
    yield 0.2
    tap(lead.ids.save)
    yield lambda: app.root.current == "customer"
    yield 0.2
    shot("lead-saved")
    seen["saved_title"] = app.root.get_screen("customer").title
    # While there: an unplanned visit at the new lead, checked in and out.
    tap(app.root.get_screen("customer").ids.visit_now)
    visit = app.root.get_screen("visit")
    yield lambda: app.root.current == "visit" and visit.visit is not None and visit.visit.status == "in_progress"
    seen["unplanned_visit"] = visit.visit.id
    visit.ids.outcome.text = "Interested"
    reveal(visit.ids.check_out)
    yield 0.2
    tap(visit.ids.check_out)
    yield lambda: app.root.current == "today"
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0 and not app.services.store.pending_attachments()


def a_conflict_reviewed(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """The rep fixes a phone offline; meanwhile the manager changes the same field on the web;
    back online, the manager's later edit wins and the review screen says what was lost."""
    import httpx

    yield from signed_in(app, args)
    app.go("customers")
    customers = app.root.get_screen("customers")
    yield lambda: app.root.current == "customers"
    customers.ids.query.text = args.search
    yield lambda: bool(customers.rows) and customers.rows[0]["name"] == args.search
    tap(next(w for w in customers.ids.customers.children[0].children if getattr(w, "name", "") == args.search))
    customer = app.root.get_screen("customer")
    yield lambda: app.root.current == "customer"
    customer_id = customer.customer["id"]

    online = app.services.client.http
    app.services.client.http = httpx.Client(base_url="http://127.0.0.1:1", timeout=2)  # offline
    customer.ids.phone.ids.input.text = "+33 4 78 11 11 11"
    customer.ids.email_field.ids.input.text = "not-an-email"
    tap(customer.ids.save_details)
    yield 0.2
    seen["bad_email_error"] = customer.ids.email_field.error
    customer.ids.email_field.ids.input.text = ""
    tap(customer.ids.save_details)
    yield 0.2
    seen["saved_message"] = customer.message
    seen["pending_offline"] = app.pending
    shot("customer-fixed-offline")

    # The manager, on the web, a minute later than the rep.
    with httpx.Client(base_url=args.server, timeout=10) as web:
        token = web.post("/api/v1/auth/token", data={"username": args.manager, "password": args.manager_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = web.patch(f"/api/v1/customers/{customer_id}", json={"phone": "+33 4 78 22 22 22"}, headers=headers)
        seen["manager_edit"] = answer.status_code

    app.services.client.http = online
    app.sync_now("journey")
    yield lambda: not app.syncing and app.online and app.pending == 0
    tap(customer.ids.back)
    yield lambda: app.root.current == "customers"
    tap(customers.ids.nav.ids.review)
    review = app.root.get_screen("review")
    yield lambda: app.root.current == "review" and bool(review.items)
    yield 0.3
    shot("review")
    seen["review"] = list(review.items)
    seen["waiting"] = review.waiting


def settings_too_old_and_log_out(
    app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]
) -> Step:
    """An unsent change makes log-out warn; diagnostics hold no secret; a server that no longer
    takes this app's protocol is said in words and loses nothing; logging out empties the phone."""
    import httpx

    from shared.sync.protocol import Entity

    yield from signed_in(app, args)
    online = app.services.client.http
    app.services.client.http = httpx.Client(base_url="http://127.0.0.1:1", timeout=2)
    first = app.services.store.query(Entity.customer, order="name", limit=1)[0]
    app.root.get_screen("customer").show(first["id"])
    customer = app.root.get_screen("customer")
    yield lambda: app.root.current == "customer"
    customer.ids.phone.ids.input.text = "+33 4 78 33 33 33"
    tap(customer.ids.save_details)
    yield lambda: app.pending == 1
    app.go("settings")
    settings = app.root.get_screen("settings")
    yield lambda: app.root.current == "settings"
    reveal(settings.ids.log_out)
    yield 0.2
    tap(settings.ids.log_out)
    yield 0.2
    seen["log_out_warning"] = settings.message
    shot("settings-warning")
    reveal(settings.ids.diagnostics)
    yield 0.2
    tap(settings.ids.diagnostics)
    yield 0.2
    report_path = settings.message.removeprefix("Saved to ")
    report = Path(report_path).read_text()
    seen["diagnostics_pending"] = json.loads(report)["pending"]
    seen["diagnostics_has_token"] = "access_token" in report or "bench-token" in report or "Bearer" in report

    app.services.client.http = online
    app.services.client.protocol = 0  # as an app older than the server accepts
    app.sync_now("journey")
    yield lambda: not app.syncing
    seen["too_old_message"] = app.sync_message
    seen["pending_when_too_old"] = app.pending
    app.services.client.protocol = 1
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0
    settings.confirm_logout = False
    reveal(settings.ids.log_out)
    yield 0.2
    tap(settings.ids.log_out)
    yield lambda: app.root.current == "sign_in"
    seen["customers_after_log_out"] = len(app.services.store.query(Entity.customer))
    seen["token_after_log_out"] = app.services.store.get_state("access_token")


def killed_mid_sync(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """Phase 1: an edit, then the process dies while it syncs. Phase 2 (the same data folder):
    the app opens signed in on Today, syncs on its own, and the edit arrives once."""
    import os as os_module

    from shared.sync.protocol import Entity

    if args.phase == "1":
        yield from signed_in(app, args)
        customer = app.services.store.query(Entity.customer, "name = ?", (args.search,))[0]
        app.root.get_screen("customer").show(customer["id"])
        screen = app.root.get_screen("customer")
        yield lambda: app.root.current == "customer"
        screen.ids.phone.ids.input.text = "+33 4 78 44 44 44"
        tap(screen.ids.save_details)  # the sync it schedules starts 2 s later
        yield lambda: app.pending == 1
        app.sync_now("journey")
        yield 0.05  # the push is on its way
        print(json.dumps({"journey": "killed_mid_sync", "ok": True, "killed": True}), flush=True)
        os_module._exit(9)  # no clean shutdown: as when Android kills the app
    yield lambda: app.root.current == "today" and app.last_sync != "never" and not app.syncing
    yield lambda: app.pending == 0
    seen["opened_on"] = app.root.current
    seen["pending_after_restart"] = app.pending


def session_ended(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """An admin resets the rep's password (every session ends): the app says so, keeps the
    unsent edit, and after signing in again sends it."""
    import httpx

    from shared.sync.protocol import Entity

    yield from signed_in(app, args)
    customer = app.services.store.query(Entity.customer, "name = ?", (args.search,))[0]
    app.root.get_screen("customer").show(customer["id"])
    screen = app.root.get_screen("customer")
    yield lambda: app.root.current == "customer"
    online = app.services.client.http
    app.services.client.http = httpx.Client(base_url="http://127.0.0.1:1", timeout=2)
    screen.ids.phone.ids.input.text = "+33 4 78 55 55 55"
    tap(screen.ids.save_details)
    yield lambda: app.pending == 1
    with httpx.Client(base_url=args.server, timeout=10) as web:
        token = web.post("/api/v1/auth/token", data={"username": args.manager, "password": args.manager_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        user_id = app.services.store.user_id
        reset = web.patch(f"/api/v1/users/{user_id}", json={"password": "a-brand-new-password"}, headers=headers)
        seen["reset"] = reset.status_code
    app.services.client.http = online
    app.services.store.set_state("access_token", "expired-or-revoked")  # as after the 15 minutes
    app.sync_now("journey")
    sign_in_screen = app.root.get_screen("sign_in")
    yield lambda: app.root.current == "sign_in"
    yield 0.3
    shot("session-ended")
    seen["message"] = sign_in_screen.message
    seen["pending_kept"] = app.pending
    sign_in_screen.ids.server.ids.input.text = args.server
    sign_in_screen.ids.email.ids.input.text = args.email
    sign_in_screen.ids.password.ids.input.text = "a-brand-new-password"
    tap(sign_in_screen.ids.submit)
    yield lambda: app.root.current == "today" and not app.syncing and app.pending == 0
    seen["pending_after"] = app.pending
    with httpx.Client(base_url=args.server, timeout=10) as web:  # the demo password back, for other journeys
        token = web.post("/api/v1/auth/token", data={"username": args.manager, "password": args.manager_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        web.patch(f"/api/v1/users/{user_id}", json={"password": args.password}, headers=headers)


def map_tiles_and_settings(
    app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]
) -> Step:
    """The route map over the organisation's tiles (a fake tile server): fetched once into the
    disk cache with the app's User-Agent, nothing fetched while offline; then Settings: a drawn
    map only, the tile cache deleted, and a larger text size that rebuilds the screens."""
    from mobile.ui import theme

    yield from signed_in(app, args)
    today = app.root.get_screen("today")
    today.refresh()
    tap(today.ids.map_button)
    route_map = app.root.get_screen("route_map")
    yield lambda: app.root.current == "route_map" and route_map.showing == "tiles"
    yield lambda: route_map.tiled.fetcher.fetched >= 4 and not route_map.tiled.fetcher.busy()
    yield 1.0  # the tiles fade in
    shot("route-map-tiles")
    seen["tiles"] = {"fetched": route_map.tiled.fetcher.fetched, "failed": route_map.tiled.fetcher.failed}
    seen["map_pins"] = [pin[0] for pin in route_map.pins]
    seen["attribution"] = route_map.tiled.map_source.attribution

    app.online = False  # as after a failed sync: no tile may be downloaded now
    fetched_online = route_map.tiled.fetcher.fetched
    route_map.refresh()
    seen["offline_caption"] = route_map.caption
    yield 0.3
    route_map.tiled.zoom = route_map.tiled.zoom - 2  # tiles never seen before are needed
    yield 1.5
    seen["fetched_offline"] = route_map.tiled.fetcher.fetched - fetched_online
    shot("route-map-offline")
    app.online = True

    yield 0.5
    yield lambda: not route_map.tiled.fetcher.busy()
    # Back online, mapview asks again for the tiles it skipped: the cache now holds these too.
    seen["tiles_in_all"] = route_map.tiled.fetcher.fetched
    app.go("settings")
    settings = app.root.get_screen("settings")
    yield lambda: app.root.current == "settings"
    seen["map_summary"] = settings.map_summary
    tap(settings.ids.map_vectors)
    yield 0.2
    app.go("route_map")
    yield lambda: app.root.current == "route_map"
    seen["after_vectors_choice"] = route_map.showing
    app.go("settings")
    yield lambda: app.root.current == "settings"
    tap(settings.ids.clear_tiles)
    yield 0.2
    seen["summary_after_clear"] = settings.map_summary
    text_before = theme.TEXT
    tap(settings.ids.text_large)
    yield lambda: app.root.get_screen("settings") is not settings  # the screens were rebuilt
    settings = app.root.get_screen("settings")
    yield 0.3
    seen["text_size"] = {
        "screen": app.root.current,
        "chosen": settings.text_size,
        "grew": round(theme.TEXT / text_before, 2),
        "label_font": round(settings.ids.map_tiles.font_size / theme.SMALL, 2),
    }
    shot("settings-large-text")
    app.go("today")
    yield lambda: app.root.current == "today"
    yield 0.3
    shot("today-large-text")
    seen["today_rows_after_rebuild"] = len(app.root.get_screen("today").rows)


def storage_full(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """The phone's storage fills up (SQLite's size limit stands in for the disk) while a note is
    saved: the rep is told, the typed note stays in its field, the app runs on; with room again
    the same tap saves it."""
    from kivy.clock import Clock

    from shared.sync.protocol import Entity

    yield from signed_in(app, args)
    today = app.root.get_screen("today")
    today.refresh()
    visit = app.root.get_screen("visit")
    visit.show(today.rows[0]["visit_id"])
    yield lambda: app.root.current == "visit"
    notes_before = len(app.services.store.query(Entity.note))
    store_db = app.services.store._db
    pages = store_db.execute("PRAGMA page_count").fetchone()[0]
    store_db.execute(f"PRAGMA max_page_count = {pages}")
    visit.ids.note.text = "Wants the autumn catalogue. " * 200  # more than the free pages hold
    reveal(visit.ids.save_note)
    yield 0.2
    # Through Kivy's event loop, as a real touch arrives: the error meets the app's handler.
    Clock.schedule_once(lambda _dt: tap(visit.ids.save_note))
    yield lambda: "storage is full" in visit.message
    yield 0.3
    shot("storage-full")
    seen["full"] = {
        "message": visit.message,
        "note_kept_in_field": visit.ids.note.text.startswith("Wants the autumn catalogue."),
        "notes": len(app.services.store.query(Entity.note)) - notes_before,
        "pending": app.services.store.pending_count(),
        "screen": app.root.current,
    }
    store_db.execute("PRAGMA max_page_count = 1073741823")
    tap(visit.ids.save_note)
    yield lambda: visit.message == "Note saved."
    seen["after_room"] = {
        "notes": len(app.services.store.query(Entity.note)) - notes_before,
        "field": visit.ids.note.text,
    }
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0


def for_you(app: Any, args: argparse.Namespace, seen: dict[str, Any], shot: Callable[[str], None]) -> Step:
    """After the first sync: For you holds the manager's notification and the next best
    actions; a notification read on the phone is sent with the next sync."""
    yield from signed_in(app, args)
    today = app.root.get_screen("today")
    today.refresh()
    yield lambda: today.for_you != "For you"  # the count came with the sync
    seen["button"] = today.for_you
    yield 0.3
    shot("today")
    tap(today.ids.for_you_button)
    screen = app.root.get_screen("for_you")
    yield lambda: app.root.current == "for_you" and bool(screen.rows)
    yield 0.3
    shot("list")
    seen["rows"] = [{"tag": row["tag"], "title": row["title"], "unread": row["unread"]} for row in screen.rows]
    seen["heading"] = screen.heading
    seen["pending_before"] = app.pending
    unread = next(
        child
        for w in screen.ids.entries.children[0].children
        if getattr(w, "unread", False)
        for child in w.children
        if getattr(child, "text", "") == "Read"
    )
    tap(unread)
    yield 0.3
    seen["pending_after"] = app.pending
    seen["rows_after"] = [{"tag": row["tag"], "unread": row["unread"]} for row in screen.rows]
    app.sync_now("journey")
    yield lambda: not app.syncing and app.pending == 0


JOURNEYS = {
    "for_you": for_you,
    "storage_full": storage_full,
    "map_tiles_and_settings": map_tiles_and_settings,
    "session_ended": session_ended,
    "killed_mid_sync": killed_mid_sync,
    "settings_too_old_and_log_out": settings_too_old_and_log_out,
    "a_conflict_reviewed": a_conflict_reviewed,
    "sign_in": sign_in,
    "a_day_offline": a_day_offline,
    "customers_and_tasks": customers_and_tasks,
    "a_new_lead": a_new_lead,
}


def _innermost_line(generator: Any) -> str:
    """Where a journey waits (through `yield from`), for a timeout's message."""
    while getattr(generator, "gi_yieldfrom", None) is not None:
        generator = generator.gi_yieldfrom
    frame = getattr(generator, "gi_frame", None)
    return f"{frame.f_code.co_name} line {frame.f_lineno}" if frame is not None else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("journey", choices=sorted(JOURNEYS))
    parser.add_argument("--server", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--shots", type=Path, required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--size", choices=sorted(SIZES), default="phone")
    parser.add_argument("--search", default="", help="customers_and_tasks: the name to search for")
    parser.add_argument("--task", default="", help="customers_and_tasks: the task to complete")
    parser.add_argument("--phase", default="1", help="killed_mid_sync: 1 dies mid-sync, 2 restarts")
    parser.add_argument("--manager", default="", help="a_conflict_reviewed: the manager's login")
    parser.add_argument("--manager-password", default="")
    args = parser.parse_args()

    os.environ["KIVY_NO_ARGS"] = "1"
    from kivy.config import Config

    width, height = SIZES[args.size]
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from mobile.device.intents import Intents
    from mobile.device.location import FakeLocation, fixes_along
    from mobile.ui.app import FieldForceApp

    start = datetime.now(UTC)
    track = fixes_along([(45.75 + k * 0.001, 4.85) for k in range(30)], start, timedelta(seconds=10))
    app = FieldForceApp("http://127.0.0.1:1", args.data, FakeLocation(track, speed=100), Intents(open_uri=False))
    seen: dict[str, Any] = {"journey": args.journey, "size": args.size}
    args.shots.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        made = Window.screenshot(name=str(args.shots / f"{args.journey}-{args.size}-{name}.png"))
        if made:  # Kivy numbers the file; keep the name the gallery uses
            Path(made).replace(args.shots / f"{args.journey}-{args.size}-{name}.png")
        seen.setdefault("screenshots", []).append(f"{args.journey}-{args.size}-{name}.png")

    steps: Iterator[float | Callable[[], bool]] = JOURNEYS[args.journey](app, args, seen, shot)

    def advance(_dt: float = 0.0) -> None:
        try:
            step = next(steps)
        except StopIteration:
            seen["ok"] = True
            app.stop()
            return
        except Exception:
            seen["ok"] = False
            seen["error"] = traceback.format_exc()
            app.stop()
            return
        if callable(step):
            wait_for(step, time.monotonic() + 30)
        else:
            Clock.schedule_once(advance, step)

    def wait_for(condition: Callable[[], bool], deadline: float) -> None:
        if condition():
            Clock.schedule_once(advance, 0)
        elif time.monotonic() > deadline:
            seen["ok"] = False
            screen = app.root.current if app.root else None
            line = _innermost_line(steps)
            seen["error"] = f"timed out waiting at {line}; app state: screen={screen} message={app.sync_message!r}"
            app.stop()
        else:
            Clock.schedule_once(lambda _dt: wait_for(condition, deadline), 0.1)

    Clock.schedule_once(advance, 0.5)
    app.run()
    print(json.dumps(seen, default=str))
    sys.exit(0 if seen.get("ok") else 1)


if __name__ == "__main__":
    main()
