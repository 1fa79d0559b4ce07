"""Request guards that run before any endpoint: body size, content type, NUL characters."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import problem_response


class BodySizeLimit:
    """413 for bodies over the limit, whether or not Content-Length is honest."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(
                413,
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
                f"The body is larger than {self.max_bytes} bytes",
                instance=scope.get("path"),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading as they are.
                    raise StarletteHTTPException(413, f"The body is larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)


JSON_TYPES = ("application/json", "application/merge-patch+json")


async def require_json_body(request: Request) -> None:
    """Writes with a JSON body must say so: 415 otherwise (never a guess). An action without
    a body at all (`POST .../publish`) has nothing to describe."""
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        bodiless = request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers
        if bodiless and not content_type:
            return
        if content_type not in JSON_TYPES and not content_type.endswith("+json"):
            raise StarletteHTTPException(415, f"Content-Type must be application/json, not {content_type or 'missing'}")


# Uploaded files are bytes, not text: their NULs are theirs.
BINARY_PATHS = ("/api/v1/files/",)
NUL_IN_TEXT = (b"\x00", b"\\u0000")  # raw, and JSON's escape
NUL_IN_FORMS = b"%00"


class RejectNulCharacters:
    """422 `NUL_CHARACTER` for a NUL anywhere in a request's text (path, query, JSON or form
    body): PostgreSQL cannot store one in text, and no field has a use for it. Checked once
    here, for every endpoint (search, names, notes, sync payloads, logins, tracker ids).

    Must run inside `BodySizeLimit`: the body is read whole (it is bounded there) and handed
    on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(BINARY_PATHS):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").lower()
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await _nul_problem(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        try:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    await self.app(scope, _replay(b"".join(chunks), receive, message), send)
                    return
                chunks.append(message.get("body", b""))
                more = bool(message.get("more_body", False))
        except StarletteHTTPException as too_large:  # BodySizeLimit, while reading
            response = problem_response(
                too_large.status_code, "PAYLOAD_TOO_LARGE", "Payload too large", str(too_large.detail)
            )
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        form = content_type.startswith(b"application/x-www-form-urlencoded")
        if any(marker in body for marker in NUL_IN_TEXT) or (form and NUL_IN_FORMS in body.lower()):
            await _nul_problem(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive, None), send)


def _replay(body: bytes, receive: Receive, pending: Message | None) -> Receive:
    """The body read here, once, then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if pending is not None:
            return pending
        return await receive()

    return replay


async def _nul_problem(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        422,
        "NUL_CHARACTER",
        "Validation failed",
        "Text may not contain the NUL character (\\u0000)",
        instance=scope.get("path"),
    )
    await response(scope, receive, send)
