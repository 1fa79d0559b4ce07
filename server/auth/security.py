"""Password hashing (argon2id), access tokens (JWT, HS256) and refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.enums import Role

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the response
# time the same, so timing does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ACCESS_TOKEN_AUDIENCE = "fieldforce-api"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


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
