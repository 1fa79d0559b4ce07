"""A rep's journeys through the real app (a Kivy window under Xvfb, a real LocalStore, real
sync against the live server on PostGIS). The organisation is seeded and committed: a
pull serves committed changes only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from server.models import (
    Contact,
    Customer,
    LoginFailure,
    Note,
    Organization,
    Photo,
    Plan,
    Position,
    StoredFile,
    Task,
    User,
    Visit,
    Workday,
)
from server.seed.demo import DEMO_PASSWORDS, SeedOptions, seed_demo
from shared.enums import Role, TaskStatus, VisitStatus


@dataclass
class RepDay:
    rep_id: uuid.UUID
    email: str
    customers: list[str]  # names, in plan order
    task_id: uuid.UUID  # an open task of the rep's, at the first customer
    task_title: str
    manager_email: str
    org_id: uuid.UUID


@pytest.fixture(scope="module", autouse=True)
def forget_failed_logins(engine: Engine) -> Iterator[None]:
    """The journeys try wrong passwords and unreachable servers on purpose from 127.0.0.1;
    their failures must not count against the login tests' budget for the same address."""
    yield
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure))


@pytest.fixture(scope="module")
def rep_day(engine: Engine) -> RepDay:
    """A seeded organisation whose first rep has four visits planned today, in a published plan."""
    with Session(engine) as session, session.begin():
        org_id = seed_demo(
            session, SeedOptions(reps=2, customers=40, seed=99, slug="app-journeys", history_months=1)
        ).org_id
        # No tile server is reachable here: the route map is drawn as vectors, except in the
        # journey that brings its own (fake) tile server.
        session.execute(update(Organization).where(Organization.id == org_id).values(map_tile_url=""))
    with Session(engine) as session, session.begin():
        rep = session.scalars(
            select(User).where(User.org_id == org_id, User.role == Role.rep).order_by(User.email)
        ).first()
        assert rep is not None
        customers = session.scalars(
            select(Customer)
            .where(Customer.org_id == org_id, Customer.owner_id == rep.id)
            .order_by(Customer.name)
            .limit(4)
        ).all()
        today = datetime.now(UTC).date()
        stops = []
        for hour, customer in zip((9, 10, 11, 14), customers, strict=True):
            start = datetime.combine(today, time(hour), tzinfo=UTC)
            visit = Visit(
                org_id=org_id,
                customer_id=customer.id,
                rep_id=rep.id,
                planned_start=start,
                planned_end=start + timedelta(minutes=45),
                status=VisitStatus.planned,
            )
            session.add(visit)
            session.flush()
            stops.append({"visit_id": str(visit.id), "customer_id": str(customer.id), "kind": "recurring"})
        session.add(Plan(org_id=org_id, rep_id=rep.id, plan_date=today, stops=stops))
        task = Task(
            org_id=org_id,
            customer_id=customers[0].id,
            assignee_id=rep.id,
            title="Bring the new price list",
            due_at=datetime.combine(today, time(17), tzinfo=UTC),
        )
        session.add(task)
        session.flush()
        manager = session.get(User, rep.manager_id)
        assert manager is not None
        return RepDay(rep.id, rep.email, [c.name for c in customers], task.id, task.title, manager.email, org_id)


def with_manager(rep: RepDay) -> tuple[str, ...]:
    """The journey's own web session as the rep's manager (edits made "elsewhere")."""
    return ("--manager", rep.manager_email, "--manager-password", DEMO_PASSWORDS[Role.manager])


@dataclass
class Journeys:
    """Runs a journey of tests/mobile/ui/journeys.py against this module's rep and server."""

    server: str
    data: Path  # the app's data folder: the same one for two runs means the same phone
    shots: Path
    display: str
    rep: RepDay

    def __call__(self, name: str, *extra: str, size: str = "phone") -> dict[str, Any]:
        env = {**os.environ, "DISPLAY": self.display, "KIVY_HOME": str(self.data / "kivy")}
        command = [sys.executable, "-m", "tests.mobile.ui.journeys", name, "--server", self.server]
        command += ["--data", str(self.data), "--shots", str(self.shots), "--size", size]
        command += ["--email", self.rep.email, "--password", DEMO_PASSWORDS[Role.rep], *extra]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"the journey printed nothing\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        seen: dict[str, Any] = json.loads(lines[-1])
        assert seen.get("ok"), f"{seen.get('error')}\n--- the app's log:\n{done.stderr[-4000:]}"
        return seen


@pytest.fixture
def journey(live_server: str, rep_day: RepDay, display: str, screenshots: Path, tmp_path: Path) -> Journeys:
    return Journeys(live_server, tmp_path, screenshots, display, rep_day)


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_sign_in_first_sync_and_a_tracked_day(size: str, rep_day: RepDay, engine: Engine, journey: Journeys) -> None:
    seen = journey("sign_in", size=size)
    # Bad input is answered next to the field, and a wrong password in words.
    assert all(seen["empty_form_errors"].values()), seen["empty_form_errors"]
    assert seen["unreachable_message"] == "The server cannot be reached. Check the address and your connection."
    assert seen["wrong_password_message"] == "Wrong email or password."
    # The first sync brought today's plan: four visits, in plan order, none done yet.
    after = seen["after_sign_in"]
    assert after["screen"] == "today" and after["online"] is True and after["pending"] == 0
    assert [row[1] for row in after["rows"]] == rep_day.customers
    assert [row[0] for row in after["rows"]] == ["1", "2", "3", "4"]
    assert after["rows"][0][2] == "09:00-09:45" and after["rows"][0][3] == "to do"
    assert after["progress"] == "0 of 4 done"
    assert seen["selected"] == rep_day.customers[0]
    assert seen["screen_after_tap"] == ("visit" if size == "phone" else "today")
    # The route map draws the day's four stops in order, and where the rep is (no tile source: vectors).
    assert seen["map_pins"] == [1, 2, 3, 4] and seen["map_here"] is True and seen["map_showing"] == "vectors"
    # The day was started and ended on the phone; the server has both marks and the fixes.
    assert seen["after_day"]["marks_waiting"] == 0 and seen["after_day"]["buffered"] == 0
    tapped = seen["customer_tap"]
    if size == "phone":
        assert tapped["screen"] == "customer" and tapped["beside"] == ""
    else:
        assert tapped["screen"] == "customers" and tapped["beside"]
    task = seen["task_tap"]
    if size == "phone":
        assert task["screen"] == "customer" and task["beside"] == ""
    else:
        assert task["screen"] == "tasks" and task["beside"] == rep_day.task_title
        assert f"At {rep_day.customers[0]}" in task["text"]
    assert seen["review"]["waiting"] == "Waiting to be sent: 1 customer change, 1 note change"
    assert [change["title"] for change in seen["review"]["changes"]] == ["Customer changed", "New note"]
    assert seen["review"]["changes"][0]["explanation"].endswith("phone")
    with Session(engine) as session:
        workday = session.scalar(select(Workday).where(Workday.user_id == rep_day.rep_id))
        assert workday is not None and workday.ended_at is not None
    for name in seen["screenshots"]:
        assert (journey.shots / name).stat().st_size > 5_000, name


@pytest.mark.parametrize("size", ["phone"])
def test_a_day_done_offline_arrives_whole_once_back_online(
    size: str, rep_day: RepDay, engine: Engine, journey: Journeys
) -> None:
    seen = journey("a_day_offline", size=size)
    assert seen["offline_message"].startswith("Offline")
    assert seen["where_at_check_in"].startswith("You are ") and "from the customer" in seen["where_at_check_in"]
    assert seen["check_out_without_outcome"] == "Choose the outcome of the visit."
    assert seen["progress_offline"] == "1 of 4 done"
    assert seen["pending_offline"] >= 3  # check-in, note, check-out (at least), all shown and kept
    assert seen["after_sync"] == {"pending": 0, "buffered": 0, "progress": "1 of 4 done"}
    with Session(engine) as session:
        visit = session.get(Visit, uuid.UUID(seen["visit_id"]))
        assert visit is not None and visit.status is VisitStatus.completed and visit.outcome == "Order taken"
        assert visit.verification_status.value == "verified" and visit.check_in_accuracy_m is not None
        notes = session.scalars(select(Note.body).where(Note.customer_id == visit.customer_id)).all()
        assert "Wants the spring catalogue; call back in March." in notes
        fixes = session.scalars(select(Position.id).where(Position.user_id == rep_day.rep_id)).all()
        assert len(fixes) >= 5
        photo = session.scalar(select(Photo).where(Photo.visit_id == visit.id))
        assert photo is not None and photo.size_bytes == 30_000_000
        stored_file = session.scalar(select(StoredFile).where(StoredFile.sha256 == photo.sha256))
        assert stored_file is not None and stored_file.complete and stored_file.size_bytes == 30_000_000
    assert seen["photo_message"] == "Photo added (30.0 MB); it is sent after the visit's data."


def test_a_customer_found_by_name_and_a_task_done(rep_day: RepDay, engine: Engine, journey: Journeys) -> None:
    first = rep_day.customers[0]
    seen = journey("customers_and_tasks", "--search", first.split()[-1][:4], "--task", rep_day.task_title)
    assert first in seen["found"]
    assert seen["customer_summary"].startswith("Tier ") and "Bring the new price list" in seen["customer_summary"]
    assert "Last orders: 20" in seen["customer_summary"]  # orders came with sync schema 3
    assert seen["no_fix_message"].startswith("No GPS fix yet")
    assert seen["moved_to"] == "15:00-15:45"
    assert seen["called"].startswith("tel:") or seen["called"] == "No phone number for this customer."
    assert rep_day.task_title in seen["tasks_before"] and rep_day.task_title not in seen["tasks_after"]
    assert seen["pending_after_done"] - seen["pending_before_done"] == 1  # shown as waiting at once
    with Session(engine) as session:
        task = session.get(Task, rep_day.task_id)
        assert task is not None and task.status is TaskStatus.done


def test_a_new_lead_next_to_a_customer_is_warned_then_saved(rep_day: RepDay, engine: Engine, journey: Journeys) -> None:
    neighbour = rep_day.customers[1]
    seen = journey("a_new_lead", "--search", neighbour)
    assert seen["empty_name_error"] == "The business's name"
    assert seen["bad_phone_error"] == "A phone number has digits"
    assert seen["duplicate_warning"] == neighbour
    assert seen["first_save_message"].startswith(f"'{neighbour}' is already here")
    assert seen["saved_title"] == "Boulangerie du Coin"
    # The desktop's photo chooser lists pictures only; Cancel leaves no photo; the chosen one is kept.
    assert seen["chooser_lists"] == ["shop-front.png"] and seen["photo_after_cancel"] == ""
    assert seen["photo_chosen"].startswith("Photo: shop-front.png (")
    with Session(engine) as session:
        lead = session.scalar(select(Customer).where(Customer.name == "Boulangerie du Coin"))
        assert lead is not None and lead.status.value == "lead" and lead.phone == "+33478000042"
        assert lead.location is not None
        contacts = session.scalars(select(Contact.name).where(Contact.customer_id == lead.id)).all()
        assert contacts == ["Mme Roux"]
        photo = session.scalar(select(Photo).where(Photo.customer_id == lead.id))
        assert photo is not None and photo.visit_id is None
        stored = session.scalar(select(StoredFile).where(StoredFile.sha256 == photo.sha256))
        assert stored is not None and stored.complete and stored.content_type == "image/png"
        visit = session.get(Visit, uuid.UUID(seen["unplanned_visit"]))
        assert visit is not None and visit.customer_id == lead.id and visit.planned_start is None
        assert visit.status is VisitStatus.completed and visit.outcome == "Interested"


def test_a_conflict_with_the_manager_is_shown_in_review(rep_day: RepDay, engine: Engine, journey: Journeys) -> None:
    customer = rep_day.customers[2]
    seen = journey("a_conflict_reviewed", "--search", customer, *with_manager(rep_day))
    assert seen["bad_email_error"] == "Not an email"
    assert seen["saved_message"] == "Saved; it is sent with the next sync."
    assert seen["pending_offline"] == 1 and seen["manager_edit"] == 200
    [item] = seen["review"]
    assert item["title"] == f"Customer {customer}"
    assert item["explanation"] == "phone: you wrote '+33 4 78 11 11 11', kept '+33478222222' (a later change won)"
    assert seen["waiting"].startswith("Nothing waiting")
    with Session(engine) as session:
        stored = session.scalar(select(Customer).where(Customer.name == customer))
        assert stored is not None and stored.phone == "+33478222222"


def test_settings_an_app_too_old_and_logging_out(journey: Journeys) -> None:
    seen = journey("settings_too_old_and_log_out")
    assert seen["log_out_warning"].startswith("1 change not sent yet would be lost")
    assert seen["diagnostics_pending"] == 1 and seen["diagnostics_has_token"] is False
    assert seen["too_old_message"].startswith("Update the app") and seen["pending_when_too_old"] == 1
    assert seen["customers_after_log_out"] == 0 and seen["token_after_log_out"] is None


def test_the_app_killed_mid_sync_loses_nothing_and_sends_nothing_twice(
    rep_day: RepDay, engine: Engine, journey: Journeys
) -> None:
    customer = rep_day.customers[3]
    killed = journey("killed_mid_sync", "--search", customer, "--phase", "1")
    assert killed["killed"] is True
    restarted = journey("killed_mid_sync", "--search", customer, "--phase", "2")  # same folder: same phone
    assert restarted["opened_on"] == "today" and restarted["pending_after_restart"] == 0
    with Session(engine) as session:
        stored = session.scalar(select(Customer).where(Customer.name == customer))
        assert stored is not None and stored.phone == "+33478444444"
        # One edit, applied once: the customer's phone clock moved once for it.
        results = session.execute(
            text("SELECT count(*) FROM sync_mutation_results WHERE result->>'entity_id' = :id"), {"id": str(stored.id)}
        ).scalar()
        assert results == 1


def test_a_session_ended_by_a_password_reset_keeps_the_unsent_edit(
    rep_day: RepDay, engine: Engine, journey: Journeys
) -> None:
    customer = rep_day.customers[0]
    seen = journey("session_ended", "--search", customer, *with_manager(rep_day))
    assert seen["reset"] == 200
    assert seen["message"] == "Your session has ended: sign in again. Nothing on this phone is lost."
    assert seen["pending_kept"] == 1 and seen["pending_after"] == 0
    with Session(engine) as session:
        stored = session.scalar(select(Customer).where(Customer.name == customer))
        assert stored is not None and stored.phone == "+33478555555"


def test_the_route_map_over_tiles_offline_and_the_settings_that_change_it(
    rep_day: RepDay, engine: Engine, journey: Journeys
) -> None:
    from mobile.ui.tiles import USER_AGENT
    from tests.mobile.ui.fake_tiles import serving_tiles

    with serving_tiles() as tiles:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Organization)
                .where(Organization.id == rep_day.org_id)
                .values(map_tile_url=tiles.url + "/{z}/{x}/{y}.png", map_attribution="Test tiles")
            )
        try:
            seen = journey("map_tiles_and_settings")
        finally:
            with Session(engine) as session, session.begin():
                session.execute(update(Organization).where(Organization.id == rep_day.org_id).values(map_tile_url=""))
        requested = list(tiles.requests)
    # Tiles were fetched once each, with the app's own User-Agent, and only while online.
    # The day's four planned stops (an earlier journey may have added an unplanned visit after them).
    assert seen["map_pins"][:4] == [1, 2, 3, 4] and seen["attribution"] == "Test tiles"
    assert seen["tiles"]["failed"] == 0 and seen["tiles"]["fetched"] >= 4
    assert len(requested) == seen["tiles_in_all"], "a tile was fetched twice or not counted"
    assert len({path for path, _agent in requested}) == len(requested)
    assert {agent for _path, agent in requested} == {USER_AGENT}
    assert all(path.endswith(".png") and path.count("/") == 3 for path, _agent in requested)
    assert seen["fetched_offline"] == 0 and "offline: only map parts seen before" in seen["offline_caption"]
    # Settings: the rep's choice of a drawn map wins; the cache is counted and can be emptied.
    assert (
        f"Map tiles from 127.0.0.1, kept on this phone for offline use.\n{seen['tiles_in_all']} tiles stored"
        in (seen["map_summary"])
    )
    assert seen["after_vectors_choice"] == "vectors"
    assert "\n0 tiles stored (0.0 MB)." in seen["summary_after_clear"]
    # A larger text size rebuilds the screens with it and keeps the rep where they were.
    assert seen["text_size"] == {"screen": "settings", "chosen": "large", "grew": 1.2, "label_font": 1.0}
    assert seen["today_rows_after_rebuild"] == len(seen["map_pins"])
    for name in seen["screenshots"]:
        assert (journey.shots / name).stat().st_size > 5_000, name


def test_a_full_storage_is_said_and_loses_nothing(rep_day: RepDay, engine: Engine, journey: Journeys) -> None:
    seen = journey("storage_full")
    full = seen["full"]
    assert "storage is full" in full["message"] and full["note_kept_in_field"] is True
    assert (full["notes"], full["pending"], full["screen"]) == (0, 0, "visit")
    assert seen["after_room"] == {"notes": 1, "field": ""}
    with Session(engine) as session:
        note = session.scalar(select(Note).where(Note.author_id == rep_day.rep_id).order_by(Note.created_at.desc()))
        assert note is not None and note.body.startswith("Wants the autumn catalogue.")


def test_for_you_shows_the_notifications_and_the_next_actions(
    rep_day: RepDay, engine: Engine, journey: Journeys
) -> None:
    """The manager's notification and an overdue task reach the phone; the rep reads the
    notification on the phone and the read reaches the server."""
    from server.models import Notification

    with Session(engine) as session, session.begin():
        note = Notification(
            org_id=rep_day.org_id,
            recipient_id=rep_day.rep_id,
            title="Call Dupont back today",
            body="They asked for the new catalogue",
        )
        session.add(note)
        session.add(
            Task(
                org_id=rep_day.org_id,
                assignee_id=rep_day.rep_id,
                title="Send the signed quote",
                due_at=datetime.now(UTC) - timedelta(days=2),
            )
        )
        session.flush()
        note_id = note.id
    seen = journey("for_you")
    assert seen["button"].startswith("For you (")
    tags = [(row["tag"], row["title"]) for row in seen["rows"]]
    assert tags[0] == ("New", "Call Dupont back today")
    assert ("Overdue task", "Send the signed quote") in tags
    assert seen["pending_after"] - seen["pending_before"] == 1
    # Read: no longer new, and listed after the actions.
    assert not any(row["unread"] for row in seen["rows_after"])
    assert seen["rows_after"][-1] == {"tag": "Read", "unread": False}
    with Session(engine) as session:
        stored = session.get(Notification, note_id)
        assert stored is not None and stored.read_at is not None
    for name in seen["screenshots"]:
        assert (journey.shots / name).stat().st_size > 5_000, name
