"""A standard OAuth 2.0 client asks for fewer scopes than its refresh token has."""

from __future__ import annotations

from authlib.integrations.httpx_client import OAuth2Client

from tests.cli_helpers import create_user
from tests.helpers import PASSWORD, days_ahead
from tests.live import live_server
from tests.test_oauth_live import signed_in, sqlite_settings  # noqa: F401 (a fixture)

ISSUE = """mutation($e: DateTime) {
  issueToken(input: {name: "deploy", expiresAt: $e, password: "@PASSWORD@",
                     scopes: ["account:read", "account:write"]}) { secret } }""".replace(
    "@PASSWORD@", PASSWORD
)
UPDATE = {"query": 'mutation { updateAccount(input: {lastName: "Smith"}) { userErrors { code } } }'}


def test_authlib_refresh_grant_with_a_narrower_scope(sqlite_settings):  # noqa: F811
    create_user(sqlite_settings)
    with live_server(sqlite_settings) as url:
        browser = signed_in(url)
        issued = browser.post("/graphql", json={"query": ISSUE, "variables": {"e": days_ahead(30)}})
        refresh_token = issued.json()["data"]["issueToken"]["secret"]
        with OAuth2Client(token_endpoint=f"{url}/oauth/token") as oauth:
            token = oauth.refresh_token(
                f"{url}/oauth/token", refresh_token=refresh_token, scope="account:read"
            )
            assert token["scope"] == "account:read"
            viewer = oauth.post(f"{url}/graphql", json={"query": "{ viewer { username } }"})
            refused = oauth.post(f"{url}/graphql", json=UPDATE)
        with OAuth2Client(token_endpoint=f"{url}/oauth/token") as oauth:
            full = oauth.refresh_token(f"{url}/oauth/token", refresh_token=refresh_token)
            assert full["scope"] == "account:read account:write"
            changed = oauth.post(f"{url}/graphql", json=UPDATE)
    assert viewer.json()["data"]["viewer"] == {"username": "alice"}
    assert refused.json()["data"]["updateAccount"]["userErrors"] == [{"code": "INSUFFICIENT_SCOPE"}]
    assert changed.json()["data"]["updateAccount"]["userErrors"] == []
