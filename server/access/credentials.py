"""Credentials: password hashing (argon2id), access tokens (JWT, HS256), refresh
tokens, and revoking them all at once. Login and rotation live in server/auth;
these primitives are shared by every domain that stores a secret or ends a
session (users, devices)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.access.actor_cache import actor_cache
from server.errors import ServiceUnavailable
from server.models import RefreshToken, User
from shared.enums import Role

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the response
# time the same, so timing does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ACCESS_TOKEN_AUDIENCE = "fieldforce-api"


# A password hash costs ~50 ms of one core and its memory: at most this many run at once
# in a process, so a flood of logins (or anything else that hashes) cannot take every
# worker thread; past a short wait the caller is told to come back (503 HASHING_BUSY).
HASHING_SLOTS = max(2, os.cpu_count() or 2)
HASHING_WAIT_S = 5.0
_hashing = threading.BoundedSemaphore(HASHING_SLOTS)
DEVICE_TOKEN_PREFIX = "hmac-sha256$"


class HashingBusy(ServiceUnavailable):
    """Every hashing slot stayed taken for HASHING_WAIT_S."""

    code = "HASHING_BUSY"


@contextmanager
def hashing_slot() -> Iterator[None]:
    if not _hashing.acquire(timeout=HASHING_WAIT_S):
        raise HashingBusy("Too many password checks at once; try again in a moment", headers={"Retry-After": "2"})
    try:
        yield
    finally:
        _hashing.release()


def hash_password(password: str) -> str:
    with hashing_slot():
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    with hashing_slot():
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def device_token_hash(secret_key: str, token: str) -> str:
    """Device tokens are random secrets, not passwords: a keyed hash (HMAC-SHA256 with the
    installation's secret) costs microseconds to check, so a wrong token costs nothing."""
    digest = hmac.new(secret_key.encode(), b"device-token:" + token.encode(), hashlib.sha256).hexdigest()
    return DEVICE_TOKEN_PREFIX + digest


def verify_device_token(secret_key: str, stored: str, token: str) -> bool:
    """Constant time for keyed hashes; a token stored before keyed hashes (argon2) is checked
    once through the bounded hashing slots (the caller then stores it keyed)."""
    if stored.startswith(DEVICE_TOKEN_PREFIX):
        return hmac.compare_digest(stored, device_token_hash(secret_key, token))
    return verify_password(stored, token)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    generation: int


def create_access_token(claims: AccessClaims, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(claims.user_id),
        "org": str(claims.org_id),
        "role": claims.role.value,
        "gen": claims.generation,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def decode_access_token(token: str, secret: str) -> AccessClaims | None:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=ACCESS_TOKEN_AUDIENCE,
            options={"require": ["exp", "sub", "org", "role", "gen"]},
        )
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            org_id=uuid.UUID(payload["org"]),
            role=Role(payload["role"]),
            generation=int(payload["gen"]),
        )
    except (jwt.PyJWTError, ValueError, KeyError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_all_sessions(session: Session, user: User) -> None:
    """Password change or deactivation: every refresh token and access token dies."""
    user.auth_generation += 1
    actor_cache.forget_user(user.id)
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
