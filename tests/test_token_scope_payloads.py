"""Account data needs account:read wherever a bearer document reaches it: a mutation's
payload is no back door for a token that may only write."""

from __future__ import annotations

import pytest

from backend.accounts import groups
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD
from tests.test_token_scopes import access_token, as_bearer
from tests.twofactor_helpers import code_in

# Each within what one document may weigh (a list of user data counts as 100 items).
ACCOUNT_DATA = [
    "email mobilePhone pendingEmail",
    "sessions { ipAddress userAgent } tokens { name }",
    "securityEvents { edges { node { kind ipAddress } } }",
    "apiCredentials { clientId } twoFactor { enabled } passkeys { name } trustedDevices { id }",
]
EVERYTHING = ACCOUNT_DATA[0] + " " + ACCOUNT_DATA[1]
UPDATE = "mutation { updateAccount(input: @INPUT@) { viewer { @FIELDS@ } userErrors { code } } }"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def update(given: str = "{}", fields: str = EVERYTHING) -> str:
    return UPDATE.replace("@INPUT@", given).replace("@FIELDS@", fields)


def refused_at(answer: dict) -> list[list]:
    """The paths of the errors, each of them INSUFFICIENT_SCOPE."""
    assert {error["extensions"]["code"] for error in answer["errors"]} == {"INSUFFICIENT_SCOPE"}
    return [error["path"] for error in answer["errors"]]


@pytest.mark.parametrize("fields", ACCOUNT_DATA)
async def test_a_write_only_token_changes_the_account_but_reads_nothing_of_it(gql, alice, fields):
    access = await access_token(gql, ["account:write"])
    nothing = await as_bearer(gql, access, update("{}", fields))
    assert nothing["data"]["updateAccount"] == {"viewer": None, "userErrors": []}
    assert refused_at(nothing) == [["updateAccount", "viewer"]]

    renamed = await as_bearer(gql, access, update('{firstName: "Alice"}', "firstName"))
    assert renamed["data"]["updateAccount"] == {"viewer": None, "userErrors": []}
    assert refused_at(renamed) == [["updateAccount", "viewer"]]
    assert (await gql("{ viewer { firstName } }"))["viewer"]["firstName"] == "Alice"


async def test_a_token_that_reads_and_writes_gets_the_viewer_back(gql, alice):
    access = await access_token(gql, ["account:read", "account:write"])
    answer = await as_bearer(gql, access, update("{}", EVERYTHING))
    assert "errors" not in answer
    viewer = answer["data"]["updateAccount"]["viewer"]
    assert viewer["email"] == "alice@example.com"
    assert [token["name"] for token in viewer["tokens"]] == ["script"]
    assert viewer["sessions"][0]["ipAddress"] == "203.0.113.7"


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ("mutation { u: updateAccount(input: {}) { v: viewer { email } } }", ["u", "v"]),
        (
            "mutation { updateAccount(input: {}) { ...P } } "
            "fragment P on UpdateAccountPayload { viewer { ...U } } fragment U on User { email }",
            ["updateAccount", "viewer"],
        ),
        (
            "mutation { ... on Mutation { a: updateAccount(input: {}) "
            "{ ... on UpdateAccountPayload { me: viewer { tokens { name } } } } } }",
            ["a", "me"],
        ),
        (
            "mutation { ...M } fragment M on Mutation "
            '{ x: verifyEmailChange(input: {code: "000000"}) { viewer { email } } }',
            ["x", "viewer"],
        ),
    ],
)
async def test_an_alias_or_a_fragment_does_not_reach_the_viewer_in_a_payload(
    gql, alice, document, path
):
    access = await access_token(gql, ["account:write"])
    answer = await as_bearer(gql, access, document)
    assert refused_at(answer) == [path]
    assert answer["data"][path[0]][path[1]] is None


async def test_the_viewer_after_a_verified_email_change_needs_account_read_too(gql, alice, smtp):
    # The change itself needs the password, so a session asks for it.
    asked = await gql(update(f'{{email: "new@example.com", password: "{PASSWORD}"}}', "email"))
    assert asked["updateAccount"]["userErrors"] == []
    [message] = smtp.to("new@example.com")
    access = await access_token(gql, ["account:write"])
    verify = "mutation($c: String!) { verifyEmailChange(input: {code: $c}) {"
    verify += " viewer { email tokens { name } } userErrors { code } } }"
    answer = await as_bearer(gql, access, verify, {"c": code_in(smtp.text(message))})
    assert answer["data"]["verifyEmailChange"] == {"viewer": None, "userErrors": []}
    assert refused_at(answer) == [["verifyEmailChange", "viewer"]]
    assert (await gql("{ viewer { email } }"))["viewer"]["email"] == "new@example.com"


async def test_a_group_write_answers_with_the_group_it_changed(gql, alice):
    await groups.create("Friends", description="Weekend plans", self_service=True)
    access = await access_token(gql, ["account:write"])
    answer = await as_bearer(
        gql, access, 'mutation { joinGroup(input: {name: "Friends"}) { group { name } } }'
    )
    assert answer == {"data": {"joinGroup": {"group": {"name": "Friends"}}}}


async def test_a_session_reads_every_payload_as_before(gql, alice):
    answer = (await gql(update("{}", EVERYTHING)))["updateAccount"]
    assert answer["userErrors"] == [] and answer["viewer"]["email"] == "alice@example.com"
