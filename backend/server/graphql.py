"""`/graphql`: authenticate first, then let Strawberry run the operation."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry import Schema
from strawberry.asgi import GraphQL

from backend.api.context import Context
from backend.api.outcome import SessionOutcome
from backend.auth.services import Services
from backend.server.authentication import Rejected, authenticate
from backend.server.client_info import client_info
from backend.server.cookies import outcome_headers

IDENTITY_KEY = "latchkey.identity"
OUTCOME_KEY = "latchkey.session_outcome"

UNREADABLE_BODY = "The request body is not JSON in UTF-8 that can be read."

# The GraphiQL page itself, with its CSP (web/ draws both), given a nonce for its styles.
IdePage = Callable[[Request, str], Awaitable[Response]]


class _UnreadableBody(Exception):
    """The body is not UTF-8, or nests deeper than the parser goes: the caller's mistake."""


class _StrawberryView(GraphQL[Context, None]):
    def __init__(self, schema: Schema, services: Services, ide_page: IdePage) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if services.settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.services = services
        self.ide_page = ide_page

    async def get_context(self, request: Request, response: Response) -> Context:
        return request_context(request, self.services, request.headers.get("accept-language", ""))

    async def get_root_value(self, request: Request) -> None:
        return None

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry answers 400 to malformed JSON only; bytes that are not UTF-8 and
        # nesting past the parser's recursion limit would end in a 500 and a traceback.
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except (UnicodeDecodeError, RecursionError):
            raise _UnreadableBody() from None

    async def render_graphql_ide(self, request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        return await self.ide_page(request, nonce)


def request_context(request: Request, services: Services, accept_language: str) -> Context:
    """The resolvers' context for a request its edge authenticated: `/graphql` and the pages."""
    return Context(
        services=services,
        identity=request.scope[IDENTITY_KEY],
        client=client_info(request, services.settings),
        outcome=request.scope[OUTCOME_KEY],
        device_cookie=request.cookies.get(services.settings.device_cookie_name, ""),
        known_browser=request.cookies.get(services.settings.known_browser_cookie_name, ""),
        accept_language=accept_language,
    )


class GraphQLEndpoint:
    def __init__(self, schema: Schema, services: Services, ide_page: IdePage) -> None:
        self.services = services
        self.view = _StrawberryView(schema, services, ide_page)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        identity = await authenticate(Request(scope, receive), self.services)
        if isinstance(identity, Rejected):
            await identity.response()(scope, receive, send)
            return
        scope[IDENTITY_KEY] = identity
        outcome = scope[OUTCOME_KEY] = SessionOutcome()

        async def send_with_cookies(message: Message) -> None:
            # The operation has run by the time the answer starts: its cookies go with it.
            if message["type"] == "http.response.start":
                cookies = outcome_headers(self.services.settings, outcome)
                headers = [*message.get("headers", []), *cookies]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.view(scope, receive, send_with_cookies)
        except _UnreadableBody:
            body = {"errors": [{"message": UNREADABLE_BODY, "extensions": {"code": "BAD_REQUEST"}}]}
            await JSONResponse(body, status_code=400)(scope, receive, send)
