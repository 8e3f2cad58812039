"""Helpers for the administrators' tests: an administrator signed in, and the calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backend.accounts.models import ADMINISTRATOR, User
from backend.infra.config import Settings
from backend.kernel import clock
from tests.helpers import GraphQL, make_user

REAUTH_WINDOW = timedelta(seconds=600)  # LATCHKEY_REAUTH_SECONDS by default

USER_FIELDS = "id username email firstName lastName accountType status groups { name }"


async def make_administrator(settings: Settings, username: str = "root1", **kwargs) -> User:
    user = await make_user(settings, username, **kwargs)
    await User.filter(id=user.id).update(account_type=ADMINISTRATOR)
    user.account_type = ADMINISTRATOR
    return user


def expire_the_stamp() -> None:
    clock.advance(REAUTH_WINDOW + timedelta(seconds=1))


def errors(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


# Every administrator's mutation, called on the account `$u` (and nothing else needed).
MUTATIONS = {
    "createUser": 'createUser(input: {username: "newcomer", email: "newcomer@example.com"})',
    "updateUser": 'updateUser(input: {userId: $u, firstName: "Robert"})',
    "disableUser": 'disableUser(input: {userId: $u, reason: "left the company"})',
    "enableUser": "enableUser(input: {userId: $u})",
    "unlockUser": "unlockUser(input: {userId: $u})",
    "resetUserTwoFactor": "resetUserTwoFactor(input: {userId: $u})",
    "sendPasswordResetLink": "sendPasswordResetLink(input: {userId: $u})",
    "endUserSessions": "endUserSessions(input: {userId: $u})",
    "createGroup": 'createGroup(input: {name: "auditors"})',
    "updateGroup": 'updateGroup(input: {name: "ops", selfService: true})',
    "deleteUser": "deleteUser(input: {userId: $u})",
}
# What a bearer token with admin:write may do (PRODUCT.md); the rest need a session.
TOKEN_MAY = {
    "createUser",
    "updateUser",
    "disableUser",
    "enableUser",
    "unlockUser",
    "endUserSessions",
}


def document(name: str) -> str:
    call = MUTATIONS[name]
    head = "mutation($u: ID!)" if "$u" in call else "mutation"
    return f"{head} {{ {call} {{ userErrors {{ field code }} }} }}"


async def call(gql: GraphQL, name: str, user_id: str, **headers: str) -> dict[str, Any]:
    variables = {"u": user_id} if "$u" in MUTATIONS[name] else {}
    return (await gql(document(name), variables, **headers))[name]
