"""Asking for reset links and reading them from the mail, as a user would."""

from __future__ import annotations

import re

from backend.recovery import password_reset
from tests.helpers import GraphQL

REQUEST = """mutation($login: String!) {
  requestPasswordReset(input: {login: $login}) { userErrors { field code message } } }"""
RESET = """mutation($t: String!, $n: String!, $r: String!) {
  resetPassword(input: {token: $t, newPassword: $n, newPasswordConfirmation: $r}) {
    userErrors { field code message } } }"""
SECURE = """mutation($t: String!) {
  secureAccount(input: {token: $t}) { userErrors { field code message } } }"""
VIEWER = "{ viewer { username } }"
NEW_PASSWORD = "a brand new long passphrase"

RESET_LINK = re.compile(r"(https?://\S+)/password-reset/([A-Za-z0-9_-]+)")
SECURE_LINK = re.compile(r"(https?://\S+)/secure-account/([A-Za-z0-9_-]+)")


async def ask_for_reset(gql: GraphQL, login: str) -> dict:
    answer = (await gql(REQUEST, {"login": login}))["requestPasswordReset"]
    await password_reset.settle()  # the link is mailed apart from the answer
    return answer


async def reset(gql: GraphQL, token: str, new: str = NEW_PASSWORD, repeat: str | None = None):
    data = await gql(RESET, {"t": token, "n": new, "r": new if repeat is None else repeat})
    return data["resetPassword"]


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def reset_token_in(text: str) -> str:
    return RESET_LINK.search(text).group(2)


def secure_token_in(text: str) -> str:
    return SECURE_LINK.search(text).group(2)


def last_mail(smtp, address: str = "alice@example.com", subject: str | None = None) -> str:
    messages = [m for m in smtp.to(address) if subject is None or m["Subject"] == subject]
    assert messages, f"no mail to {address} with subject {subject!r}"
    return smtp.text(messages[-1])
