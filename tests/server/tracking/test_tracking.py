"""Tracking on the fixed world: ingest (app and tracker apps), tracks, GPX, privacy, check-ins, presence."""

from __future__ import annotations

import itertools
import json
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from server.access.credentials import hash_password
from server.models import Device, LastPosition, Position, User, Visit, Workday
from server.tracking.retention import purge_positions
from server.tracking.throttle import tracker_failures
from shared.geo import haversine_m
from tests.server.world import WORLD as W

DAY = datetime(2026, 11, 2, tzinfo=UTC)
C1_SPOT = (45.755, 4.805)  # where c1 is (tests/server/world.py)


def batch(client, headers, points, device="r1-phone"):
    return client.post("/api/v1/tracking/positions", json={"device": device, "positions": points}, headers=headers)


def point(minute: int, lat: float = 45.75, lon: float = 4.85, **extra):
    return {"time": (DAY + timedelta(hours=9, minutes=minute)).isoformat(), "lat": lat, "lon": lon, **extra}


def stored(db, user=W.r1) -> list[Position]:
    return list(db.scalars(select(Position).where(Position.user_id == user).order_by(Position.device_time)))


# ---- the app's batches ---------------------------------------------------------------------------


def test_batch_keeps_good_points_and_names_each_bad_one(client, as_user, db):
    far_future = (datetime.now(UTC) + timedelta(hours=30)).isoformat()
    response = batch(
        client,
        as_user("r1"),
        [
            point(0, accuracy=8, speed=1.2, heading=90, altitude=170, battery=80, charging=False, activity="walking"),
            point(1, lat=91),
            {"time": far_future, "lat": 45.75, "lon": 4.85},
            point(2, lat=145.75, lon=4.85),  # latitude and longitude swapped
            {"lat": 45.75, "lon": 4.85},
            point(3),
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stored"], body["duplicates"]) == (2, 0)
    reasons = {item["index"]: item["reason"] for item in body["rejected"]}
    assert set(reasons) == {1, 2, 3, 4}
    assert "outside [-90, 90]" in reasons[1]
    assert "24 h in the future" in reasons[2]
    assert "swapped" in reasons[3]
    assert "time is missing" in reasons[4]
    first = stored(db)[0]
    assert (first.accuracy_m, first.speed_mps, first.battery_pct, first.activity) == (8, 1.2, 80, "walking")


def test_nan_is_rejected_per_point(client, as_user, db):
    body = '{"device": "r1-phone", "positions": [{"time": 1793610000, "lat": NaN, "lon": 4.85}]}'
    response = client.post(
        "/api/v1/tracking/positions", content=body, headers={**as_user("r1"), "Content-Type": "application/json"}
    )
    assert response.json()["rejected"] == [{"index": 0, "reason": "lat is not a finite number"}]
    assert stored(db) == []


def test_resending_a_batch_stores_nothing_twice_and_order_does_not_matter(client, as_user, db):
    points = [point(10), point(5), point(20)]
    assert batch(client, as_user("r1"), points).json()["stored"] == 3
    again = batch(client, as_user("r1"), [*points, point(15)]).json()
    assert (again["stored"], again["duplicates"]) == (1, 3)
    assert [p.device_time.minute for p in stored(db)] == [5, 10, 15, 20]
    last = db.get(LastPosition, W.r1)
    assert last is not None and last.device_time.minute == 20  # the latest by device time, not by arrival


def test_batch_limits_and_devices(client, as_user):
    too_many = batch(client, as_user("r1"), [point(0)] * 1_001)
    assert (too_many.status_code, too_many.json()["code"]) == (413, "TOO_MANY_POSITIONS")
    not_mine = batch(client, as_user("r2"), [point(0)])
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "UNKNOWN_DEVICE")
    shapeless = client.post("/api/v1/tracking/positions", json=[1, 2], headers=as_user("r1"))
    assert shapeless.status_code == 422


# ---- tracker apps (OsmAnd / Traccar Client) ------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected_time"),
    [
        ({"timestamp": "1793610000"}, datetime.fromtimestamp(1793610000, UTC)),
        ({"timestamp": "1793610000123"}, datetime.fromtimestamp(1793610000.123, UTC)),
        ({"timestamp": "2026-11-02T10:00:00+01:00"}, datetime(2026, 11, 2, 9, tzinfo=UTC)),
        ({"timestamp": "2026-11-02 09:00:00"}, datetime(2026, 11, 2, 9, tzinfo=UTC)),
    ],
)
def test_osmand_query_form_and_its_time_formats(client, db, params, expected_time):
    query = {
        "id": "r1-phone",
        "lat": "45.75",
        "lon": "4.85",
        "speed": "10",
        "bearing": "270",
        "batt": "55",
        "charge": "true",
        "altitude": "180",
        "accuracy": "12",
        **params,
    }
    response = client.get("/api/v1/tracking/osmand", params=query)
    assert response.status_code == 200, response.text
    fix = stored(db)[0]
    assert fix.device_time == expected_time
    assert fix.speed_mps == pytest.approx(10 * 0.514444)  # knots on the wire
    assert (fix.heading, fix.battery_pct, fix.charging, fix.altitude_m, fix.accuracy_m) == (270, 55, True, 180, 12)


def test_osmand_variants(client, db):
    form = "deviceid=r1-phone&location=45.76,4.86&timestamp=1793610000&heading=90&hdop=2&valid=1"
    response = client.post(
        "/api/v1/tracking/osmand", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text
    fix = stored(db)[0]
    assert (fix.lat, fix.lon, fix.heading, fix.accuracy_m) == (45.76, 4.86, 90, 10)


def test_traccar_client_json(client, db):
    body = {
        "device_id": "r1-phone",
        "location": {
            "timestamp": "2026-11-02T09:30:00.000Z",
            "coords": {
                "latitude": 45.75,
                "longitude": 4.85,
                "accuracy": 6,
                "speed": -1,
                "heading": 12.5,
                "altitude": 175,
            },
            "is_moving": True,
            "odometer": 1200,
            "battery": {"level": 0.42, "is_charging": True},
            "activity": {"type": "in_vehicle"},
        },
    }
    assert client.post("/api/v1/tracking/osmand", json=body).status_code == 200
    fix = stored(db)[0]
    assert fix.device_time == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert fix.speed_mps is None  # -1 means unknown
    assert (fix.battery_pct, fix.charging, fix.activity, fix.heading) == (pytest.approx(42), True, "in_vehicle", 12.5)


def test_reports_trackers_send_in_normal_operation_are_accepted(client, db):
    """A tracker retries anything but 2xx forever: a fix it flags invalid and a heartbeat
    without coordinates are accepted; the first is kept but never moves the rep, the second
    keeps the battery and creates no track point."""
    good = {"id": "r1-phone", "lat": "45.75", "lon": "4.85", "timestamp": "1793610000"}
    assert client.get("/api/v1/tracking/osmand", params=good).status_code == 200
    invalid = {"id": "r1-phone", "lat": "45.10", "lon": "4.10", "timestamp": "1793610060", "valid": "false"}
    assert client.get("/api/v1/tracking/osmand", params=invalid).status_code == 200
    heartbeat = {"id": "r1-phone", "timestamp": "1793610120", "batt": "37", "charge": "true"}
    assert client.get("/api/v1/tracking/osmand", params=heartbeat).status_code == 200
    status_json = {"device_id": "r1-phone", "location": {"timestamp": 1793610180, "battery": {"level": 0.36}}}
    assert client.post("/api/v1/tracking/osmand", json=status_json).status_code == 200
    assert client.post("/api/v1/tracking/osmand", json={"device_id": "r1-phone"}).status_code == 200

    rows = db.execute(
        select(Position.lat, Position.valid).where(Position.user_id == W.r1).order_by(Position.device_time)
    ).all()
    assert [(round(lat, 2), valid) for lat, valid in rows] == [(45.75, True), (45.10, False)]
    last = db.get(LastPosition, W.r1)
    assert last is not None and round(last.lat, 2) == 45.75
    device = db.get(Device, W.r1_phone)
    db.refresh(device)
    assert device.battery_pct == pytest.approx(36) and device.charging is True


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "code"),
    [
        ("GET", {"params": {"id": "nobody", "lat": "1", "lon": "1"}}, 400, "UNKNOWN_DEVICE"),
        (
            "POST",
            {"json": {"device_id": "nobody", "location": {"coords": {"latitude": 1, "longitude": 1}}}},
            404,
            "UNKNOWN_DEVICE",
        ),
        ("GET", {"params": {"id": "r1-phone", "lat": "abc", "lon": "1"}}, 400, "MALFORMED_REPORT"),
        ("GET", {"params": {"lat": "1", "lon": "1"}}, 400, "MALFORMED_REPORT"),
        ("GET", {"params": {"id": "r1-phone", "lat": "200", "lon": "1"}}, 400, "MALFORMED_REPORT"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "MALFORMED_REPORT"),
        (
            "POST",
            {"json": {"device_id": "r1-phone", "location": {"coords": {"latitude": 45}}}},
            400,
            "MALFORMED_REPORT",
        ),
        ("GET", {"params": {"id": "r1-phone", "lat": "45.7"}}, 400, "MALFORMED_REPORT"),
        ("POST", {"json": {"device_id": "r1-phone", "location": "here"}}, 400, "MALFORMED_REPORT"),
        (
            "POST",
            {
                "content": b"id=r1-phone&" + b"x" * 70_000,
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ],
)
def test_tracker_errors(client, db, method, kwargs, status, code):
    response = client.request(method, "/api/v1/tracking/osmand", **kwargs)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert stored(db) == []


@pytest.fixture
def fresh_throttle():
    tracker_failures.clear()
    yield tracker_failures
    tracker_failures.clear()


def test_a_device_with_a_token_needs_it(client, db, fresh_throttle):
    """A token stored before keyed hashes (argon2) still opens, once, and is stored keyed."""
    device = db.get(Device, W.r1_phone)
    device.token_hash = hash_password("tracker-secret-token")
    db.flush()
    query = {"id": "r1-phone", "lat": "45.75", "lon": "4.85"}
    assert client.get("/api/v1/tracking/osmand", params=query).status_code == 401
    assert client.get("/api/v1/tracking/osmand", params={**query, "token": "wrong-token-value"}).status_code == 401
    assert client.get("/api/v1/tracking/osmand", params={**query, "token": "tracker-secret-token"}).status_code == 200
    db.refresh(device)
    assert device.token_hash is not None and device.token_hash.startswith("hmac-sha256$")
    assert client.get("/api/v1/tracking/osmand", params={**query, "token": "tracker-secret-token"}).status_code == 200


def test_wrong_tracker_tokens_cost_nothing_and_are_throttled(client, as_user, db, fresh_throttle):
    """The stall: ~100 wrong-token reports used to cost a password hash each (18 s for an
    ordinary request behind them). Now a keyed hash, and the device and the address are
    throttled after 10 failures in a minute (429 with Retry-After, nothing checked)."""
    made = client.post(
        "/api/v1/devices", json={"identifier": "r2-tracker", "token": "a-long-device-token"}, headers=as_user("r2")
    )
    assert made.status_code == 201
    stored_hash = db.scalar(select(Device.token_hash).where(Device.identifier == "r2-tracker"))
    assert stored_hash is not None and stored_hash.startswith("hmac-sha256$") and "a-long" not in stored_hash
    query = {"id": "r2-tracker", "lat": "45.75", "lon": "4.85"}
    started = time.perf_counter()
    answers = [
        client.get("/api/v1/tracking/osmand", params={**query, "token": f"wrong-token-{n:04d}"}) for n in range(100)
    ]
    took = time.perf_counter() - started
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    assert answers[-1].json()["code"] == "TRACKER_THROTTLED" and int(answers[-1].headers["Retry-After"]) >= 1
    assert took < 5, f"100 wrong-token reports took {took:.1f} s"
    ordinary = time.perf_counter()
    assert client.get("/api/v1/users/me", headers=as_user("r1")).status_code == 200
    assert time.perf_counter() - ordinary < 1
    # Once the minute is over (cleared here), the right token works again.
    fresh_throttle.clear()
    assert client.get("/api/v1/tracking/osmand", params={**query, "token": "a-long-device-token"}).status_code == 200


def test_password_hashing_has_a_bounded_number_of_slots():
    from server.access import credentials

    taken = [credentials._hashing.acquire(timeout=1) for _ in range(credentials.HASHING_SLOTS)]
    assert all(taken)
    try:
        original = credentials.HASHING_WAIT_S
        credentials.HASHING_WAIT_S = 0.05
        with pytest.raises(credentials.HashingBusy) as busy:
            credentials.verify_password(None, "whatever")
        assert busy.value.status == 503 and busy.value.code == "HASHING_BUSY"
    finally:
        credentials.HASHING_WAIT_S = original
        for _ in taken:
            credentials._hashing.release()
    assert credentials.verify_password(credentials.hash_password("pw-123456"), "pw-123456")


def test_device_registration(client, as_user):
    made = client.post(
        "/api/v1/devices", json={"identifier": "r2-tracker", "token": "a-long-device-token"}, headers=as_user("r2")
    )
    assert made.status_code == 201 and made.json()["user_id"] == str(W.r2) and made.json()["has_token"]
    taken = client.post("/api/v1/devices", json={"identifier": "r1-phone"}, headers=as_user("r2"))
    assert taken.status_code == 409
    for_other = client.post(
        "/api/v1/devices", json={"identifier": "x-phone", "user_id": str(W.r1)}, headers=as_user("r2")
    )
    assert (for_other.status_code, for_other.json()["code"]) == (403, "FIELD_NOT_ALLOWED")
    by_manager = client.post(
        "/api/v1/devices", json={"identifier": "m-phone", "user_id": str(W.r1)}, headers=as_user("m1")
    )
    assert by_manager.status_code == 201
    assert [d["identifier"] for d in client.get("/api/v1/devices", headers=as_user("m2")).json()["items"]] == []


# ---- tracks, GPX, privacy -----------------------------------------------------------------------


def walk(client, headers) -> list[dict]:
    """An hour: a straight walk east for 30 minutes (a fix a minute), then 20 minutes at c1."""
    points = [point(m, lat=45.75, lon=4.80 + 0.001 * m) for m in range(30)]
    points += [point(30 + m, lat=C1_SPOT[0] + 0.00001 * (m % 3), lon=C1_SPOT[1]) for m in range(21)]
    assert batch(client, headers, points).json()["stored"] == len(points)
    return points


def track_of(client, headers, who=W.r1, **params):
    query = {"start": DAY.isoformat(), "end": (DAY + timedelta(days=1)).isoformat(), **params}
    return client.get(f"/api/v1/tracking/users/{who}/track", params=query, headers=headers)


def test_track_is_simplified_with_distance_and_stops(client, as_user):
    points = walk(client, as_user("r1"))
    body = track_of(client, as_user("r1"), tolerance_m=5, stop_minutes=10, stop_radius_m=30).json()
    expected = sum(haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) for a, b in itertools.pairwise(points))
    assert body["points_recorded"] == 51
    assert body["distance_m"] == pytest.approx(expected, abs=0.1)
    assert len(body["points"]) <= 6  # a straight line and a cluster collapse to a handful of points
    assert [(round(s["lat"], 3), round(s["lon"], 3), s["minutes"]) for s in body["stops"]] == [(45.755, 4.805, 20.0)]


def test_gpx_export(client, as_user):
    walk(client, as_user("r1"))
    response = track_of(client, as_user("r1"), format="gpx", tolerance_m=0)
    assert response.headers["content-type"].startswith("application/gpx+xml")
    root = ET.fromstring(response.content)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert root.get("version") == "1.1"
    assert len(root.findall(".//g:trkpt", ns)) == 51


def test_track_range_is_checked(client, as_user):
    response = track_of(client, as_user("r1"), end=(DAY + timedelta(days=8)).isoformat())
    assert (response.status_code, response.json()["code"]) == (400, "TIME_RANGE_TOO_LONG")


def test_managers_see_positions_only_in_working_hours_of_a_started_day(client, as_user, db):
    walk(client, as_user("r1"))  # 09:00-09:50 UTC
    assert track_of(client, as_user("m1")).json()["points_recorded"] == 0  # no started day
    db.add(Workday(org_id=W.org_a, user_id=W.r1, day=DAY.date(), started_at=DAY + timedelta(hours=9, minutes=10)))
    user = db.get(User, W.r1)
    user.working_hours = {"mon": [["09:00", "09:40"]]}  # 2026-11-02 is a Monday; the organisation is on UTC
    db.flush()
    shared = track_of(client, as_user("m1"), tolerance_m=0).json()
    assert shared["points_recorded"] == 30  # 09:10 to 09:39
    assert track_of(client, as_user("r1")).json()["points_recorded"] == 51  # the rep sees everything
    assert track_of(client, as_user("admin_b")).status_code == 404


def test_last_positions_follow_the_same_privacy(client, as_user, db):
    walk(client, as_user("r1"))  # the last fix is at 09:50 UTC
    assert [p["user_id"] for p in client.get("/api/v1/tracking/last", headers=as_user("r1")).json()["items"]] == [
        str(W.r1)
    ]
    assert client.get("/api/v1/tracking/last", headers=as_user("m1")).json()["items"] == []
    db.add(Workday(org_id=W.org_a, user_id=W.r1, day=DAY.date(), started_at=DAY + timedelta(hours=8)))
    db.get(User, W.r1).working_hours = {"mon": [["08:00", "18:00"]]}
    db.flush()
    shown = client.get("/api/v1/tracking/last", headers=as_user("m1")).json()["items"]
    assert [(p["user_id"], p["lat"]) for p in shown] == [(str(W.r1), C1_SPOT[0] + 0.00001 * (20 % 3))]
    assert client.get("/api/v1/tracking/last", headers=as_user("m2")).json()["items"] == []  # not m2's team


def test_workday_start_and_end(client, as_user, db):
    started = client.post("/api/v1/tracking/workday/start", headers=as_user("r1")).json()
    assert started["ended_at"] is None
    ended = client.post("/api/v1/tracking/workday/end", headers=as_user("r1")).json()
    assert ended["ended_at"] is not None
    again = client.post("/api/v1/tracking/workday/start", headers=as_user("r1")).json()
    assert again["started_at"] == started["started_at"] and again["ended_at"] is None


def test_a_phone_offline_at_the_tap_sends_when_the_day_started_and_ended(client, as_user, db):
    from datetime import UTC, datetime, timedelta

    r1 = as_user("r1")
    now = datetime.now(UTC).replace(microsecond=0)

    def mark(kind: str, at: datetime):  # -> httpx.Response
        return client.post(f"/api/v1/tracking/workday/{kind}", json={"at": at.isoformat()}, headers=r1)

    # Started offline ten minutes ago, sent now; a later start the same day keeps the earliest.
    started = mark("start", now - timedelta(minutes=10))
    assert started.status_code == 200, started.text
    assert datetime.fromisoformat(started.json()["started_at"]) == now - timedelta(minutes=10)
    later = mark("start", now - timedelta(minutes=5)).json()
    assert datetime.fromisoformat(later["started_at"]) == now - timedelta(minutes=10)
    for at, code in (
        (now - timedelta(minutes=20), "END_BEFORE_START"),
        (now + timedelta(minutes=10), "TIME_IN_FUTURE"),
        (now - timedelta(hours=40), "TIME_TOO_OLD"),
    ):
        refused = mark("end", at)
        assert (refused.status_code, refused.json()["code"]) == (422, code)
    ended = mark("end", now - timedelta(minutes=1)).json()
    assert datetime.fromisoformat(ended["ended_at"]) == now - timedelta(minutes=1)


# ---- check-in verification and presence -----------------------------------------------------------


@pytest.mark.parametrize(
    ("offset_lat", "accuracy", "status"),
    [
        (0.0005, 10, "verified"),  # ~56 m
        (0.0020, 10, "out_of_range"),  # ~222 m
        (0.0020, 90, "verified"),  # 222 m <= 150 + 90
        (0.0005, 800, "unverified"),  # a fix too vague to judge
    ],
)
def test_check_in_is_verified_against_the_customer(client, as_user, db, offset_lat, accuracy, status):
    visit_id = W.child("visit", W.c1)
    lat, lon = C1_SPOT[0] + offset_lat, C1_SPOT[1]
    response = client.patch(
        f"/api/v1/visits/{visit_id}",
        json={
            "check_in_at": "2026-11-02T09:30:00Z",
            "check_in_location": {"lat": lat, "lon": lon},
            "check_in_accuracy_m": accuracy,
        },
        headers=as_user("r1"),
    )
    body = response.json()
    assert body["verification_status"] == status
    spot = db.execute(
        text("SELECT ST_Y(location::geometry), ST_X(location::geometry) FROM customers WHERE id = :c"), {"c": W.c1}
    ).one()
    assert body["verification_distance_m"] == pytest.approx(haversine_m(spot[0], spot[1], lat, lon), abs=0.01)


def test_verification_radius_is_set_per_tier(client, as_user, db):
    db.execute(
        text("UPDATE organizations SET verification_radius_m = :r WHERE id = :o"),
        {"r": json.dumps({"C": 300}), "o": W.org_a},
    )
    db.execute(text("UPDATE customers SET tier = 'C' WHERE id = :c"), {"c": W.c1})
    response = client.patch(
        f"/api/v1/visits/{W.child('visit', W.c1)}",
        json={
            "check_in_at": "2026-11-02T09:30:00Z",
            "check_in_location": {"lat": C1_SPOT[0] + 0.002, "lon": C1_SPOT[1]},
        },
        headers=as_user("r1"),
    )
    assert response.json()["verification_status"] == "verified"


def test_presence_from_the_track(client, as_user, db):
    walk(client, as_user("r1"))  # at c1 from 09:30 to 09:50
    visit = db.get(Visit, W.child("visit", W.c1))
    visit.check_in_at, visit.check_out_at = DAY + timedelta(hours=9, minutes=25), DAY + timedelta(hours=9, minutes=55)
    db.flush()
    url = f"/api/v1/visits/{visit.id}/presence"
    there = client.get(url, params={"radius_m": 50, "minutes": 15}, headers=as_user("r1")).json()
    assert there["present"] is True and there["longest_dwell_minutes"] == 20.0
    too_long = client.get(url, params={"radius_m": 50, "minutes": 25}, headers=as_user("r1")).json()
    assert too_long["present"] is False


# ---- retention -----------------------------------------------------------------------------------


def test_retention_deletes_only_old_positions(client, as_user, db, session_factory):
    walk(client, as_user("r1"))
    old = datetime.now(UTC) - timedelta(days=400)
    db.execute(
        text(
            "INSERT INTO positions (org_id, device_id, user_id, device_time, received_at, lat, lon) "
            "VALUES (:o, :d, :u, :t, :t, 45.7, 4.8)"
        ),
        {"o": W.org_a, "d": W.r1_phone, "u": W.r1, "t": old},
    )
    db.flush()
    assert purge_positions(session_factory, 180, batch=1) == 1
    assert len(stored(db)) == 51
    assert db.get(Device, W.r1_phone) is not None  # the device stays


def test_a_removed_devices_identifier_can_be_registered_again(client, as_user):
    first = client.post("/api/v1/devices", json={"identifier": "shared-tracker-7"}, headers=as_user("r2"))
    assert first.status_code == 201
    taken = client.post("/api/v1/devices", json={"identifier": "shared-tracker-7"}, headers=as_user("r1"))
    assert taken.status_code == 409
    assert client.delete(f"/api/v1/devices/{first.json()['id']}", headers=as_user("r2")).status_code == 204
    again = client.post("/api/v1/devices", json={"identifier": "shared-tracker-7"}, headers=as_user("r1"))
    assert again.status_code == 201, again.text
