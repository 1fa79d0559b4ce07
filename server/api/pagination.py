"""Keyset pagination: an opaque cursor carrying the last id of the page."""

from __future__ import annotations

import base64
import binascii
import json
import uuid

from server.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(last_id: uuid.UUID) -> str:
    raw = json.dumps({"after": str(last_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return uuid.UUID(payload["after"])
    except (binascii.Error, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "The cursor is malformed; use next_cursor from a previous page", code="INVALID_CURSOR", status=400
        ) from exc
