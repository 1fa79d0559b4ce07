"""Request guards that run before any endpoint: body size and content type."""

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
