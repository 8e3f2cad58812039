"""Token scopes: chosen at issue, carried by access tokens, enforced on bearer requests."""

from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.infra.config import ConfigError, Settings
from backend.tokens import scopes
from tests.conftest import _client, settings_for
from tests.helpers import PASSWORD, GraphQL, days_ahead, make_user
from tests.test_oauth import basic, error_of
from tests.test_service_clients import create as create_service_client
from tests.test_service_clients import introspect

PLATFORM = "ita:read=Read ITA data;ita:write=Run ITA jobs"
ISSUE = """mutation($n: String!, $e: DateTime, $s: [String!]) {
  issueToken(input: {name: $n, expiresAt: $e, password: "@PASSWORD@", scopes: $s}) {
    token { id scopes } secret userErrors { field code message } } }""".replace(
    "@PASSWORD@", PASSWORD
)
GENERATE = """mutation($s: [String!]) {
  generateApiCredentials(input: {password: "@PASSWORD@", scopes: $s}) {
    apiCredentials { clientId scopes } clientSecret userErrors { field code } } }""".replace(
    "@PASSWORD@", PASSWORD
)
UPDATE = """mutation { updateAccount(input: {firstName: "Alice"}) {
  viewer { firstName } userErrors { field code } } }"""
CHANGE_EMAIL = """mutation {
  updateAccount(input: {email: "new@example.com", password: "@PASSWORD@"}) {
    userErrors { field code } } }""".replace("@PASSWORD@", PASSWORD)
DELETE = """mutation($id: ID!) { deleteToken(input: {id: $id}) {
  deletedTokenId userErrors { field code } } }"""
SCOPES = "{ tokenScopes { name description builtIn default } }"


@pytest.fixture
async def platform(database_url):
    """alice signed in on a server whose platform adds two scopes of its own."""
    settings = settings_for(database_url, scopes=PLATFORM)
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        await make_user(settings, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        gql.settings = settings  # type: ignore[attr-defined]
        yield gql


async def issue(gql: GraphQL, names: list[str] | None, name: str = "script") -> dict:
    variables = {"n": name, "e": days_ahead(30), "s": names}
    return (await gql(ISSUE, variables))["issueToken"]


async def access_token(gql: GraphQL, names: list[str] | None, scope: str | None = None) -> str:
    secret = (await issue(gql, names))["secret"]
    form = {"grant_type": "refresh_token", "refresh_token": secret}
    if scope is not None:
        form["scope"] = scope
    response = await gql.client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def as_bearer(gql: GraphQL, access: str, query: str, variables=None) -> dict:
    jar = dict(gql.client.cookies)
    gql.client.cookies.clear()
    try:
        response = await gql.raw(query, variables, Authorization=f"Bearer {access}")
    finally:
        gql.client.cookies.update(jar)
    assert response.status_code == 200, response.text
    return response.json()


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def test_the_scopes_on_offer_are_the_built_in_ones_then_the_platforms(platform):
    offered = (await platform(SCOPES))["tokenScopes"]
    assert [(s["name"], s["builtIn"], s["default"]) for s in offered] == [
        ("account:read", True, True),
        ("account:write", True, False),
        ("ita:read", False, False),
        ("ita:write", False, False),
    ]
    assert offered[2]["description"] == "Read ITA data"


async def test_a_token_without_scopes_named_gets_the_default_and_round_one_clients_work(
    gql, client, alice
):
    issued = await issue(gql, None)
    assert issued["token"]["scopes"] == ["account:read"]
    response = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": issued["secret"]}
    )
    assert response.json()["scope"] == "account:read"
    data = await as_bearer(gql, response.json()["access_token"], "{ viewer { username } }")
    assert data == {"data": {"viewer": {"username": "alice"}}}


@pytest.mark.parametrize(
    ("names", "message"),
    [(["account:read", "billing:all"], "Unknown scope"), ([], "at least one")],
)
async def test_unknown_or_no_scopes_are_a_validation_error(gql, alice, names, message):
    refused = await issue(gql, names)
    assert codes(refused) == [("scopes", "VALIDATION_FAILED")]
    assert message in refused["userErrors"][0]["message"]
    assert refused["secret"] is None
    assert (await gql("{ viewer { tokens { id } } }"))["viewer"]["tokens"] == []


async def test_account_read_reads_the_viewer_and_changes_nothing(gql, alice):
    issued = await issue(gql, ["account:read"], "reader")
    access = await access_token(gql, ["account:read"])
    viewer = await as_bearer(gql, access, "{ viewer { username tokens { name scopes } } }")
    assert viewer["data"]["viewer"]["username"] == "alice"
    assert {"name": "reader", "scopes": ["account:read"]} in viewer["data"]["viewer"]["tokens"]

    update = (await as_bearer(gql, access, UPDATE))["data"]["updateAccount"]
    assert update == {"viewer": None, "userErrors": [{"field": None, "code": "INSUFFICIENT_SCOPE"}]}
    variables = {"n": "minted", "e": days_ahead(7), "s": ["account:read"]}
    minted = (await as_bearer(gql, access, ISSUE, variables))["data"]["issueToken"]
    assert codes(minted) == [(None, "INSUFFICIENT_SCOPE")] and minted["secret"] is None
    deleted = await as_bearer(gql, access, DELETE, {"id": issued["token"]["id"]})
    assert codes(deleted["data"]["deleteToken"]) == [(None, "INSUFFICIENT_SCOPE")]

    names = [
        t["name"]
        for t in (await gql("{ viewer { firstName tokens { name } } }"))["viewer"]["tokens"]
    ]
    assert sorted(names) == ["reader", "script"]
    assert (await gql("{ viewer { firstName } }"))["viewer"]["firstName"] == ""


async def test_account_write_changes_details_but_never_security_settings(gql, alice):
    access = await access_token(gql, ["account:read", "account:write"])
    assert (await as_bearer(gql, access, UPDATE))["data"]["updateAccount"] == {
        "viewer": {"firstName": "Alice"},
        "userErrors": [],
    }
    email = (await as_bearer(gql, access, CHANGE_EMAIL))["data"]["updateAccount"]
    assert codes(email) == [(None, "INSUFFICIENT_SCOPE")]
    assert (await gql("{ viewer { email pendingEmail } }"))["viewer"] == {
        "email": "alice@example.com",
        "pendingEmail": None,
    }
    # Whatever its scopes, a token never re-authenticates or deletes tokens.
    again = await as_bearer(
        gql,
        access,
        'mutation { reauthenticate(input: {password: "@PASSWORD@"}) '
        "{ userErrors { field code } } }".replace("@PASSWORD@", PASSWORD),
    )
    assert codes(again["data"]["reauthenticate"]) == [(None, "INSUFFICIENT_SCOPE")]


async def test_a_query_field_outside_the_scopes_is_null_with_insufficient_scope(platform):
    access = await access_token(platform, ["ita:read"])
    answer = await as_bearer(platform, access, "{ viewer { username } timeZones }")
    assert answer["data"]["viewer"] is None
    assert "UTC" in answer["data"]["timeZones"]  # public: needs no scope
    [error] = answer["errors"]
    assert error["path"] == ["viewer"]
    assert error["extensions"]["code"] == "INSUFFICIENT_SCOPE"


async def test_sessions_are_not_limited_by_scopes(gql, alice):
    assert (await gql(UPDATE))["updateAccount"]["userErrors"] == []
    assert (await gql("{ viewer { username } }"))["viewer"]["username"] == "alice"


async def test_a_script_may_ask_for_fewer_scopes_never_more(gql, client, alice):
    secret = (await issue(gql, ["account:read", "account:write"]))["secret"]

    async def ask(scope: str):
        form = {"grant_type": "refresh_token", "refresh_token": secret, "scope": scope}
        return await client.post("/oauth/token", data=form)

    narrower = await ask("account:read")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "account:read"
    refused = (await as_bearer(gql, narrower.json()["access_token"], UPDATE))["data"]
    assert codes(refused["updateAccount"]) == [(None, "INSUFFICIENT_SCOPE")]
    both = await ask("account:write account:read")
    assert both.json()["scope"] == "account:read account:write"
    for wider in ("account:read ita:read", "nonsense", "account:read account:write admin"):
        assert error_of(await ask(wider)) == (400, "invalid_scope"), wider


async def test_api_credentials_carry_their_scopes_to_client_credentials(platform):
    generated = (await platform(GENERATE, {"s": ["ita:write", "account:read"]}))[
        "generateApiCredentials"
    ]
    assert generated["apiCredentials"]["scopes"] == ["account:read", "ita:write"]
    client_id = generated["apiCredentials"]["clientId"]
    auth = basic(client_id, generated["clientSecret"])

    async def grant(**extra: str):
        form = {"grant_type": "client_credentials", **extra}
        return await platform.client.post("/oauth/token", data=form, headers=auth)

    assert (await grant()).json()["scope"] == "account:read ita:write"
    assert (await grant(scope="ita:write")).json()["scope"] == "ita:write"
    assert error_of(await grant(scope="ita:read")) == (400, "invalid_scope")
    refused = (await platform(GENERATE, {"s": ["root"]}))["generateApiCredentials"]
    assert codes(refused) == [("scopes", "VALIDATION_FAILED")]
    listed = await platform("{ viewer { apiCredentials { scopes } } }")
    assert listed["viewer"]["apiCredentials"]["scopes"] == ["account:read", "ita:write"]


async def test_a_platform_scope_travels_through_issue_exchange_and_introspection(platform):
    settings: Settings = platform.settings  # type: ignore[attr-defined]
    client_id, secret = create_service_client(settings, "ita")
    issued = await issue(platform, ["ita:read", "ita:write"])
    assert issued["token"]["scopes"] == ["ita:read", "ita:write"]
    form = {"grant_type": "refresh_token", "refresh_token": issued["secret"], "scope": "ita:read"}
    access = (await platform.client.post("/oauth/token", data=form)).json()
    assert access["scope"] == "ita:read"
    seen = (await introspect(platform.client, access["access_token"], client_id, secret)).json()
    assert seen["active"] is True and seen["scope"] == "ita:read"
    assert seen["username"] == "alice"
    refresh = (await introspect(platform.client, issued["secret"], client_id, secret)).json()
    assert refresh["scope"] == "ita:read ita:write"


def test_the_scope_settings_are_checked_at_start():
    catalog = scopes.for_settings(
        settings_for("sqlite://x", scopes=PLATFORM, default_scopes="account:read,ita:read")
    )
    assert catalog.default == ("account:read", "ita:read")
    for bad in ("ita:read", "ita read=Spaces", "account:read=Again", "x=", "a=1;a=2"):
        with pytest.raises(ConfigError):
            scopes.for_settings(settings_for("sqlite://x", scopes=bad))
    with pytest.raises(ConfigError):
        scopes.for_settings(settings_for("sqlite://x", default_scopes="ita:read"))
    with pytest.raises(ConfigError):
        create_app(settings_for("sqlite://x", default_scopes=""))
    env = {
        "LATCHKEY_SCOPES": PLATFORM,
        "LATCHKEY_DEFAULT_SCOPES": "account:read account:write",
        "LATCHKEY_TOKEN_ROTATION_GRACE_SECONDS": "60",
        "LATCHKEY_SECRET_KEY": "k",
    }
    settings = Settings.from_env(env)
    assert scopes.for_settings(settings).default == ("account:read", "account:write")
    assert settings.token_rotation_grace_seconds == 60


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("{ me: viewer { username } timeZones }", ["me"]),
        ("{ ...Q timeZones } fragment Q on Query { viewer { username } }", ["viewer"]),
        ("{ ... on Query { ... on Query { v: viewer { username } } } }", ["v"]),
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { w: viewer { id } }",
            ["w"],
        ),
    ],
)
async def test_an_alias_or_a_fragment_does_not_reach_a_field_outside_the_scopes(
    platform, query, path
):
    access = await access_token(platform, ["ita:read"])
    answer = await as_bearer(platform, access, query)
    assert answer["data"][path[0]] is None
    [error] = answer["errors"]
    assert error["path"] == path
    assert error["extensions"]["code"] == "INSUFFICIENT_SCOPE"


async def test_a_mutation_in_a_fragment_or_under_an_alias_is_refused_without_the_scope(gql, alice):
    access = await access_token(gql, ["account:read"])
    fields = 'updateAccount(input: {firstName: "Mallory"}) { userErrors { field code } }'
    aliased = await as_bearer(gql, access, f"mutation {{ u: {fields} }}")
    assert codes(aliased["data"]["u"]) == [(None, "INSUFFICIENT_SCOPE")]
    spread = await as_bearer(
        gql, access, f"mutation {{ ...M }} fragment M on Mutation {{ x: {fields} }}"
    )
    assert codes(spread["data"]["x"]) == [(None, "INSUFFICIENT_SCOPE")]
    inline = await as_bearer(gql, access, f"mutation {{ ... on Mutation {{ {fields} }} }}")
    assert codes(inline["data"]["updateAccount"]) == [(None, "INSUFFICIENT_SCOPE")]
    assert (await gql("{ viewer { firstName } }"))["viewer"]["firstName"] == ""
