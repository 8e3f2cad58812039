"""A sign-in goes on to a protected application on a trusted origin (/login?next=URL), and
the session cookie can be shared with sibling hosts (LATCHKEY_COOKIE_DOMAIN): what forward
authentication behind a reverse proxy needs."""

from __future__ import annotations

import re

import pytest

from backend.infra.config import ConfigError, Settings
from tests.conftest import settings_for
from tests.helpers import PASSWORD, make_user
from web.navigation import after_sign_in

APP = "https://app.example.com"
ORIGINS = ("http://localhost:8000", APP)


@pytest.mark.parametrize(
    "asked",
    [
        "https://app.example.com/reports?week=12",
        "https://app.example.com:443/",
        "https://APP.example.com/x",
        "http://localhost:8000/account",
    ],
)
def test_an_address_on_a_trusted_origin_is_where_it_goes_on_to(asked):
    assert after_sign_in(asked, ORIGINS) == asked


@pytest.mark.parametrize(
    "asked",
    [
        "https://app.example.com.evil.example/",
        "https://app.example.com@evil.example/",
        "https://evil.example/?https://app.example.com",
        "http://app.example.com/",  # another scheme is another origin
        "https://app.example.com:8443/",
        "https://app.example.com:x/",
        "https://app.example.com/\r\nSet-Cookie: x=1",
        "https://app.example.com\\@evil.example/",
    ],
)
def test_anything_else_stays_here(asked):
    assert after_sign_in(asked, ORIGINS) == "/account"
    assert after_sign_in(asked) == "/account"


def test_the_settings_take_origins_and_a_parent_domain_only():
    settings = Settings.from_env(
        {
            "LATCHKEY_SECRET_KEY": "k",
            "LATCHKEY_PUBLIC_URL": "https://id.example.com",
            "LATCHKEY_TRUSTED_ORIGINS": "https://app.example.com, https://Grafana.example.com:8443/",
            "LATCHKEY_COOKIE_DOMAIN": ".example.com",
        }
    )
    assert settings.sign_in_origins == (
        "https://id.example.com",
        "https://app.example.com",
        "https://grafana.example.com:8443",
    )
    assert settings.cookie_domain == "example.com"
    assert settings.session_cookie_name == "__Secure-latchkey_session"
    for name, value in (
        ("LATCHKEY_TRUSTED_ORIGINS", "https://app.example.com/path"),
        ("LATCHKEY_TRUSTED_ORIGINS", "app.example.com"),
        ("LATCHKEY_COOKIE_DOMAIN", "other.example"),
        ("LATCHKEY_COOKIE_DOMAIN", "ample.com"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({"LATCHKEY_PUBLIC_URL": "https://id.example.com", name: value})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url, trusted_origins=(APP,))


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def test_signing_in_goes_on_to_the_protected_application(client, settings, app):
    await make_user(settings, "alice")
    page = await client.get("/login", params={"next": f"{APP}/reports?week=12"})
    # The form's redirect ends on the application: the page's policy lets it.
    form_action = re.search(r"form-action ([^;]+)", page.headers["content-security-policy"])
    assert form_action.group(1).split() == ["'self'", APP]
    signed = await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page),
            "username": "alice",
            "password": PASSWORD,
            "next": f"{APP}/reports?week=12",
        },
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"{APP}/reports?week=12"


async def test_an_untrusted_next_signs_in_to_the_account_page(client, settings, app):
    await make_user(settings, "alice")
    page = await client.get("/login", params={"next": "https://evil.example/"})
    assert "evil.example" not in page.headers["content-security-policy"]
    signed = await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page),
            "username": "alice",
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert signed.headers["location"] == "/account"


def test_the_session_cookie_names_the_shared_domain_and_its_end_does_too():
    from starlette.responses import Response

    from backend.server.cookies import clear_session_cookie, set_session_cookie

    shared = Settings(public_url="https://id.example.com", cookie_domain="example.com")
    alone = Settings(public_url="https://id.example.com")
    for settings, expected in ((shared, "__Secure-latchkey_session="), (alone, "__Host-")):
        started, ended = Response(), Response()
        set_session_cookie(started, settings, "secret")
        clear_session_cookie(ended, settings)
        for response in (started, ended):
            cookie = response.headers["set-cookie"]
            assert cookie.startswith(expected) and "Secure" in cookie
            # A cookie set for a domain is only removed by naming that domain again.
            assert ("Domain=example.com" in cookie) == (settings is shared)
