"""Fail closed and say so: a database outage anywhere in a request answers 503.

An outage may surface as an exception that reaches this middleware, or be caught on the way
and turned into something else (Strawberry turns a resolver's exception into a GraphQL
error and would answer 200). Those places call `report_outage()`, and the whole answer is
then replaced by the 503: never a half answer, never an answer built on a failed lookup.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.infra.logs import loggable_path
from backend.server.database_outage import is_database_outage
from backend.server.failure_answers import internal_error, service_unavailable

log = logging.getLogger("latchkey.server")


@dataclasses.dataclass
class _Watch:
    outage: str = ""  # the kind of error that showed the outage, for the log


_current: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "latchkey_outage_watch", default=None
)


def report_outage(error: BaseException) -> None:
    """The request met a database outage that was caught on the way: answer 503 in the end."""
    watch = _current.get()
    if watch is not None and not watch.outage:
        watch.outage = type(error).__name__


class DatabaseOutages:
    """Turns database outages into 503 answers; lets every other error through to the 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = _Watch()
        token = _current.set(watch)
        started = False
        replaced = False

        async def send_unless_outage(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start" and watch.outage:
                replaced = True
                await self._unavailable(scope, receive, send, watch.outage)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_unless_outage)
        except Exception as error:
            if started or not (watch.outage or is_database_outage(error)):
                raise
            if not replaced:
                await self._unavailable(scope, receive, send, watch.outage or type(error).__name__)
        finally:
            _current.reset(token)

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send, kind: str) -> None:
        # The error's type only: driver messages may quote connection parameters.
        log.warning(
            "database unavailable, answered 503",
            extra={"path": loggable_path(scope.get("path", "")), "error": kind},
        )
        await service_unavailable(scope)(scope, receive, send)


async def server_error(request: Request, error: Exception) -> Response:
    """Starlette's last-resort handler: no detail for the caller (the server logs the error)."""
    return internal_error(request.scope)
