"""The caller is resolved once per token for ACTOR_CACHE_SECONDS, and a password change or a
deactivation forgets it at once (in the process that made it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event, update

from server.access.actor import Actor
from server.access.actor_cache import ActorCache, actor_cache
from server.app import create_app
from server.models import User
from shared.enums import Role
from tests.server.conftest import serving, token_for
from tests.server.world import WORLD as W


@pytest.fixture
def cached_server(settings, engine, session_factory, world, connection) -> Iterator[str]:
    actor_cache.clear()
    app = create_app(
        settings.model_copy(update={"actor_cache_seconds": 30}), engine=engine, session_factory=session_factory
    )
    with serving(app) as url:
        yield url
    actor_cache.clear()


def test_a_token_is_resolved_once_then_forgotten_on_deactivation(cached_server, connection, db):
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    headers = {"Authorization": f"Bearer {token_for(W, 'r1')}"}
    with httpx.Client(base_url=cached_server) as http:
        assert http.get("/api/v1/users/me", headers=headers).status_code == 200
        first = sum("FROM users" in s for s in statements)
        statements.clear()
        for _ in range(5):
            assert http.get("/api/v1/users/me", headers=headers).status_code == 200
        # No query resolves the caller again (the endpoint's own read of the user remains).
        assert sum("territory_reps" in s for s in statements) == 0 and first >= 1
        # A deactivation through the API forgets the cached caller at once.
        admin = {"Authorization": f"Bearer {token_for(W, 'admin_a')}"}
        assert http.patch(f"/api/v1/users/{W.r1}", json={"active": False}, headers=admin).status_code == 200
        assert http.get("/api/v1/users/me", headers=headers).status_code == 401
    event.remove(connection, "before_cursor_execute", record)
    db.execute(update(User).where(User.id == W.r1).values(active=True))


def test_entries_expire_and_the_cache_is_bounded():
    cache = ActorCache(max_entries=2)
    actor = Actor(uuid.uuid4(), uuid.uuid4(), Role.rep, "a@b.c")
    cache.put("t1", actor, ttl=0.0)
    assert cache.get("t1") is None  # a zero TTL keeps nothing
    cache.put("t1", actor, ttl=30)
    cache.put("t2", actor, ttl=30)
    cache.put("t3", actor, ttl=30)
    assert cache.get("t1") is None and cache.get("t3") is actor
    cache.put("t4", actor, ttl=-1)
    assert cache.get("t4") is None
    cache.forget_user(actor.user_id)
    assert cache.get("t3") is None
