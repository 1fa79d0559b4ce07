"""The dashboard's sign-in: a session cookie, and a CSRF token for every change.

The cookie holds a signed token (HS256, its own audience, so it is never taken for
an API bearer token or the other way round) naming the user, their organisation, the
user's auth generation (a password reset or deactivation ends the session at once) and
a random CSRF token. The browser is signed in to the API too: `server.deps` accepts the
cookie where no bearer token is sent, and then asks every change (POST, PUT, PATCH,
DELETE) for the same CSRF token in the `X-CSRF-Token` header, or in a form's
`csrf_token` field. HttpOnly and SameSite=Lax always; Secure outside development and
tests (a local `make run` serves plain http).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import Response

from server.config import Environment, Settings

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "WebSession",
    "end_session",
    "read_session",
    "start_session",
]

SESSION_COOKIE = "ff_session"
LOGIN_CSRF_COOKIE = "ff_login_csrf"  # the sign-in form's own token (no session yet)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_AUDIENCE = "fieldforce:web"
SESSION_HOURS = 12


@dataclass(frozen=True)
class WebSession:
    user_id: uuid.UUID
    org_id: uuid.UUID
    generation: int
    csrf: str
    expires_at: datetime


def _secure(settings: Settings) -> bool:
    return settings.environment not in (Environment.development, Environment.test)


def start_session(response: Response, settings: Settings, user_id: uuid.UUID, org_id: uuid.UUID, gen: int) -> str:
    """Set the session cookie on `response`; returns the session's CSRF token."""
    now = datetime.now(UTC)
    csrf = secrets.token_urlsafe(24)
    token = jwt.encode(
        {
            "sub": str(user_id),
            "org": str(org_id),
            "gen": gen,
            "csrf": csrf,
            "aud": SESSION_AUDIENCE,
            "iat": now,
            "exp": now + timedelta(hours=SESSION_HOURS),
        },
        settings.secret_key,
        algorithm="HS256",
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )
    return csrf


def read_session(settings: Settings, cookie: str | None) -> WebSession | None:
    """The session the cookie names, or None when it is missing, forged or expired."""
    if not cookie:
        return None
    try:
        payload = jwt.decode(
            cookie,
            settings.secret_key,
            algorithms=["HS256"],
            audience=SESSION_AUDIENCE,
            options={"require": ["exp", "sub", "org", "gen", "csrf"]},
        )
        return WebSession(
            user_id=uuid.UUID(payload["sub"]),
            org_id=uuid.UUID(payload["org"]),
            generation=int(payload["gen"]),
            csrf=str(payload["csrf"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError):
        return None


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def login_csrf(response: Response, settings: Settings, token: str) -> None:
    """The sign-in form's token, kept in its own short-lived cookie too (double submit)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=_secure(settings), path="/"
    )


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and secrets.compare_digest(str(expected), str(given))
