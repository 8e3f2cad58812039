"""Third-party applications ask the user first; /account/applications lists every
application the user let in, and "Remove access" ends what it holds at once."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from backend.oidc import clients
from tests.test_oidc import CALLBACK, answer_of, authorize_url, pkce, redeem


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def third_party(name: str = "Photo Printer"):
    return await clients.create(name, [CALLBACK], third_party=True)


async def consent_page(client, url: str):
    sent = await client.get(url)
    assert sent.status_code == 303, sent.text
    location = urlsplit(sent.headers["location"])
    assert location.path == "/oauth/consent"
    return await client.get(sent.headers["location"]), parse_qs(location.query)["next"][0]


async def answer(client, page, back: str, decision: str):
    form = {"csrf_token": csrf_of(page), "next": back, "decision": decision}
    return await client.post("/oauth/consent", data=form)


async def test_a_third_party_application_asks_once_until_it_wants_more(client, alice, app):
    registered, _ = await third_party()
    page, back = await consent_page(client, authorize_url(registered.client_id))
    assert page.status_code == 200 and "Photo Printer" in page.text
    assert "See your email address" in page.text and "alice" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    allowed = await answer(client, page, back, "allow")
    assert allowed.status_code == 303 and allowed.headers["location"] == back
    code = answer_of(await client.get(back))["code"]
    assert code

    # Remembered: the same scopes go straight through, even without a page (prompt=none).
    assert "code" in answer_of(await client.get(authorize_url(registered.client_id)))
    silent = authorize_url(registered.client_id, prompt="none")
    assert "code" in answer_of(await client.get(silent))
    # More scopes: asked again; prompt=none cannot ask, so the application is told.
    more = authorize_url(registered.client_id, scope="openid email groups", prompt="none")
    assert answer_of(await client.get(more))["error"] == "consent_required"
    page, _ = await consent_page(client, authorize_url(registered.client_id, scope="openid groups"))
    assert "See the groups you belong to" in page.text


async def test_cancel_tells_the_application_access_denied_with_state_and_issuer(
    client, alice, app
):
    registered, _ = await third_party()
    page, back = await consent_page(client, authorize_url(registered.client_id))
    refused = answer_of(await answer(client, page, back, "deny"))
    assert refused["error"] == "access_denied" and "code" not in refused
    assert refused["state"] == "st-1" and refused["iss"] == "http://localhost:8000"
    # Nothing was remembered: the next sign-in asks again.
    await consent_page(client, authorize_url(registered.client_id))


async def test_a_consent_link_for_an_unregistered_redirect_uri_shows_an_error_page(
    client, alice, app
):
    registered, _ = await third_party()
    forged = authorize_url(registered.client_id).replace("callback", "callback/evil")
    url = "/oauth/consent?" + f"next={forged.replace('&', '%26').replace('?', '%3F')}"
    page = await client.get(url)
    assert page.status_code == 400 and "not valid" in page.text
    good, _ = await consent_page(client, authorize_url(registered.client_id))
    denied = await answer(client, good, forged, "deny")
    assert denied.status_code == 400 and "location" not in denied.headers


async def test_a_first_party_application_needs_no_consent_and_is_listed(client, gql, alice, app):
    registered, _ = await clients.create("Platform", [CALLBACK])
    assert "code" in answer_of(await client.get(authorize_url(registered.client_id)))
    listed = (await gql("{ viewer { applications { application { name thirdParty } scopes } } }"))
    assert listed["viewer"]["applications"] == [
        {
            "application": {"name": "Platform", "thirdParty": False},
            "scopes": ["openid", "profile", "email"],
        }
    ]


async def test_remove_access_ends_the_applications_tokens_and_its_consent(client, alice, app):
    registered, secret = await third_party()
    verifier, challenge = pkce()
    url = authorize_url(registered.client_id, challenge, scope="openid offline_access")
    page, back = await consent_page(client, url)
    await answer(client, page, back, "allow")
    code = answer_of(await client.get(back))["code"]
    given = (await redeem(client, (registered, secret), code, verifier)).json()
    bearer = {"Authorization": f"Bearer {given['access_token']}"}
    assert (await client.get("/oauth/userinfo", headers=bearer)).status_code == 200

    shown = await client.get("/account/applications")
    assert "Photo Printer" in shown.text and "Keep this access while you are away" in shown.text
    removed = await client.post(
        f"/account/applications/{registered.client_id}/remove",
        data={"csrf_token": csrf_of(shown), "name": "Photo Printer"},
    )
    assert removed.status_code == 303
    after = await client.get(removed.headers["location"])
    assert "Access removed for Photo Printer" in after.text
    assert f'data-client-id="{registered.client_id}"' not in after.text

    assert (await client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": given["refresh_token"]}
    refreshed = await client.post("/oauth/token", data=form, auth=(registered.client_id, secret))
    assert refreshed.json()["error"] == "invalid_grant"
    await consent_page(client, url)  # asks again


async def test_an_applications_token_cannot_allow_remove_or_change_security(
    client, alice, app
):
    registered, secret = await clients.create("Platform", [CALLBACK])
    verifier, challenge = pkce()
    code = answer_of(await client.get(authorize_url(registered.client_id, challenge)))["code"]
    token = (await redeem(client, (registered, secret), code, verifier)).json()["access_token"]
    client.cookies.clear()
    for mutation in (
        f'allowApplication(input: {{clientId: "{registered.client_id}", scopes: ["email"]}})',
        f'removeApplicationAccess(input: {{clientId: "{registered.client_id}"}})',
        'changePassword(input: {currentPassword: "x", newPassword: "y", '
        'newPasswordConfirmation: "y"})',
    ):
        answered = await client.post(
            "/graphql",
            json={"query": f"mutation {{ {mutation} {{ userErrors {{ code }} }} }}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        payload = next(iter(answered.json()["data"].values()))
        assert payload["userErrors"] == [{"code": "INSUFFICIENT_SCOPE"}], mutation


async def test_login_hint_prefills_the_username_and_says_nothing_of_the_account(
    new_client, settings, app
):
    from tests.helpers import make_user

    await make_user(settings, "carol")
    registered, _ = await clients.create("Platform", [CALLBACK])
    async with new_client() as browser:
        pages = {}
        for hint in ("carol", "nobody-here"):
            sent = await browser.get(authorize_url(registered.client_id, login_hint=hint))
            pages[hint] = (await browser.get(sent.headers["location"])).text
        assert 'value="carol"' in pages["carol"] and 'value="nobody-here"' in pages["nobody-here"]
        assert pages["carol"].replace("carol", "X") == pages["nobody-here"].replace(
            "nobody-here", "X"
        )


def test_a_third_party_client_never_gets_the_accounts_own_scopes(settings):
    from tests.test_cli import latchkey

    refused = latchkey(
        settings, "oidc-client", "create", "Shop", "--redirect-uri", CALLBACK,
        "--third-party", "--scope", "account:write",
    )  # fmt: skip
    assert refused.returncode != 0 and "third-party" in refused.stderr
    unknown = latchkey(
        settings, "oidc-client", "create", "Shop", "--redirect-uri", CALLBACK, "--scope", "nope"
    )
    assert unknown.returncode != 0 and "Unknown scope: nope" in unknown.stderr
