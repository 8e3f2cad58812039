"""What forms share: picking a posted choice, sending a re-authentication code."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import FormData
from starlette.requests import Request

from web.graphql_client import GraphQLClient


def choice(form: FormData, name: str, choices: Iterable[str]) -> str | None:
    """The option picked in a radio group or select; None when missing or not offered."""
    value = form.get(name)
    return value if isinstance(value, str) and value in choices else None


async def send_reauthentication_code(
    client: GraphQLClient, request: Request, form: FormData
) -> dict[str, str]:
    """Email or text a code, proven by the form's password; its errors, empty once sent."""
    result = await client.prove(
        "SendReauthenticationCode", request, password=str(form.get("password", ""))
    )
    return result.errors
