"""Runs the page's `.graphql` operations in-process, against the same schema as `/graphql`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema

from backend.api.context import Context
from backend.api.outcome import SessionOutcome
from backend.server.client import client_info
from backend.server.cookies import apply_outcome
from backend.services import Services
from backend.sessions.identity import Identity
from web import page_language

OPERATIONS = Path(__file__).parent / "operations"


class OperationFailed(RuntimeError):
    """The operation returned GraphQL errors: a bug in the page, not a user mistake."""


@dataclasses.dataclass
class Outcome:
    data: dict[str, Any]
    identity: Identity


class GraphQLClient:
    def __init__(self, schema: Schema, services: Services) -> None:
        self.schema = schema
        self.services = services
        self.documents = {path.stem: path.read_text() for path in OPERATIONS.glob("*.graphql")}

    async def execute(
        self, operation: str, request: Request, identity: Identity, **variables: Any
    ) -> Outcome:
        context = Context(
            services=self.services,
            identity=identity,
            client=client_info(request, self.services.settings),
            outcome=session_outcome(request),
            device_cookie=request.cookies.get(self.services.settings.device_cookie_name, ""),
            known_browser=request.cookies.get(
                self.services.settings.known_browser_cookie_name, ""
            ),
            # The page's language when nobody has chosen one (switcher cookie, browser).
            accept_language=page_language.preferred(request),
        )
        result = await self.schema.execute(
            self.documents[operation], variable_values=variables, context_value=context
        )
        page_language.remember(request, context.language)
        if result.errors:
            raise OperationFailed(f"{operation}: {[error.message for error in result.errors]}")
        return Outcome(data=result.data or {}, identity=context.identity)


def session_outcome(request: Request) -> SessionOutcome:
    """One record per page request, shared by every operation the request runs.

    Kept in the request's own scope, not `request.state`: a server that shares the
    lifespan state between requests (not copying it) would otherwise hand one request's
    session cookie, since renewed, to every later one.
    """
    return request.scope.setdefault("latchkey.session_outcome", SessionOutcome())


def with_session_cookies(request: Request, response: Response, services: Services) -> Response:
    """The cookies for what this request's operations did (signIn's session, a sign-out)."""
    return apply_outcome(response, services.settings, session_outcome(request))
