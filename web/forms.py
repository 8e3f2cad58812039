"""Turning a mutation's userErrors into what a form shows next to its fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from backend.sessions.identity import Identity
from web.graphql_client import GraphQLClient


def field_errors(user_errors: list[dict[str, Any]]) -> dict[str, str]:
    """{field or "": message}; errors without a field belong to the form as a whole."""
    errors: dict[str, str] = {}
    for error in user_errors:
        errors.setdefault(error.get("field") or "", error["message"])
    return errors


def choice(form: FormData, name: str, choices: Iterable[str]) -> str | None:
    """The option picked in a radio group or select; None when missing or not offered."""
    value = form.get(name)
    return value if isinstance(value, str) and value in choices else None


async def send_reauthentication_code(
    client: GraphQLClient, request: Request, identity: Identity, form: FormData
) -> dict[str, str]:
    """Email or text a code, proven by the form's password; its errors, empty once sent."""
    outcome = await client.execute(
        "SendStepUpCode", request, identity, password=str(form.get("password", ""))
    )
    return field_errors(outcome.data["sendStepUpCode"]["userErrors"])
