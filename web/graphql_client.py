"""Runs the page's `.graphql` operations in-process, against the same schema as `/graphql`.

The context is `/graphql`'s own (`request_context`), for the identity the pages' edge found.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema

from backend.auth.services import Services
from backend.server.cookies import apply_outcome
from backend.server.graphql import IDENTITY_KEY, OUTCOME_KEY, request_context
from web import page_language

OPERATIONS = Path(__file__).parent / "operations"


class OperationFailed(RuntimeError):
    """The operation returned GraphQL errors: a bug in the page, not a user mistake."""


@dataclasses.dataclass
class Outcome:
    data: dict[str, Any]


@dataclasses.dataclass
class Result:
    """A mutation's answer as a form sees it: its payload and its errors by field."""

    payload: dict[str, Any]
    errors: dict[str, str]
    codes: frozenset[str]


class ReauthenticationNeeded(Exception):
    """A form's change needs this session re-authenticated first ("Confirm it's you")."""


# The answers of a sensitive change on a session without a fresh stamp.
NEEDS_REAUTHENTICATION = frozenset({"REAUTHENTICATION_REQUIRED", "OTP_REQUIRED"})


class GraphQLClient:
    def __init__(self, schema: Schema, services: Services) -> None:
        self.schema = schema
        self.services = services
        self.documents = {path.stem: path.read_text() for path in OPERATIONS.glob("*.graphql")}

    async def execute(self, operation: str, request: Request, **variables: Any) -> Outcome:
        """Run `operation` as the identity the edge found (`web/edge.py`)."""
        # The page's language when nobody has chosen one (switcher cookie, browser).
        context = request_context(request, self.services, page_language.preferred(request))
        result = await self.schema.execute(
            self.documents[operation], variable_values=variables, context_value=context
        )
        # A sign-in or sign-out: the request's later operations and its page see it.
        request.scope[IDENTITY_KEY] = context.identity
        page_language.remember(request, context.language)
        if result.errors:
            raise OperationFailed(f"{operation}: {[error.message for error in result.errors]}")
        return Outcome(data=result.data or {})

    async def run(self, operation: str, request: Request, **variables: Any) -> Result:
        """Run a mutation of a card's form: its one payload, and its userErrors by field.

        Raises ReauthenticationNeeded when the change needs re-authentication: the cards
        carry no password or code, the "Confirm it's you" page asks for them.
        """
        result = await self.prove(operation, request, **variables)
        if result.codes & NEEDS_REAUTHENTICATION:
            raise ReauthenticationNeeded(operation)
        return result

    async def prove(self, operation: str, request: Request, **variables: Any) -> Result:
        """Run a mutation whose form asks for the proof itself: errors are the form's."""
        outcome = await self.execute(operation, request, **variables)
        payload = next(iter(outcome.data.values()))
        user_errors = payload.get("userErrors") or []
        return Result(
            payload=payload,
            errors=field_errors(user_errors),
            codes=frozenset(error.get("code") or "" for error in user_errors),
        )


def field_errors(user_errors: list[dict[str, Any]]) -> dict[str, str]:
    """{field or "": message}; errors without a field belong to the form as a whole."""
    errors: dict[str, str] = {}
    for error in user_errors:
        errors.setdefault(error.get("field") or "", error["message"])
    return errors


def with_session_cookies(request: Request, response: Response, services: Services) -> Response:
    """The cookies for what this request's operations did (signIn's session, a sign-out)."""
    return apply_outcome(response, services.settings, request.scope[OUTCOME_KEY])
