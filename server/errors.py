"""One error type, rendered once as RFC 9457 `application/problem+json`.

Every error carries a stable machine `code`; clients switch on the code, never
on the human `detail`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import QueryCanceled
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)


class AppError(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"
    title: str = "Bad request"
    # True for failures whose bookkeeping must survive the failed request (a
    # failed-login counter, a revoked token family): the request's
    # transaction is committed before the error is answered.
    persist_changes: bool = False

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(AppError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class Forbidden(AppError):
    status, code, title = 403, "FORBIDDEN", "Forbidden"


class Unauthorized(AppError):
    status, code, title = 401, "UNAUTHORIZED", "Unauthorized"

    def __init__(self, detail: str = "Missing or invalid credentials", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Conflict(AppError):
    status, code, title = 409, "CONFLICT", "Conflict"


class InvalidInput(AppError):
    status, code, title = 422, "INVALID_INPUT", "Invalid input"


class TooManyRequests(AppError):
    status, code, title = 429, "TOO_MANY_REQUESTS", "Too many requests"


class ServiceUnavailable(AppError):
    status, code, title = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


_STATUS_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    422: ("VALIDATION_FAILED", "Validation failed"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://fieldforce.dev/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _jsonable_location(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


HtmlError = Callable[[Request, int, str, str], Response]


def wants_page(request: Request) -> bool:
    """A browser asking for a dashboard page (not the API): errors answer as a page."""
    path = request.url.path
    return not path.startswith(("/api/", "/health", "/static/", "/vendor/")) and "text/html" in request.headers.get(
        "accept", ""
    )


def install_error_handlers(app: FastAPI, html_error: HtmlError | None = None) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if html_error is not None and wants_page(request):
            return html_error(request, exc.status, exc.title, exc.detail)
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            extra=exc.extra,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in _jsonable_location(err.get("loc", ()))),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        return problem_response(
            422,
            "VALIDATION_FAILED",
            "Validation failed",
            f"{len(errors)} field(s) failed validation",
            instance=request.url.path,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
        if html_error is not None and wants_page(request):
            return html_error(request, exc.status_code, title, str(exc.detail))
        return problem_response(
            exc.status_code,
            code,
            title,
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def _value_out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value its column cannot hold (an integer beyond its range, a
        # date it cannot represent): the client's input, never a server fault. Nothing was written.
        logger.info("value refused by the database on %s: %s", request.url.path, exc.orig)
        return problem_response(
            422,
            "VALUE_OUT_OF_RANGE",
            "Validation failed",
            "A value is outside the range this field can hold",
            instance=request.url.path,
        )

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(
            422,
            "VALUE_OUT_OF_RANGE",
            "Validation failed",
            "A date or number is outside the range that can be represented",
            instance=request.url.path,
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return problem_response(
            422, "JSON_TOO_DEEP", "Validation failed", "The body nests too deeply", instance=request.url.path
        )

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        if isinstance(exc.orig, QueryCanceled):
            # DB_STATEMENT_TIMEOUT_MS cut a statement short: nothing was written.
            logger.warning("statement timeout on %s: %s", request.url.path, exc.orig)
            return problem_response(
                503,
                "QUERY_TIMEOUT",
                "Service unavailable",
                "The request took too long and was stopped; nothing was changed. Narrow it down, or retry later.",
                instance=request.url.path,
                headers={"Retry-After": "30"},
            )
        logger.warning("database unavailable: %s", exc)
        return problem_response(
            503,
            "DATABASE_UNAVAILABLE",
            "Service unavailable",
            "The database is unreachable; retry shortly.",
            instance=request.url.path,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return problem_response(
            500,
            "INTERNAL_ERROR",
            "Internal server error",
            "An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )
