"""Runs the page's `.graphql` operations in-process, against the same schema as `/graphql`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema

from backend.api.context import Context, Identity
from backend.server.client import client_info
from backend.services import Services

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
            response=Response(),
            device_cookie=request.cookies.get(self.services.settings.device_cookie_name, ""),
        )
        result = await self.schema.execute(
            self.documents[operation], variable_values=variables, context_value=context
        )
        if result.errors:
            raise OperationFailed(f"{operation}: {[error.message for error in result.errors]}")
        # Cookies an operation set (signIn's session, a renewed one) go to the browser with
        # the answer: see forward_cookies.
        request.state.set_cookies = [
            *getattr(request.state, "set_cookies", []),
            *(value for name, value in context.response.raw_headers if name == b"set-cookie"),
        ]
        return Outcome(data=result.data or {}, identity=context.identity)


def forward_cookies(request: Request, response: Response) -> Response:
    """Add the cookies that this request's operations set to the response it gets."""
    for value in getattr(request.state, "set_cookies", []):
        response.raw_headers.append((b"set-cookie", value))
    return response
