"""Login throttling under concurrency, against a server that commits for real: 100 wrong
passwords at once used to be checked before any was counted (33 got through a limit of
5); `org-slug/email` was a second budget; `/auth/password` had none."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from server.models import LoginFailure
from tests.e2e.sync.harness import PASSWORD, SyncOrg, bearer


@pytest.fixture(autouse=True)
def no_failures_left(engine: Engine) -> Iterator[None]:
    yield
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure))


def forget_address(engine: Engine) -> None:
    """Leave only the account's budget (every request here comes from 127.0.0.1)."""
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure).where(LoginFailure.throttle_key.like("address:%")))


def login(base: str, username: str, password: str) -> int:
    response = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=60)
    return response.status_code


def test_concurrent_wrong_passwords_are_counted_before_more_are_checked(sync_server, org: SyncOrg, engine):
    email = org.emails[org.reps[0]]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda n: login(sync_server, email, f"wrong-{n}"), range(100)))
    answers += [login(sync_server, email, f"again-{n}") for n in range(10)]  # then one at a time
    checked = answers.count(401)
    assert checked <= 5, f"{checked} wrong passwords were checked (the limit is 5)"
    assert set(answers) <= {401, 429} and answers[-5:] == [429] * 5
    # The account is throttled however it is written, and whatever the address.
    forget_address(engine)
    assert login(sync_server, email, PASSWORD) == 429
    assert login(sync_server, f"{org.slug}/{email}", PASSWORD) == 429
    assert login(sync_server, email.upper(), PASSWORD) == 429


def test_the_password_change_has_the_same_budget(sync_server, org: SyncOrg, engine):
    headers = bearer(org, org.reps[1])
    body = {"current_password": "not-my-password", "new_password": "a-brand-new-password-1"}

    def change(_: int) -> int:
        return httpx.post(f"{sync_server}/api/v1/auth/password", json=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(change, range(30)))
    answers += [change(n) for n in range(10)]  # then one at a time, as a script would
    assert answers.count(401) <= 5 and answers[-5:] == [429] * 5, answers
    forget_address(engine)
    right = {"current_password": PASSWORD, "new_password": "a-brand-new-password-1"}
    throttled = httpx.post(f"{sync_server}/api/v1/auth/password", json=right, headers=headers, timeout=60)
    assert throttled.status_code == 429 and throttled.json()["code"] == "LOGIN_THROTTLED"
