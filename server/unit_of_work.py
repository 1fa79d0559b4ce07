"""One database transaction per request, committed before the response leaves.

FastAPI runs the exit code of `yield` dependencies after the response has been
sent, so committing there would tell the client "201 Created" even when the
commit then fails. `UnitOfWorkRoute` commits right after the endpoint returns a
successful response and before it is sent; any exception rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.errors import AppError

_STATE_KEY = "db_session"


def request_session(request: Request) -> Iterator[Session]:
    """The request's session (dependency). Services flush; nobody else commits."""
    session: Session = request.app.state.session_factory()
    setattr(request.state, _STATE_KEY, session)
    try:
        yield session
    finally:
        # Anything not committed by UnitOfWorkRoute (an error) is rolled back here.
        session.close()


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def commit_then_respond(request: Request) -> Response:
            try:
                response = await handler(request)
            except AppError as error:
                session_on_error: Session | None = getattr(request.state, _STATE_KEY, None)
                if error.persist_changes and session_on_error is not None:
                    await run_in_threadpool(session_on_error.commit)
                raise
            session: Session | None = getattr(request.state, _STATE_KEY, None)
            if session is not None:
                if response.status_code < 400:
                    await run_in_threadpool(session.commit)
                else:
                    await run_in_threadpool(session.rollback)
            return response

        return commit_then_respond
