"""Pull cursors: opaque to clients, signed, bound to one scope.

A cursor is the position `(xid, pos)` of the last change row a client has
consumed in a scope. HMAC-signed so a client cannot forge a position (or use
one scope's cursor in another), base64url so it travels in a query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from server.errors import AppError


class InvalidCursor(AppError):
    status, code, title = 400, "INVALID_CURSOR", "Invalid cursor"


@dataclass(frozen=True)
class LogPosition:
    xid: int
    pos: int


START = LogPosition(0, 0)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, scope: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), scope.encode() + b"\0" + body, hashlib.sha256).digest()[:16]


def encode_sync_cursor(secret: str, scope: str, position: LogPosition) -> str:
    body = json.dumps([position.xid, position.pos], separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(_mac(secret, scope, body))}"


def decode_sync_cursor(secret: str, scope: str, cursor: str | None) -> LogPosition:
    if not cursor:
        return START
    try:
        body_text, mac_text = cursor.split(".")
        body = _unb64(body_text)
        if not hmac.compare_digest(_unb64(mac_text), _mac(secret, scope, body)):
            raise ValueError("signature")
        xid, pos = json.loads(body)
        return LogPosition(int(xid), int(pos))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this server gave for this scope") from exc
