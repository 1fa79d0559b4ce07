"""Login, token lifetimes, refresh rotation, revocation and throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select

from server.models import User
from tests.server.conftest import TEST_SECRET
from tests.server.world import PASSWORD


def login(client, email: str, password: str = PASSWORD, **headers: str):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password}, headers=headers)


def test_password_login_returns_bearer_tokens(client, world):
    response = login(client, world.email("r1"))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == str(world.r1)


def test_wrong_password_and_unknown_account_look_the_same(client, world):
    wrong = login(client, world.email("r1"), "not-the-password")
    unknown = login(client, "nobody@world.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "INVALID_CREDENTIALS"


def test_access_token_expires(client, world):
    expired = jwt.encode(
        {
            "sub": str(world.r1),
            "org": str(world.org_a),
            "role": "rep",
            "gen": 0,
            "aud": "fieldforce-api",
            "exp": datetime.now(UTC) - timedelta(seconds=1),
        },
        TEST_SECRET,
        algorithm="HS256",
    )
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


def test_token_signed_with_another_key_is_refused(client, world):
    forged = jwt.encode(
        {
            "sub": str(world.admin_a),
            "org": str(world.org_a),
            "role": "admin",
            "gen": 0,
            "aud": "fieldforce-api",
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        "some-other-secret-some-other-secret",
        algorithm="HS256",
    )
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(client, world):
    first = login(client, world.email("r1")).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    # The old token again: theft. It fails, and so does the newest one.
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "REFRESH_TOKEN_REUSED"
    newest = client.post("/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert newest.status_code == 401


def test_password_change_revokes_refresh_and_access_tokens(client, world):
    tokens = login(client, world.email("r2")).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    changed = client.post(
        "/api/v1/auth/password",
        headers=auth,
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/users/me", headers=auth).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert login(client, world.email("r2"), "a-brand-new-password").status_code == 200


def test_deactivation_revokes_tokens(client, as_user, world):
    tokens = login(client, world.email("r2")).json()
    assert client.patch(f"/api/v1/users/{world.r2}", headers=as_user("m1"), json={"active": False}).status_code == 200
    assert (
        client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    )
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(client, world.email("r2")).status_code == 401


def test_failed_logins_are_throttled_per_account(client, world):
    for _ in range(5):
        assert login(client, world.email("r3"), "guess-guess").status_code == 401
    blocked = login(client, world.email("r3"))  # even the right password waits now
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "LOGIN_THROTTLED"
    assert int(blocked.headers["Retry-After"]) > 0


def test_failed_logins_are_throttled_per_address(client, world):
    for n in range(5):
        login(client, f"spray{n}@world.test", "guess-guess")
    blocked = login(client, world.email("m2"))
    assert blocked.status_code == 429


def test_passwords_are_stored_as_argon2(db, world):
    stored = db.scalar(select(User.password_hash).where(User.id == world.r1))
    assert stored.startswith("$argon2id$")
