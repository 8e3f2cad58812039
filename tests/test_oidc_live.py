"""A relying party nobody here wrote (authlib's OAuth client) signs a user in through
`latchkey serve`: authorization code with PKCE, the ID token checked with joserfc against
the published keys, userinfo; and a user who has no session yet signs in on the way."""

from __future__ import annotations

import re

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.cli_helpers import create_user
from tests.helpers import PASSWORD
from tests.live import live_server
from tests.test_cli import latchkey
from tests.test_oauth_live import signed_in, sqlite_settings  # noqa: F401 (a fixture)

CALLBACK = "http://localhost:9/callback"  # never opened: the code is read off the redirect


def register(settings, *args: str) -> tuple[str, str]:
    made = latchkey(
        settings, "oidc-client", "create", "Platform", "--redirect-uri", CALLBACK, *args
    )
    assert made.returncode == 0, made.stderr
    client_id = re.search(r"client_id: (\S+)", made.stdout).group(1)
    secret = re.search(r"client_secret: (\S+)", made.stdout)
    return client_id, secret.group(1) if secret else ""


def test_authlib_signs_in_with_pkce_and_checks_the_id_token(sqlite_settings):  # noqa: F811
    create_user(sqlite_settings)
    client_id, secret = register(sqlite_settings)
    with live_server(sqlite_settings) as url:
        browser = signed_in(url)
        with OAuth2Client(
            client_id,
            secret,
            scope="openid profile email",
            redirect_uri=CALLBACK,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        ) as oauth:
            verifier = generate_token(48)
            authorize, state = oauth.create_authorization_url(
                f"{url}/oauth/authorize", code_verifier=verifier, nonce="n-42"
            )
            callback = browser.get(authorize).headers["location"]
            assert callback.startswith(CALLBACK) and f"state={state}" in callback
            token = oauth.fetch_token(
                f"{url}/oauth/token", authorization_response=callback, code_verifier=verifier
            )
            keys = KeySet.import_key_set(httpx.get(f"{url}/oauth/jwks").json())
            claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": url},
                aud={"essential": True, "value": client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": "n-42"},
            ).validate(claims)
            assert claims["preferred_username"] == "alice"
            info = oauth.get(f"{url}/oauth/userinfo").json()
            assert info["sub"] == claims["sub"] and info["email"] == "alice@example.com"


def test_a_user_without_a_session_signs_in_and_comes_back_with_a_code(sqlite_settings):  # noqa: F811
    create_user(sqlite_settings)
    client_id, _ = register(sqlite_settings, "--public", "--id-token-alg", "RS256")
    with (
        live_server(sqlite_settings) as url,
        OAuth2Client(
            client_id,
            scope="openid",
            redirect_uri=CALLBACK,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        ) as oauth,
    ):
        verifier = generate_token(48)
        authorize, _ = oauth.create_authorization_url(
            f"{url}/oauth/authorize", code_verifier=verifier
        )
        browser = httpx.Client(base_url=url)
        login = browser.get(authorize, follow_redirects=True)
        assert str(login.url).startswith(f"{url}/login?next=")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        carried = re.search(r'name="next" value="([^"]+)"', login.text).group(1)
        signed = browser.post(
            "/login",
            data={"csrf_token": csrf, "username": "alice", "password": PASSWORD,
                  "next": carried.replace("&amp;", "&")},
        )  # fmt: skip
        assert signed.status_code == 303
        callback = browser.get(signed.headers["location"]).headers["location"]
        token = oauth.fetch_token(
            f"{url}/oauth/token", authorization_response=callback, code_verifier=verifier
        )
        keys = KeySet.import_key_set(httpx.get(f"{url}/oauth/jwks").json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        assert decoded.header["alg"] == "RS256" and decoded.claims["aud"] == client_id


def test_authlib_refreshes_and_a_reused_refresh_token_ends_the_chain(sqlite_settings):  # noqa: F811
    from authlib.integrations.base_client.errors import OAuthError

    create_user(sqlite_settings)
    client_id, secret = register(sqlite_settings)
    with live_server(sqlite_settings) as url:
        browser = signed_in(url)
        with OAuth2Client(
            client_id,
            secret,
            scope="openid offline_access",
            redirect_uri=CALLBACK,
            code_challenge_method="S256",
        ) as oauth:
            verifier = generate_token(48)
            authorize, _ = oauth.create_authorization_url(
                f"{url}/oauth/authorize", code_verifier=verifier
            )
            callback = browser.get(authorize).headers["location"]
            first = oauth.fetch_token(
                f"{url}/oauth/token", authorization_response=callback, code_verifier=verifier
            )
            second = oauth.refresh_token(f"{url}/oauth/token", refresh_token=first["refresh_token"])
            assert second["refresh_token"] != first["refresh_token"] and second["id_token"]
            assert oauth.get(f"{url}/oauth/userinfo").status_code == 200

            # The first refresh token again (a copy someone kept): the whole chain ends.
            try:
                oauth.refresh_token(f"{url}/oauth/token", refresh_token=first["refresh_token"])
            except OAuthError as error:
                assert error.error == "invalid_grant"
            else:
                raise AssertionError("a used refresh token was accepted")
            oauth.token = second
            assert oauth.get(f"{url}/oauth/userinfo").status_code == 401
            try:
                oauth.refresh_token(f"{url}/oauth/token", refresh_token=second["refresh_token"])
            except OAuthError as error:
                assert error.error == "invalid_grant"
            else:
                raise AssertionError("the chain of a reused refresh token still works")
