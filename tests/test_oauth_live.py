"""Standard OAuth 2.0 clients against `latchkey serve`, and revocation across processes."""

from __future__ import annotations

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import live_server

VIEWER = {"query": "{ viewer { username tokens { name } } }"}
GENERATE = """mutation { generateApiCredentials(input: {password: "%s"}) {
  clientId clientSecret userErrors { code } } }"""


def signed_in(url: str, username: str = "alice") -> httpx.Client:
    browser = httpx.Client(base_url=url)
    response = browser.post(
        "/graphql",
        json={"query": SIGN_IN, "variables": {"username": username, "password": PASSWORD}},
    )
    assert response.json()["data"]["signIn"]["status"] == "SIGNED_IN"
    return browser


def issue_refresh_token(browser: httpx.Client, name: str = "script") -> dict:
    response = browser.post(
        "/graphql",
        json={
            "query": ISSUE_TOKEN,
            "variables": {"name": name, "expiresAt": days_ahead(30), "password": PASSWORD},
        },
    )
    return response.json()["data"]["issueToken"]


@pytest.fixture
def sqlite_settings(sqlite_template, tmp_path):
    import shutil

    path = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, path)
    return settings_for(f"sqlite://{path}")


def test_authlib_refresh_token_grant_then_bearer_graphql(sqlite_settings):
    create_user(sqlite_settings)
    with live_server(sqlite_settings) as url:
        refresh_token = issue_refresh_token(signed_in(url))["secret"]
        with OAuth2Client(token_endpoint=f"{url}/oauth/token") as oauth:
            token = oauth.refresh_token(f"{url}/oauth/token", refresh_token=refresh_token)
            assert token["token_type"] == "Bearer" and token["expires_in"] == 300
            response = oauth.post(f"{url}/graphql", json=VIEWER)
    assert response.json()["data"]["viewer"] == {
        "username": "alice",
        "tokens": [{"name": "script"}],
    }


def test_authlib_client_credentials_grant_with_basic_auth(sqlite_settings):
    create_user(sqlite_settings)
    with live_server(sqlite_settings) as url:
        browser = signed_in(url)
        generated = browser.post("/graphql", json={"query": GENERATE % PASSWORD}).json()
        credentials = generated["data"]["generateApiCredentials"]
        with OAuth2Client(
            credentials["clientId"],
            credentials["clientSecret"],
            token_endpoint_auth_method="client_secret_basic",
        ) as oauth:
            token = oauth.fetch_token(f"{url}/oauth/token", grant_type="client_credentials")
            assert token["access_token"].startswith("lk_at_")
            response = oauth.post(f"{url}/graphql", json=VIEWER)
    assert response.json()["data"]["viewer"]["username"] == "alice"


def test_a_token_deleted_on_one_server_is_refused_by_another_at_once(postgres_url):
    settings = settings_for(postgres_url)
    create_user(settings)
    with live_server(settings) as first, live_server(settings) as second:
        browser = signed_in(first)
        issued = issue_refresh_token(browser)
        access = httpx.post(
            f"{second}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": issued["secret"]},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {access}"}
        assert httpx.post(f"{second}/graphql", json=VIEWER, headers=headers).status_code == 200

        deleted = browser.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { deleteToken(input: {id: $id}) { deletedTokenId } }",
                "variables": {"id": issued["token"]["id"]},
            },
        )
        assert deleted.json()["data"]["deleteToken"]["deletedTokenId"] == issued["token"]["id"]

        refused = httpx.post(f"{second}/graphql", json=VIEWER, headers=headers)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        exchange = httpx.post(
            f"{second}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": issued["secret"]},
        )
        assert exchange.json()["error"] == "invalid_grant"
