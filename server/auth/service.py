"""Login, token rotation and revocation, and login throttling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.access.credentials import (
    AccessClaims,
    create_access_token,
    hash_password,
    new_refresh_token,
    refresh_token_digest,
    revoke_all_sessions,
    verify_password,
)
from server.config import Settings
from server.errors import AppError, TooManyRequests, Unauthorized
from server.models import LoginFailure, Organization, RefreshToken, User


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    persist_changes = True  # the failure counter must be kept


def _now() -> datetime:
    return datetime.now(UTC)


# ---- throttling -------------------------------------------------------------


def throttle_keys(username: str, client_address: str | None) -> list[str]:
    """The account's key is its email whichever way it is written (`org-slug/email` is the
    same account, not a second budget), and the client's address."""
    email = username.strip().lower().rsplit("/", 1)[-1]
    keys = [f"account:{email}"]
    if client_address:
        keys.append(f"address:{client_address}")
    return keys


def claim_account(session: Session, keys: list[str]) -> None:
    """One password check per account at a time (a transaction-scoped advisory lock): the
    check, the password and the count then happen as one step, so concurrent wrong
    passwords cannot all be checked before any is counted. A second login to the same
    account in the same instant is told to retry in a second."""
    taken = session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtextextended(keys[0], 0))))
    if not taken:
        raise TooManyRequests(
            "Another sign-in to this account is being checked; retry in a second",
            code="LOGIN_THROTTLED",
            headers={"Retry-After": "1"},
        )


def check_throttle(session: Session, settings: Settings, keys: list[str]) -> None:
    """429 while any key has too many recent failures; Retry-After says when to try."""
    since = _now() - timedelta(seconds=settings.login_failure_window_seconds)
    rows = session.execute(
        select(LoginFailure.throttle_key, func.count(), func.min(LoginFailure.failed_at))
        .where(LoginFailure.throttle_key.in_(keys), LoginFailure.failed_at >= since)
        .group_by(LoginFailure.throttle_key)
    ).all()
    for key, count, oldest in rows:
        if count >= settings.login_max_failures:
            retry_after = max(
                1, int((oldest + timedelta(seconds=settings.login_failure_window_seconds) - _now()).total_seconds())
            )
            scope = "account" if key.startswith("account:") else "address"
            raise TooManyRequests(
                f"Too many failed logins for this {scope}; retry in {retry_after} s",
                code="LOGIN_THROTTLED",
                headers={"Retry-After": str(retry_after)},
            )


def record_failure(session: Session, keys: list[str]) -> None:
    """Count a failed login; the caller raises an error with persist_changes."""
    session.add_all(LoginFailure(throttle_key=key) for key in keys)
    # Old failures are useless; keep the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < _now() - timedelta(days=1)))
    session.flush()


def clear_account_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.throttle_key == throttle_keys(username, None)[0]))


# ---- login and tokens ---------------------------------------------------------


def find_login_candidates(session: Session, username: str) -> list[User]:
    """`email`, or `org-slug/email` when the same email exists in several organisations."""
    slug: str | None = None
    email = username.strip().lower()
    if "/" in email:
        slug, email = email.split("/", 1)
    stmt = select(User).where(func.lower(User.email) == email, User.deleted_at.is_(None), User.active.is_(True))
    if slug is not None:
        stmt = stmt.join(Organization, Organization.id == User.org_id).where(Organization.slug == slug)
    return list(session.scalars(stmt))


def authenticate(session: Session, username: str, password: str) -> User:
    candidates = find_login_candidates(session, username)
    if not candidates:
        verify_password(None, password)  # same time as a real check
        raise InvalidCredentials("Incorrect email or password")
    matches = [user for user in candidates if verify_password(user.password_hash, password)]
    if not matches:
        raise InvalidCredentials("Incorrect email or password")
    if len(matches) > 1:
        raise AppError(
            "This email belongs to several organisations; log in as org-slug/email",
            code="AMBIGUOUS_LOGIN",
            status=400,
        )
    return matches[0]


def log_in(session: Session, settings: Settings, username: str, password: str, client_address: str | None) -> TokenPair:
    """The API's login: the checked credentials, then a token pair."""
    return issue_tokens(session, settings, check_credentials(session, settings, username, password, client_address))


def check_credentials(
    session: Session, settings: Settings, username: str, password: str, client_address: str | None
) -> User:
    """The login sequence shared by the API and the dashboard: refuse while throttled, check
    the password, count a failure (kept even though the request fails) or clear the
    account's failures."""
    keys = throttle_keys(username, client_address)
    claim_account(session, keys)
    check_throttle(session, settings, keys)
    try:
        user = authenticate(session, username, password)
    except InvalidCredentials:
        record_failure(session, keys)
        raise
    clear_account_failures(session, username)
    return user


def issue_tokens(session: Session, settings: Settings, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
    access = create_access_token(
        AccessClaims(user.id, user.org_id, user.role, user.auth_generation),
        settings.secret_key,
        settings.access_token_minutes,
    )
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            org_id=user.org_id,
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=refresh_token_digest(refresh),
            expires_at=_now() + timedelta(days=settings.refresh_token_days),
        )
    )
    session.flush()
    return TokenPair(access, refresh, settings.access_token_minutes * 60)


class RefreshReused(Unauthorized):
    code = "REFRESH_TOKEN_REUSED"
    persist_changes = True  # the family's revocation must be kept


def rotate_refresh_token(session: Session, settings: Settings, token: str) -> TokenPair:
    """Swap a refresh token for a new pair. A token used twice means it leaked:
    the whole family is revoked."""
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == refresh_token_digest(token)).with_for_update()
    )
    if row is None or row.expires_at <= _now():
        raise Unauthorized("The refresh token is invalid or expired", code="INVALID_REFRESH_TOKEN")
    if row.revoked_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        session.flush()
        raise RefreshReused("This refresh token was already used; all tokens of this login are revoked")
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.deleted_at is not None:
        raise Unauthorized("The account is no longer active", code="INVALID_REFRESH_TOKEN")
    row.revoked_at = _now()
    return issue_tokens(session, settings, user, family_id=row.family_id)


def change_password(
    session: Session, settings: Settings, user: User, current: str, new: str, client_address: str | None = None
) -> None:
    """The current password is checked under the login's own budget (a stolen access token
    must not become unlimited password guesses)."""
    keys = throttle_keys(user.email, client_address)
    claim_account(session, keys)
    check_throttle(session, settings, keys)
    if not verify_password(user.password_hash, current):
        record_failure(session, keys)
        raise InvalidCredentials("The current password is wrong")
    clear_account_failures(session, user.email)
    user.password_hash = hash_password(new)
    revoke_all_sessions(session, user)
    session.flush()
