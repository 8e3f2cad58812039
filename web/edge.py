"""The pages' edge: who is asking, resolved once per request, as `/graphql` does.

Every page route runs inside it. It reads the session cookie (the pages take no bearer
token), puts the identity where `/graphql` puts it, and starts the request's record of
session events; handlers and the operations they run read both from there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.outcome import SessionOutcome
from backend.auth.services import Services
from backend.auth.sessions.identity import Identity
from backend.kernel import i18n
from backend.server.authentication import authenticate_session
from backend.server.graphql import IDENTITY_KEY, OUTCOME_KEY
from web import page_language


class PageEdge:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        found = await authenticate_session(request, self.services)
        scope[IDENTITY_KEY] = found
        scope[OUTCOME_KEY] = SessionOutcome()
        if found.user is not None:
            language = i18n.choose(found.user.language, page_language.preferred(request))
            page_language.remember(request, language)
        await self.app(scope, receive, send)


def behind_edge(routes: list[BaseRoute], services: Services) -> list[BaseRoute]:
    """`routes`, each answering through the edge."""
    for route in routes:
        if isinstance(route, Route):
            route.app = PageEdge(route.app, services)
    return routes


def identity(request: Request) -> Identity:
    """Who is asking: what the edge found, or who an operation of this request signed in."""
    return request.scope[IDENTITY_KEY]
