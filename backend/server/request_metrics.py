"""Counts and times every HTTP request by its route template (`/oauth/token`, `/static`),
never by its path: a path may carry an id or a token, a template cannot."""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.infra import metrics

UNMATCHED = "unmatched"  # no route answers the path (a 404)
# Where the request's scope keeps its template once found: the metrics and the tracing
# both ask, and the router changes the scope's root path on its way into a mount.
ROUTE_TEMPLATE = "latchkey.route_template"


class RequestMetrics:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        handler = handler_of(self.routes, scope)  # before the router changes the scope
        status = 500  # unless an answer starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics.http_request(handler, scope["method"], status, time.perf_counter() - started)


def handler_of(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the route that takes the request; a mount's own path for what is
    under it (its files are not told apart). Found once per request, before the router
    has seen the scope."""
    template = scope.get(ROUTE_TEMPLATE)
    if template is None:
        template = scope[ROUTE_TEMPLATE] = _matching(routes, scope)
    return template


def _matching(routes: Sequence[BaseRoute], scope: Scope) -> str:
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _template(route)
        if match is Match.PARTIAL and partial is None:
            partial = route  # the path is right, the method is not (a 405)
    return _template(partial) if partial is not None else UNMATCHED


def _template(route: BaseRoute) -> str:
    if isinstance(route, Mount):
        return route.path or "/"
    return getattr(route, "path", UNMATCHED)
