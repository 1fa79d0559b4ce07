"""What a write to a user account sets in motion beyond its columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.access.credentials import hash_password, revoke_all_sessions
from server.access.policy import WriteContext
from server.models import User


def convert_user_values(ctx: WriteContext, values: dict[str, Any]) -> None:
    """Emails are stored lowercased; a password only as its argon2 hash."""
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    if "password" in values:
        values["password_hash"] = hash_password(values.pop("password"))


def end_sessions_on_change(ctx: WriteContext, user: User, changes: Mapping[str, Any]) -> None:
    """A new password or a deactivation ends every session of the account, on every device."""
    if "password" in changes or (changes.get("active") is False and user.active):
        revoke_all_sessions(ctx.session, user)


def deactivate_deleted_user(ctx: WriteContext, user: User) -> None:
    """A deleted account cannot log in again, and its open sessions end now."""
    user.active = False
    revoke_all_sessions(ctx.session, user)
