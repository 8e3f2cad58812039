"""OpenID Connect's authorization code flow in-process: what a relying party gets, and every
way a request or a code could be misused."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from backend.kernel import clock
from backend.oidc import clients

CALLBACK = "https://platform.example/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
async def platform(app):
    client, secret = await clients.create("Platform", [CALLBACK])
    return client, secret


def authorize_url(client_id: str, challenge: str = "", **extra: str) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid profile email",
        "state": "st-1",
        "nonce": "n-1",
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}),
        **extra,
    }
    return f"/oauth/authorize?{urlencode(query)}"


def answer_of(response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def code_for(client, client_id: str, challenge: str = "") -> str:
    answer = answer_of(await client.get(authorize_url(client_id, challenge)))
    assert answer["state"] == "st-1" and answer["iss"] == "http://localhost:8000"
    return answer["code"]


async def redeem(client, platform, code: str, verifier: str = "", **extra: str):
    registered, secret = platform
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier:
        form["code_verifier"] = verifier
    form.update(extra)
    return await client.post("/oauth/token", data=form, auth=(registered.client_id, secret))


async def test_a_signed_in_user_gets_a_verifiable_id_token_and_userinfo(
    client, gql, alice, platform
):
    registered, _ = platform
    verifier, challenge = pkce()
    code = await code_for(client, registered.client_id, challenge)
    tokens = (await redeem(client, platform, code, verifier)).json()
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "openid profile email"
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    token = jwt.decode(tokens["id_token"], keys, algorithms=["ES256"])
    claims = token.claims
    assert claims["iss"] == "http://localhost:8000" and claims["aud"] == registered.client_id
    assert claims["nonce"] == "n-1" and claims["amr"] == ["pwd"]
    assert claims["sub"] == str(alice.id) and claims["preferred_username"] == "alice"
    assert claims["acr"] == "urn:latchkey:acr:pwd" and claims["exp"] > claims["iat"]
    assert token.header["kid"]
    info = await client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["email"] == "alice@example.com" and info.json()["sub"] == str(alice.id)
    # The access token is for reading who signed in, never for changing the account.
    change = await client.post(
        "/graphql",
        json={
            "query": 'mutation { updateAccount(input: {firstName: "X"}) { userErrors { code } } }'
        },
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert change.json()["data"]["updateAccount"]["userErrors"] == [{"code": "INSUFFICIENT_SCOPE"}]


async def test_discovery_names_the_endpoints_and_only_s256(client, app):
    body = (await client.get("/.well-known/openid-configuration")).json()
    assert body["issuer"] == "http://localhost:8000"
    assert body["authorization_endpoint"] == "http://localhost:8000/oauth/authorize"
    assert body["jwks_uri"] == "http://localhost:8000/oauth/jwks"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["backchannel_logout_supported"] is True
    assert body["backchannel_logout_session_supported"] is True
    assert "frontchannel_logout_supported" not in body and "sid" in body["claims_supported"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        CALLBACK + "/",
        CALLBACK.replace("https", "http"),
        CALLBACK + "?x=1",
        "https://evil.example/callback",
    ],
)
async def test_a_redirect_uri_one_character_off_gets_a_page_and_no_redirect(
    client, alice, platform, redirect_uri
):
    registered, _ = platform
    url = authorize_url(registered.client_id).replace(
        urlencode({"redirect_uri": CALLBACK}), urlencode({"redirect_uri": redirect_uri})
    )
    answer = await client.get(url)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "not registered" in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    unknown = await client.get(authorize_url("no-such-client"))
    assert unknown.status_code == 400 and "location" not in unknown.headers


async def test_plain_pkce_is_refused_and_a_public_client_must_use_pkce(client, alice, app):
    public, _ = await clients.create("Phone app", [CALLBACK], public=True)
    plain = answer_of(
        await client.get(
            authorize_url(public.client_id, code_challenge="x" * 43, code_challenge_method="plain")
        )
    )
    assert plain["error"] == "invalid_request" and plain["state"] == "st-1"
    without = answer_of(await client.get(authorize_url(public.client_id)))
    assert without["error"] == "invalid_request"
    # With PKCE, a public client redeems with its client_id alone.
    verifier, challenge = pkce()
    code = await code_for(client, public.client_id, challenge)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": public.client_id,
        "code_verifier": verifier,
    }
    assert (await client.post("/oauth/token", data=form)).status_code == 200


async def test_a_code_works_once_within_a_minute_for_its_client_uri_and_verifier(
    client, alice, platform, app
):
    registered, _ = platform
    verifier, challenge = pkce()
    code = await code_for(client, registered.client_id, challenge)
    wrong_verifier = await redeem(client, platform, code, pkce()[0])
    assert wrong_verifier.json()["error"] == "invalid_grant"
    other, other_secret = await clients.create("Other", [CALLBACK])
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    stolen = await client.post("/oauth/token", data=form, auth=(other.client_id, other_secret))
    assert stolen.json()["error"] == "invalid_grant"
    assert (await redeem(client, platform, code, verifier)).status_code == 200
    again = await redeem(client, platform, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    late = await code_for(client, registered.client_id, challenge)
    clock.advance(timedelta(seconds=61))
    assert (await redeem(client, platform, late, verifier)).json()["error"] == "invalid_grant"
    wrong_secret = await client.post(
        "/oauth/token", data={**form, "code": late}, auth=(registered.client_id, "nope")
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"


async def test_a_second_use_of_a_code_ends_the_tokens_the_first_use_gave(
    client, alice, platform
):
    registered, secret = platform
    verifier, challenge = pkce()
    url = authorize_url(registered.client_id, challenge, scope="openid offline_access")
    code = answer_of(await client.get(url))["code"]
    given = (await redeem(client, platform, code, verifier)).json()
    bearer = {"Authorization": f"Bearer {given['access_token']}"}
    assert (await client.get("/oauth/userinfo", headers=bearer)).status_code == 200

    # The code again: it leaked, and whoever redeemed it first may be the thief.
    assert (await redeem(client, platform, code, verifier)).json()["error"] == "invalid_grant"
    assert (await client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": given["refresh_token"]}
    refreshed = await client.post("/oauth/token", data=form, auth=(registered.client_id, secret))
    assert refreshed.json()["error"] == "invalid_grant"


async def test_without_a_session_the_user_signs_in_first_or_prompt_none_is_refused(
    new_client, platform
):
    registered, _ = platform
    async with new_client() as stranger:
        url = authorize_url(registered.client_id)
        sent = await stranger.get(url)
        assert sent.status_code == 303
        location = urlsplit(sent.headers["location"])
        assert location.path == "/login"
        assert parse_qs(location.query)["next"] == [url]
        refused = answer_of(await stranger.get(url + "&prompt=none"))
        assert refused["error"] == "login_required" and "code" not in refused


async def test_prompt_login_and_max_age_ask_to_confirm_it_is_you_then_come_back(
    client, alice, platform
):
    from tests.helpers import reauthenticate

    registered, _ = platform
    verifier, challenge = pkce()
    clock.advance(timedelta(minutes=10))
    for asking in ({"prompt": "login"}, {"max_age": "60"}):
        url = authorize_url(registered.client_id, challenge, **asking)
        sent = await client.get(url)
        location = urlsplit(sent.headers["location"])
        assert sent.status_code == 303 and location.path == "/account/reauthenticate"
        back = parse_qs(location.query)["next"][0]
        assert "prompt=login" not in back and back.startswith("/oauth/authorize?")
        if "max_age" in asking:  # a silent request cannot ask: it is refused
            silent = answer_of(await client.get(url + "&prompt=none"))
            assert silent["error"] == "login_required"
        confirmed = await reauthenticate(client, back)
        answer = answer_of(confirmed)
        tokens = (await redeem(client, platform, answer["code"], verifier)).json()
        keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
        claims = jwt.decode(tokens["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["auth_time"] >= int(clock.now().timestamp()) - 1  # proven just now
        clock.advance(timedelta(minutes=10))


async def test_asking_for_a_second_factor_of_an_account_without_one_is_refused(
    client, alice, platform
):
    registered, _ = platform
    url = authorize_url(registered.client_id, acr_values="urn:latchkey:acr:mfa")
    refused = answer_of(await client.get(url))
    assert refused["error"] == "unmet_authentication_requirements"


async def test_an_application_signs_its_user_out_with_the_id_token_it_was_given(
    client, gql, alice, app
):
    registered, secret = await clients.create(
        "Portal", [CALLBACK], post_logout_redirect_uris=["https://platform.example/bye"]
    )
    verifier, challenge = pkce()
    code = await code_for(client, registered.client_id, challenge)
    tokens = (await redeem(client, (registered, secret), code, verifier)).json()
    hint = tokens["id_token"]

    # Without a hint, or to a URI the client did not register: a page, nobody signed out.
    for query in (
        {"post_logout_redirect_uri": "https://platform.example/bye"},
        {"id_token_hint": hint, "post_logout_redirect_uri": "https://platform.example/bye/"},
        {"id_token_hint": hint[:-4] + "AAAA"},
    ):
        refused = await client.get(f"/oauth/logout?{urlencode(query)}")
        assert refused.status_code == 400 and "location" not in refused.headers
        assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}

    query = {
        "id_token_hint": hint,
        "post_logout_redirect_uri": "https://platform.example/bye",
        "state": "s-9",
    }
    out = await client.get(f"/oauth/logout?{urlencode(query)}")
    assert out.status_code == 303
    assert out.headers["location"] == "https://platform.example/bye?state=s-9"
    assert (await gql("{ viewer { username } }"))["viewer"] is None


async def test_offline_access_rotates_refresh_tokens_and_a_reused_one_revokes_the_chain(
    client, alice, platform
):
    registered, secret = platform
    verifier, challenge = pkce()
    answer = answer_of(
        await client.get(
            authorize_url(registered.client_id, challenge, scope="openid offline_access")
        )
    )
    first = (await redeem(client, platform, answer["code"], verifier)).json()["refresh_token"]

    async def refresh(token: str):
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await client.post("/oauth/token", data=form, auth=(registered.client_id, secret))

    rotated = (await refresh(first)).json()
    second = rotated["refresh_token"]
    assert second != first and rotated["id_token"] and rotated["access_token"].startswith("lk_at_")
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    claims = jwt.decode(rotated["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["sub"] == str(alice.id) and "nonce" not in claims

    # The first token again: someone kept a copy. The whole chain dies, the newest too.
    reused = await refresh(first)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert (await refresh(second)).json()["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    # Another client cannot use one either; a user's refresh token grant is unaffected.
    other, other_secret = await clients.create("Other", [CALLBACK])
    form = {"grant_type": "refresh_token", "refresh_token": second}
    stolen = await client.post("/oauth/token", data=form, auth=(other.client_id, other_secret))
    assert stolen.json()["error"] == "invalid_grant"


async def test_acr_mfa_asks_for_the_second_factor_and_the_id_token_says_which(
    client, gql, alice, platform
):
    from tests.helpers import reauthenticate
    from tests.twofactor_helpers import enable_totp, oathtool

    registered, _ = platform
    secret, _ = await enable_totp(gql)
    verifier, challenge = pkce()
    url = authorize_url(registered.client_id, challenge, acr_values="urn:latchkey:acr:mfa")
    sent = await client.get(url)
    location = urlsplit(sent.headers["location"])
    assert location.path == "/account/reauthenticate"
    back = parse_qs(location.query)["next"][0]
    answer = answer_of(await reauthenticate(client, back, code=oathtool(secret, 30)))
    tokens = (await redeem(client, platform, answer["code"], verifier)).json()
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == "urn:latchkey:acr:mfa"


async def test_a_logout_hint_for_another_user_signs_nobody_else_out(
    client, gql, alice, new_client, settings, app
):
    from tests.helpers import GraphQL, make_user

    registered, secret = await clients.create(
        "Portal", [CALLBACK], post_logout_redirect_uris=["https://platform.example/bye"]
    )
    await make_user(settings, "bob")
    async with new_client() as bobs:
        await GraphQL(bobs).sign_in("bob")
        verifier, challenge = pkce()
        code = await code_for(bobs, registered.client_id, challenge)
        hint = (await redeem(bobs, (registered, secret), code, verifier)).json()["id_token"]
    query = {"id_token_hint": hint, "post_logout_redirect_uri": "https://platform.example/bye"}
    out = await client.get(f"/oauth/logout?{urlencode(query)}")
    assert out.status_code == 303  # the application's own URI, as asked
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}


async def test_an_id_token_and_userinfo_carry_no_secret_of_the_sign_in(
    client, gql, alice, platform
):
    from backend.accounts.models import User
    from tests.helpers import PASSWORD, reauthenticate
    from tests.twofactor_helpers import enable_totp, oathtool

    registered, client_secret = platform
    totp_secret, _ = await enable_totp(gql)
    verifier, challenge = pkce()
    url = authorize_url(
        registered.client_id,
        challenge,
        scope="openid profile email phone groups offline_access",
        acr_values="urn:latchkey:acr:mfa",
        prompt="login",
    )
    back = parse_qs(urlsplit((await client.get(url)).headers["location"]).query)["next"][0]
    otp = oathtool(totp_secret, 30)
    code = answer_of(await reauthenticate(client, back, code=otp))["code"]
    given = (await redeem(client, platform, code, verifier)).json()
    bearer = {"Authorization": f"Bearer {given['access_token']}"}
    info = (await client.get("/oauth/userinfo", headers=bearer)).text

    # The payload as it travels, not only as a library would decode it.
    payload = base64.urlsafe_b64decode(given["id_token"].split(".")[1] + "==").decode()
    stored = await User.get(id=alice.id)
    secrets_of_the_sign_in = {
        PASSWORD, stored.password_hash, totp_secret, otp, client_secret, code, verifier,
        given["access_token"], given["refresh_token"],
    }  # fmt: skip
    for text in (payload, info):
        assert not [secret for secret in secrets_of_the_sign_in if secret and secret in text]


async def test_id_tokens_name_the_session_by_a_sid_that_a_refresh_keeps(
    client, alice, new_client, platform
):
    from backend.auth.sessions.models import Session
    from backend.kernel.crypto import digest
    from tests.helpers import GraphQL

    registered, secret = platform
    keys = None

    async def signed_in(browser, client_id: str, **extra: str) -> dict:
        nonlocal keys
        verifier, challenge = pkce()
        answer = answer_of(await browser.get(authorize_url(client_id, challenge, **extra)))
        tokens = (await redeem(browser, platform, answer["code"], verifier)).json()
        keys = KeySet.import_key_set((await browser.get("/oauth/jwks")).json())
        return {**jwt.decode(tokens["id_token"], keys, algorithms=["ES256"]).claims, **tokens}

    first = await signed_in(client, registered.client_id, scope="openid offline_access")
    again = await signed_in(client, registered.client_id)
    assert first["sid"] == again["sid"]  # one session, one sid
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    refreshed = await client.post("/oauth/token", data=form, auth=(registered.client_id, secret))
    claims = jwt.decode(refreshed.json()["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["sid"] == first["sid"]

    # It names the session without being anything that could be used as it.
    cookie = next(value for name, value in client.cookies.items() if "session" in name)
    session = await Session.get(token_hash=digest(cookie))
    assert first["sid"] not in (cookie, digest(cookie), str(session.id))
    assert len(first["sid"]) >= 22
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        elsewhere = await signed_in(other, registered.client_id)
    assert elsewhere["sid"] != first["sid"]


async def test_introspection_names_the_application_and_session_of_its_access_token(
    client, gql, alice, platform
):
    from backend.serviceclients import service as service_clients

    registered, _ = platform
    await gql('mutation { updateAccount(input: {firstName: "Alice", lastName: "Liddell", '
              'language: "ja"}) { userErrors { code } } }')  # fmt: skip
    verifier, challenge = pkce()
    code = await code_for(client, registered.client_id, challenge)
    given = (await redeem(client, platform, code, verifier)).json()
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    sid = jwt.decode(given["id_token"], keys, algorithms=["ES256"]).claims["sid"]
    service = await service_clients.create("billing")
    answer = await client.post(
        "/oauth/introspect",
        data={"token": given["access_token"]},
        auth=(service.client.client_id, service.secret),
    )
    body = answer.json()
    assert body["active"] and body["sub"] == str(alice.id) and body["username"] == "alice"
    assert body["aud"] == registered.client_id == body["client_id"] and body["sid"] == sid
    assert body["name"] == "Alice Liddell" and body["locale"] == "ja"
