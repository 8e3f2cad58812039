"""The administrators' API: what `admin` shows, who may use each mutation and how.

Every mutation is tried by an administrator with a fresh re-authentication, by one
without it, by an account that is no administrator's, and with bearer tokens with and
without `admin:write`.
"""

from __future__ import annotations

import pytest

from backend.accounts.models import ADMINISTRATOR, Group, User
from backend.audit.models import OperatorAction
from backend.kernel import clock
from tests.admin_helpers import (
    MUTATIONS,
    TOKEN_MAY,
    call,
    errors,
    expire_the_stamp,
    make_administrator,
)
from tests.helpers import PASSWORD, GraphQL, days_ahead, exchange, make_user

ISSUE = """mutation($e: DateTime, $s: [String!]) {
  issueToken(input: {name: "provisioning", expiresAt: $e, scopes: $s}) {
    secret userErrors { field code message } } }"""
ADMIN_USERS = """query($s: String, $st: AccountStatus, $f: Int, $a: String) {
  admin { users(search: $s, status: $st, first: $f, after: $a) {
    edges { cursor node { username status } } pageInfo { hasNextPage endCursor } } } }"""


async def refresh_token(gql: GraphQL, scopes: list[str]) -> str:
    """A refresh token of the signed-in account with these scopes, as a script holds it."""
    issued = (await gql(ISSUE, {"e": days_ahead(30), "s": scopes}))["issueToken"]
    assert issued["userErrors"] == [], issued
    return issued["secret"]


async def access(gql: GraphQL, secret: str) -> dict[str, str]:
    """The header of a fresh access token exchanged for a refresh token."""
    answer = await exchange(gql.client, secret)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def bearer(gql: GraphQL, scopes: list[str]) -> dict[str, str]:
    return await access(gql, await refresh_token(gql, scopes))


@pytest.fixture
async def scene(app, gql, new_client, settings):
    """root (an administrator, signed in on `gql`), bob (the account acted on, signed in
    elsewhere), alice (no administrator, signed in on her own client), the group ops."""
    root = await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await make_user(settings, "alice")
    await Group.create(name="ops")
    await gql.sign_in("root1")
    async with new_client() as alice_client, new_client() as bob_client:
        alice, bob_gql = GraphQL(alice_client), GraphQL(bob_client)
        await alice.sign_in("alice")
        await bob_gql.sign_in("bob")
        yield {
            "root": root,
            "bob": bob,
            "gql": gql,
            "alice": alice,
            "bob_gql": bob_gql,
            "bob_id": str(bob.id),
        }


async def test_admin_is_null_for_anyone_but_an_administrator(scene, client):
    assert (await scene["alice"]("{ admin { groups { name } } }"))["admin"] is None
    assert (await scene["gql"]("{ admin { groups { name } } }"))["admin"] == {
        "groups": [{"name": "ops"}]
    }
    client.cookies.clear()
    assert (await GraphQL(client)("{ admin { groups { name } } }"))["admin"] is None
    # Demoted: at once, on the next request.
    await User.filter(id=scene["root"].id).update(account_type="USER")
    assert (await scene["gql"]("{ admin { groups { name } } }"))["admin"] is None


@pytest.mark.parametrize("name", MUTATIONS)
async def test_every_mutation_for_everyone_who_may_try(scene, client, name):
    gql, alice, target = scene["gql"], scene["alice"], scene["bob_id"]
    # Not an administrator: FORBIDDEN, whatever the session's stamp.
    assert errors(await call(alice, name, target)) == [(None, "FORBIDDEN")]
    # Tokens of the administrator, issued while the stamp is fresh.
    scripts = [
        await refresh_token(gql, scopes)
        for scopes in (
            ["admin:read", "admin:write"],
            ["account:read", "account:write"],
            ["admin:read"],
        )
    ]
    # An administrator whose session has not re-authenticated lately.
    expire_the_stamp()
    assert errors(await call(gql, name, target)) == [(None, "REAUTHENTICATION_REQUIRED")]
    cookies = dict(client.cookies)
    client.cookies.clear()
    with_scope, without, reader = [await access(gql, secret) for secret in scripts]
    for token in (without, reader):
        assert errors(await call(gql, name, target, **token)) == [(None, "INSUFFICIENT_SCOPE")]
    answer = await call(gql, name, target, **with_scope)
    if name in TOKEN_MAY:
        assert answer["userErrors"] == [], answer
    else:  # an administrator's session, re-authenticated, and nothing less
        assert errors(answer) == [(None, "INSUFFICIENT_SCOPE")]
    await _undo(name)
    client.cookies.update(cookies)
    done = await gql(
        "mutation($p: String!) { reauthenticate(input: {password: $p}) { userErrors { code } } }",
        {"p": PASSWORD},
    )
    assert done["reauthenticate"]["userErrors"] == []
    assert (await call(gql, name, target))["userErrors"] == []


async def _undo(name: str) -> None:
    """What a successful call made, gone again, so the next caller can make it too."""
    await User.filter(username="newcomer").delete()
    await Group.filter(name="auditors").delete()
    await User.filter(username="bob").update(disabled_at=None)


async def test_making_an_administrator_takes_a_session_even_with_admin_write(scene, client):
    gql, bob = scene["gql"], scene["bob_id"]
    token = await bearer(gql, ["admin:read", "admin:write"])
    client.cookies.clear()
    promote = """mutation($u: ID!) { updateUser(input: {userId: $u, accountType: ADMINISTRATOR})
      { userErrors { field code } } }"""
    assert errors((await gql(promote, {"u": bob}, **token))["updateUser"]) == [
        (None, "INSUFFICIENT_SCOPE")
    ]
    create = """mutation { createUser(input: {username: "boss", email: "boss@example.com",
      accountType: ADMINISTRATOR}) { userErrors { field code } } }"""
    assert errors((await gql(create, **token))["createUser"]) == [(None, "INSUFFICIENT_SCOPE")]
    assert not await User.filter(account_type=ADMINISTRATOR).exclude(username="root1").exists()


async def test_only_an_administrator_may_hold_the_admin_scopes_and_only_while_one(scene, client):
    alice = scene["alice"]
    refused = (await alice(ISSUE, {"e": days_ahead(30), "s": ["admin:read"]}))["issueToken"]
    assert errors(refused) == [("scopes", "VALIDATION_FAILED")]
    assert refused["secret"] is None
    credentials = await alice(
        """mutation { generateApiCredentials(input: {scopes: ["admin:write"]}) {
        clientSecret userErrors { field code } } }"""
    )
    assert errors(credentials["generateApiCredentials"]) == [("scopes", "VALIDATION_FAILED")]
    listed = await alice("{ tokenScopes { name } }")
    assert "admin:read" not in {scope["name"] for scope in listed["tokenScopes"]}
    shown = await scene["gql"]("{ tokenScopes { name } }")
    assert {"admin:read", "admin:write"} <= {scope["name"] for scope in shown["tokenScopes"]}

    gql = scene["gql"]
    token = await bearer(gql, ["admin:read", "admin:write"])
    client.cookies.clear()
    assert (await gql("{ admin { groups { name } } }", **token))["admin"] is not None
    # Demoted: the token's administrator scopes stop with the next request.
    await User.filter(id=scene["root"].id).update(account_type="USER")
    answer = await gql.raw("{ admin { groups { name } } }", **token)
    body = answer.json()
    assert body["data"]["admin"] is None
    assert body["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    unlock = await call(gql, "unlockUser", scene["bob_id"], **token)
    assert errors(unlock) == [(None, "INSUFFICIENT_SCOPE")]


async def test_the_users_are_searched_by_the_start_of_names_and_paged(scene):
    gql = scene["gql"]
    for username, first, last, email in (
        ("ada", "Ada", "Lovelace", "countess@example.org"),
        ("grace", "Grace", "Hopper", "amazing@example.org"),
        ("alan", "Alan", "Turing", "enigma@example.net"),
        ("Lovisa", "Lovisa", "Ålund", "lovisa@example.com"),
    ):
        await User.create(
            username=username,
            username_key=username.casefold(),
            email=email,
            email_key=email.casefold(),
            first_name=first,
            first_name_key=first.casefold(),
            last_name=last,
            last_name_key=last.casefold(),
            password_hash="-",
        )

    async def names(search=None, status=None) -> list[str]:
        found = await gql(ADMIN_USERS, {"s": search, "st": status, "f": 50})
        return [edge["node"]["username"] for edge in found["admin"]["users"]["edges"]]

    assert await names() == ["ada", "alan", "alice", "bob", "grace", "Lovisa", "root1"]
    assert await names("LOVE") == ["ada"]  # a last name, whatever the case
    assert await names("lov") == ["ada", "Lovisa"]  # a last name, a username
    assert await names("ＡＭＡ") == ["grace"]  # full-width, the email's start
    assert await names("ålu") == ["Lovisa"]
    assert await names("ada love") == ["ada"]  # each word matches one of them
    assert await names("ada hopper") == []
    assert await names("ring") == []  # the start, not the middle
    assert await names("@example") == []

    first_page = await gql(ADMIN_USERS, {"f": 3})
    users = first_page["admin"]["users"]
    assert [edge["node"]["username"] for edge in users["edges"]] == ["ada", "alan", "alice"]
    assert users["pageInfo"]["hasNextPage"] is True
    second = await gql(ADMIN_USERS, {"f": 3, "a": users["pageInfo"]["endCursor"]})
    page = second["admin"]["users"]
    assert [edge["node"]["username"] for edge in page["edges"]] == ["bob", "grace", "Lovisa"]
    third = await gql(ADMIN_USERS, {"f": 3, "a": page["pageInfo"]["endCursor"]})
    assert [e["node"]["username"] for e in third["admin"]["users"]["edges"]] == ["root1"]
    assert third["admin"]["users"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": third["admin"]["users"]["edges"][0]["cursor"],
    }
    junk = await gql(ADMIN_USERS, {"a": "not a cursor"})
    assert junk["admin"]["users"]["edges"] == []


async def test_the_users_are_listed_by_status(scene, settings):
    from backend.auth import lockout

    gql = scene["gql"]
    bob = scene["bob"]
    carol = await make_user(settings, "carol")
    await lockout.freeze(carol, lockout.SECURED)
    answer = await call(gql, "disableUser", scene["bob_id"])
    assert answer["userErrors"] == []

    async def names(status) -> list[tuple[str, str]]:
        found = await gql(ADMIN_USERS, {"st": status})
        return [
            (e["node"]["username"], e["node"]["status"]) for e in found["admin"]["users"]["edges"]
        ]

    assert await names("DISABLED") == [("bob", "DISABLED")]
    assert await names("LOCKED") == [("carol", "LOCKED")]
    assert await names("ACTIVE") == [("alice", "ACTIVE"), ("root1", "ACTIVE")]
    assert await names("DELETION_SCHEDULED") == []
    # A scheduled deletion says so first, whatever else holds (bob is disabled too).
    await User.filter(id=bob.id).update(deletion_scheduled_at=clock.now())
    assert await names("DELETION_SCHEDULED") == [("bob", "DELETION_SCHEDULED")]
    assert await names("DISABLED") == []


async def test_an_administrator_sees_an_account_but_none_of_its_secrets(scene, settings):
    """The user has a password, an authenticator app, recovery codes, a token, API
    credentials and a session: the administrator sees that they exist, never a secret."""
    from backend.auth.factors.models import Authenticator, RecoveryCode
    from backend.tokens.models import ApiCredential, RefreshToken
    from tests.twofactor_helpers import enable_totp

    gql, bob_gql = scene["gql"], scene["bob_gql"]
    issued = (await bob_gql(ISSUE, {"e": days_ahead(30), "s": ["account:read"]}))["issueToken"]
    generated = await bob_gql(
        "mutation { generateApiCredentials(input: {}) { clientSecret userErrors { code } } }"
    )
    secret = generated["generateApiCredentials"]["clientSecret"]
    assert issued["secret"] and secret
    totp, recovery = await enable_totp(bob_gql)

    # Everything there is to ask, in a few documents (one would be too costly).
    asked = [
        """id username email firstName lastName mobilePhone timeZone language createdAt
        accountType status disabledAt disabledReason groups { name description selfService }
        secondFactors apiCredentials { clientId createdAt lastUsedAt scopes }""",
        "sessions { id createdAt lastSeenAt ipAddress userAgent browser current }",
        """tokens { id name createdAt expiresAt lastUsedAt lastUsedIpAddress status scopes
        regeneratedAt previousSecretValidUntil }""",
        "tokenActivity: tokens { exchangesLast30Days }",
        """securityEvents(first: 100) { edges { node { id kind createdAt ipAddress browser
        description } } }""",
    ]
    seen = [
        await gql(
            f"query($u: ID!) {{ admin {{ user(id: $u) {{ {fields} }} }} }}", {"u": scene["bob_id"]}
        )
        for fields in asked
    ]
    shown = {key: value for answer in seen for key, value in answer["admin"]["user"].items()}
    assert shown["secondFactors"] == ["TOTP", "RECOVERY_CODE"]
    assert [token["name"] for token in shown["tokens"]] == ["provisioning"]
    assert shown["apiCredentials"]["clientId"].startswith("lk_ci_")
    assert len(shown["sessions"]) == 1
    text = str(seen)
    user = await User.get(id=scene["bob"].id)
    stored = [
        user.password_hash,
        *(await Authenticator.filter(user_id=user.id).values_list("secret", flat=True)),
        *(await RecoveryCode.filter(user_id=user.id).values_list("code_hash", flat=True)),
        *(await RefreshToken.filter(user_id=user.id).values_list("token_hash", flat=True)),
        *(await ApiCredential.filter(user_id=user.id).values_list("secret_hash", flat=True)),
    ]
    given = [PASSWORD, totp, *recovery, issued["secret"], secret]
    leaked = [value for value in [*stored, *given] if value and value in text]
    assert leaked == []
    assert "$argon2" not in text


async def test_the_operator_log_says_who_did_what_to_whom(scene):
    gql = scene["gql"]
    assert (await call(gql, "disableUser", scene["bob_id"]))["userErrors"] == []
    assert (await call(gql, "enableUser", scene["bob_id"]))["userErrors"] == []
    log = await gql("""{ admin { log(first: 1) { edges { cursor node { action administrator
      userId username description } } pageInfo { hasNextPage endCursor } } } }""")
    page = log["admin"]["log"]
    assert page["edges"][0]["node"] == {
        "action": "user.enabled",
        "administrator": "root1",
        "userId": scene["bob_id"],
        "username": "bob",
        "description": "root1 enabled bob",
    }
    assert page["pageInfo"]["hasNextPage"] is True
    older = await gql(
        """query($a: String) { admin { log(first: 5, after: $a) { edges { node { action
        description } } pageInfo { hasNextPage } } } }""",
        {"a": page["pageInfo"]["endCursor"]},
    )
    assert [edge["node"] for edge in older["admin"]["log"]["edges"]] == [
        {"action": "user.disabled", "description": "root1 disabled bob"}
    ]
    assert await OperatorAction.all().count() == 2
    japanese = await gql(
        "{ admin { log(first: 1) { edges { node { description } } } } }",
        **{"Accept-Language": "ja"},
    )
    described = japanese["admin"]["log"]["edges"][0]["node"]["description"]
    assert "root1" in described and "bob" in described and "enabled" not in described
