"""FieldForceApp: the one place that builds the core objects and hands them to the screens.

Network and disk work run on the `SyncRunner`'s thread; their results come back
to the UI thread with `Clock.schedule_once`. Sync runs on its own: at start,
shortly after each local write, every few minutes, and on "sync now".
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from mobile.core import map_context, next_actions
from mobile.core.field_work import FieldWork
from mobile.core.store import LocalStore, StorageFull
from mobile.core.sync_client import (
    AuthenticationFailed,
    SyncClient,
    SyncError,
    SyncReport,
    TransientSyncError,
    UpgradeRequired,
)
from mobile.core.tracking import Fix, WorkdayTracker
from mobile.device.camera import Camera, FixedCamera
from mobile.device.intents import Intents
from mobile.device.location import LocationProvider
from mobile.ui import theme
from mobile.ui.screens.customer import CustomerScreen
from mobile.ui.screens.for_you import ForYouScreen
from mobile.ui.screens.lead import LeadScreen
from mobile.ui.screens.lists import CustomersScreen, TasksScreen
from mobile.ui.screens.review import ReviewScreen
from mobile.ui.screens.route_map import RouteMapScreen
from mobile.ui.screens.settings import SettingsScreen
from mobile.ui.screens.sign_in import SignInScreen
from mobile.ui.screens.today import TodayScreen
from mobile.ui.screens.visit import VisitScreen
from mobile.ui.widgets import Caption, Card, Field, MessageScreen, TouchButton

logger = logging.getLogger(__name__)
# The kit's classes, registered with Kivy's Factory on import, which the kv rules name.
KIT = (Caption, Card, Field, TouchButton)
KV_DIR = Path(__file__).parent / "screens"
AUTO_SYNC_EVERY_S = 300
AFTER_WRITE_DELAY_S = 2.0


@dataclass
class Services:
    store: LocalStore
    client: SyncClient
    work: FieldWork
    tracker: WorkdayTracker
    location: LocationProvider
    intents: Intents
    camera: Camera


def make_client(store: LocalStore, server_url: str) -> SyncClient:
    """Few quick attempts per run: the strip says "Offline" within seconds, and the app's own
    timer and the next edit try again (the client's backoff applies within a run)."""
    return SyncClient(store, server_url, max_attempts=2, backoff_base=1.0, timeout=15.0)


class OtherRepsChanges(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} unsent changes of another rep")
        self.count = count


class SyncRunner:
    """One background thread that syncs data, then positions, one request at a time;
    requests made while it works are folded into the next run."""

    def __init__(self, services: Services, on_done: Any) -> None:
        self._services = services
        self._on_done = on_done
        self._wanted: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="sync", daemon=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.put("stop")

    def request(self, reason: str) -> None:
        self._wanted.put(reason)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            reason = self._wanted.get()
            while not self._wanted.empty():  # fold what piled up into this run
                reason = self._wanted.get_nowait()
            if self._stopped.is_set():
                return
            outcome: SyncReport | Exception
            try:
                outcome = self._services.client.sync()
                self._services.tracker.upload(self._services.client)
                # Photos after data: a big one never holds back a check-out or a note.
                self._services.client.upload_attachments()
                self._refresh_map_context()
            except Exception as error:  # reported to the screen, never lost: the outbox keeps every edit
                if not isinstance(error, SyncError):
                    logger.exception("sync failed (%s)", reason)
                outcome = error
            Clock.schedule_once(lambda _dt, result=outcome: self._on_done(result))

    def _refresh_map_context(self) -> None:
        """The tile source and territory outline for the route map, and the next best
        actions; a failure here is not a failed sync (each keeps what it had)."""
        try:
            map_context.refresh(self._services.client, self._services.store)
        except (httpx.HTTPStatusError, ValueError) as problem:
            logger.warning("map settings not refreshed: %s", problem)
        try:
            next_actions.refresh(self._services.client, self._services.store)
        except (httpx.HTTPStatusError, ValueError) as problem:
            logger.warning("next best actions not refreshed: %s", problem)


STORAGE_FULL_MESSAGE = (
    "This phone's storage is full: that change was not saved (what you typed is still here). "
    "Free some space and try again; everything saved before is safe."
)


class StorageFullHandler(ExceptionHandler):
    """A write that meets a full disk was rolled back whole by the store; the rep is told
    on the screen they are on, and the app carries on (every other error still stops it)."""

    def __init__(self, app: FieldForceApp) -> None:
        super().__init__()
        self.app = app

    def handle_exception(self, exception: BaseException) -> Any:
        if isinstance(exception, StorageFull):
            self.app.storage_full()
            return ExceptionManager.PASS
        return ExceptionManager.RAISE


class FieldForceApp(App):
    title = "FieldForce"
    root: ScreenManager | None  # what build() returned (set_text_size replaces it)
    online = BooleanProperty(False)
    syncing = BooleanProperty(False)
    pending = NumericProperty(0)
    last_sync = StringProperty("never")
    sync_message = StringProperty("")
    tracking = BooleanProperty(False)
    gps_status = StringProperty("")
    status_line = StringProperty("Not synced yet")

    def __init__(
        self,
        server_url: str,
        data_dir: Path | None,
        location: LocationProvider,
        intents: Intents | None = None,
        camera: Camera | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        data_dir = data_dir or Path(self.user_data_dir)  # the platform's private app folder
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        store = LocalStore(data_dir / "fieldforce.sqlite")
        device = store.get_state("device_identifier") or f"app-{uuid.uuid4().hex[:12]}"
        store.set_state("device_identifier", device)
        client = make_client(store, store.get_state("server_url") or server_url)
        self.services = Services(
            store=store,
            client=client,
            work=FieldWork(store, client.next_hlc),
            tracker=WorkdayTracker(store, device),
            location=location,
            intents=intents or Intents(),
            camera=camera or FixedCamera(None),
        )
        self.server_url = store.get_state("server_url") or server_url
        self.zone = ZoneInfo(store.get_state("timezone") or "UTC")
        self.runner = SyncRunner(self.services, self._sync_done)

    # ---- life ---------------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        theme.set_text_size(self.services.store.get_state("text_size") or "normal")
        Builder.load_file(str(Path(__file__).parent / "widgets.kv"))
        for kv in sorted(KV_DIR.glob("*.kv")):
            Builder.load_file(str(kv))
        manager = self._screens()
        ExceptionManager.add_handler(StorageFullHandler(self))
        self.runner.start()
        store = self.services.store
        signed_in = bool(store.get_state("access_token")) and store.get_state("session_ended") != "1"
        manager.current = "today" if signed_in else "sign_in"
        self.tracking = self.services.tracker.is_on
        if self.tracking:
            self.services.location.start(self._on_fix, self._on_gps_status)
        Clock.schedule_interval(lambda _dt: self.sync_now("timer"), AUTO_SYNC_EVERY_S)
        if signed_in:
            self.sync_now("start")
        self.refresh_pending()
        return manager

    def _screens(self) -> ScreenManager:
        manager = ScreenManager(transition=NoTransition())
        manager.add_widget(SignInScreen(name="sign_in"))
        manager.add_widget(TodayScreen(name="today"))
        manager.add_widget(VisitScreen(name="visit"))
        manager.add_widget(CustomersScreen(name="customers"))
        manager.add_widget(CustomerScreen(name="customer"))
        manager.add_widget(TasksScreen(name="tasks"))
        manager.add_widget(LeadScreen(name="lead"))
        manager.add_widget(ReviewScreen(name="review"))
        manager.add_widget(SettingsScreen(name="settings"))
        manager.add_widget(RouteMapScreen(name="route_map"))
        manager.add_widget(ForYouScreen(name="for_you"))
        return manager

    def set_text_size(self, name: str) -> None:
        """Rebuild the screens with the new text size (kv rules read sizes when a widget is
        made); everything they show comes from the store, so nothing is lost."""
        self.services.store.set_state("text_size", name)
        theme.set_text_size(name)
        old = self.root
        if old is None:
            return
        current = old.current
        window = old.get_root_window()
        rebuilt = self._screens()
        if window is not None:
            window.remove_widget(old)
            window.add_widget(rebuilt)
        self.root = rebuilt
        rebuilt.current = current

    def go(self, screen: str) -> None:
        """The navigation bar: Today, Customers, Tasks."""
        if self.root is not None and self.root.current != screen:
            self.root.current = screen

    def on_stop(self) -> None:
        self.runner.stop()
        self.services.location.stop()

    # ---- signing in ---------------------------------------------------------------------------

    def sign_in(self, server_url: str, username: str, password: str, done: Any) -> None:
        """Log in on a worker thread; `done(error_text or None)` on the UI thread."""

        def work() -> None:
            error: str | None = None
            store = self.services.store
            previous = store.user_id
            try:
                client = make_client(store, server_url.rstrip("/"))
                client.login(username.strip(), password)
                if previous is not None and store.user_id != previous:
                    if store.pending_count():
                        # Another rep's unsent work is on this phone: never send it as someone else's.
                        store.set_state("user_id", previous)
                        store.set_state("access_token", "")
                        raise OtherRepsChanges(store.pending_count())
                    store.forget_everything()  # the previous rep's records are not this rep's to see
                    client.login(username.strip(), password)
                self.services.client = client
                self.services.work = FieldWork(self.services.store, client.next_hlc)
                self.services.store.set_state("server_url", server_url.rstrip("/"))
                self.server_url = server_url.rstrip("/")
            except OtherRepsChanges as held:
                error = (
                    f"This phone holds {held.count} unsent change(s) of the rep who used it before: sign in "
                    "as them to send them, or log out in Settings (they would be lost)."
                )
            except AuthenticationFailed:
                error = "Wrong email or password."
            except UpgradeRequired:
                error = "This app is too old for the server: please update it."
            except TransientSyncError:
                error = "The server cannot be reached. Check the address and your connection."
            except Exception as unexpected:
                logger.exception("sign-in failed")
                error = f"Sign-in failed: {unexpected}"
            Clock.schedule_once(lambda _dt: done(error))

        threading.Thread(target=work, name="sign-in", daemon=True).start()

    # ---- sync ---------------------------------------------------------------------------------

    def sync_now(self, reason: str = "button") -> None:
        if not self.services.store.get_state("access_token"):
            return
        self.syncing = True
        self.sync_message = "Syncing..."
        self.refresh_pending()
        self.runner.request(reason)

    def after_write(self) -> None:
        """A local edit: counted at once, sent shortly (several edits in a row go together)."""
        self.refresh_pending()
        Clock.unschedule(self._sync_after_write)
        Clock.schedule_once(self._sync_after_write, AFTER_WRITE_DELAY_S)

    def _sync_after_write(self, _dt: float) -> None:
        self.sync_now("write")

    def _sync_done(self, outcome: SyncReport | Exception) -> None:
        self.syncing = False
        if isinstance(outcome, SyncReport):
            self.online = True
            self.last_sync = datetime.now(UTC).astimezone(self.zone).strftime("%H:%M")
            self.sync_message = f"Synced at {self.last_sync}"
        elif isinstance(outcome, UpgradeRequired):
            self.online = True
            self.sync_message = "Update the app: the server no longer accepts this version. Your changes are kept."
        elif isinstance(outcome, AuthenticationFailed):
            # Password changed or account disabled: sign in again; the outbox and the records stay.
            self.online = True
            self.sync_message = "Your session has ended: sign in again. Nothing on this phone is lost."
            self.services.store.set_state("session_ended", "1")
            if self.root is not None:
                sign_in = self.root.get_screen("sign_in")
                sign_in.message = self.sync_message
                self.root.current = "sign_in"
        elif isinstance(outcome, StorageFull):
            self.sync_message = "Storage full: what the server sent could not be kept. Free some space on this phone."
        elif isinstance(outcome, TransientSyncError):
            self.online = False
            self.sync_message = "Offline: changes are kept and sent when the connection is back."
        else:
            self.sync_message = f"Sync problem: {outcome}"
        self.refresh_pending()
        if self.root is not None:
            for name in ("today", "review"):
                self.root.get_screen(name).refresh()

    def storage_full(self) -> None:
        logger.warning("a write met a full storage and was rolled back")
        screen = self.root.current_screen if self.root is not None else None
        if isinstance(screen, MessageScreen):
            screen.say(STORAGE_FULL_MESSAGE)
        self.sync_message = "Storage full: free some space on this phone."
        self.refresh_pending()

    def refresh_pending(self) -> None:
        self.pending = self.services.store.pending_count()
        state = self.sync_message or ("Online" if self.online else "Not synced yet")
        if self.pending == 0:
            waiting = "Everything sent"
        else:
            waiting = f"{self.pending} change{'s' if self.pending != 1 else ''} waiting to be sent"
        self.status_line = f"{state}\n{waiting}"

    # ---- the working day and GPS --------------------------------------------------------------

    def log_out(self) -> None:
        """Everything on the phone goes (another rep may sign in next); back to sign-in."""
        if self.tracking:
            self.toggle_day()
        self.services.store.forget_everything()
        self.tracking = False
        self.online = False
        self.sync_message = ""
        self.last_sync = "never"
        self.refresh_pending()
        if self.root is not None:
            self.root.current = "sign_in"

    def toggle_day(self) -> None:
        tracker = self.services.tracker
        if tracker.is_on:
            tracker.end_day()
            self.services.location.stop()
        else:
            tracker.start_day()
            if self.services.store.get_state("tracking_consent", "1") == "1":
                self.services.location.start(self._on_fix, self._on_gps_status)
        self.tracking = tracker.is_on
        self.after_write()

    def _on_fix(self, fix: Fix) -> None:  # the provider's thread: disk only, no widgets
        self.services.tracker.record(fix)

    def _on_gps_status(self, status: str) -> None:
        Clock.schedule_once(lambda _dt: setattr(self, "gps_status", status))


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    """For drivers outside the UI thread (tests, the screenshot tool)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
