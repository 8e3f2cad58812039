"""Names a user or an operator types: any text gets an answer, never a 500 or a traceback.

A name no row can have (longer than its column, or with characters the databases cannot
store) is simply not found, on SQLite and on PostgreSQL. Tortoise checks a filter's value
against the column's length and raises, so every look-up by such a name asks first.
"""

from __future__ import annotations

import pytest

from backend.accounts import groups
from tests.helpers import PASSWORD
from tests.test_cli import cli_settings, latchkey  # noqa: F401 (a fixture)

GROUP = """
mutation Group($name: String!) {
  joinGroup(input: {name: $name}) { group { name } userErrors { field code } }
  leaveGroup(input: {name: $name}) { group { name } userErrors { field code } }
}
"""
IMPOSSIBLE = {
    "101 characters": "F" * 101,
    "10,000 characters": "F" * 10_000,
    "101 astral characters": "\U0001f511" * 101,
    "a real name and more": "Friends" + "x" * 94,
}


async def answers(gql, name: str) -> dict:
    response = await gql.raw(GROUP, {"name": name})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.mark.parametrize("name", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
async def test_a_group_name_no_group_can_have_is_not_found(gql, alice, name):
    await groups.create("Friends", self_service=True)
    data = await answers(gql, name)
    for mutation in ("joinGroup", "leaveGroup"):
        assert data[mutation] == {
            "group": None,
            "userErrors": [{"field": "name", "code": "NOT_FOUND"}],
        }
    # The real group is still there to join, by its own name.
    joined = await answers(gql, "Friends")
    assert joined["joinGroup"] == {"group": {"name": "Friends"}, "userErrors": []}


async def test_a_hundred_astral_characters_name_a_group(gql, alice):
    name = "\U0001f511" * 100
    await groups.create(name, self_service=True)
    data = await answers(gql, name)
    assert data["joinGroup"] == {"group": {"name": name}, "userErrors": []}
    assert data["leaveGroup"] == {"group": {"name": name}, "userErrors": []}


async def test_a_group_name_with_nul_is_a_validation_error(gql, alice):
    data = await answers(gql, "F" * 101 + "\x00")
    for mutation in ("joinGroup", "leaveGroup"):
        assert data[mutation]["userErrors"] == [{"field": "name", "code": "VALIDATION_FAILED"}]


def test_the_operators_commands_say_a_long_name_is_not_there(cli_settings):  # noqa: F811
    args = ("user", "create", "alice", "--email", "alice@example.com", "--password-stdin")
    assert latchkey(cli_settings, *args, stdin=PASSWORD).returncode == 0
    long = "F" * 101
    for args, said in [
        (("group", "add-member", long, "alice"), "There is no group named"),
        (("group", "remove-member", long, "alice"), "There is no group named"),
        (("user", "reset-2fa", "a" * 65), "there is no user"),
        (("service-client", "remove", "s" * 65), "there is no service client"),
    ]:
        result = latchkey(cli_settings, *args)
        assert result.returncode != 0, args
        assert said in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, args
