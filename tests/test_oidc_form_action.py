"""Signing in for an application ends with a redirect to its site, and browsers check the
sign-in page's form-action on every redirect after a form: those pages name the redirect
URI's origin, and only that. (tests/test_oidc_apache.py shows Chromium getting through.)"""

from __future__ import annotations

from urllib.parse import urlencode

from tests.test_security_headers import _directives

AUTHORIZE = "/oauth/authorize?" + urlencode(
    {
        "client_id": "abc",
        "redirect_uri": "https://platform.example:8443/callback",
        "response_type": "code",
        "scope": "openid",
    }
)


def form_action(response) -> list[str]:
    assert response.status_code == 200, response.text
    return _directives(response.headers["content-security-policy"])["form-action"]


async def test_the_sign_in_page_lets_its_form_end_at_the_application(client):
    page = await client.get("/login", params={"next": AUTHORIZE})
    assert form_action(page) == ["'self'", "https://platform.example:8443"]
    assert form_action(await client.get("/login")) == ["'self'"]


async def test_confirm_its_you_for_an_application_lets_its_form_end_there(client, alice):
    page = await client.get("/account/reauthenticate", params={"next": AUTHORIZE})
    assert form_action(page) == ["'self'", "https://platform.example:8443"]
    assert form_action(await client.get("/account/reauthenticate")) == ["'self'"]


async def test_a_redirect_uri_cannot_write_into_the_policy(client):
    for smuggled in ("https://a.example;script-src *", "javascript:alert(1)", "//a.example"):
        query = urlencode({"client_id": "abc", "redirect_uri": smuggled})
        page = await client.get("/login", params={"next": f"/oauth/authorize?{query}"})
        assert form_action(page) == ["'self'"]
        assert _directives(page.headers["content-security-policy"])["script-src"] == ["'self'"]
