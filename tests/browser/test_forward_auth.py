"""Chromium opens an application that nginx protects with Latchkey's /auth/forward: without a
session it is sent to sign in, and once signed in the application knows who it is."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Page, expect

from tests.cli_helpers import create_user
from tests.conftest import IN_CI
from tests.forward_proxies import HAVE_NGINX, echo_application, nginx_in_front
from tests.helpers import PASSWORD
from tests.live import free_port, live_server


@contextlib.contextmanager
def protected_application(settings) -> Iterator[tuple[str, str]]:
    """Latchkey and the application behind nginx: their addresses."""
    if not HAVE_NGINX:
        if IN_CI:
            pytest.fail("nginx is missing: .ci/run installs it")
        pytest.skip("apt-get install nginx")
    create_user(settings)
    # The application's origin is trusted, so a sign-in may go back to it (/login?next=).
    port = free_port()
    trusted = {"LATCHKEY_TRUSTED_PROXIES": "127.0.0.1",
               "LATCHKEY_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}"}  # fmt: skip
    with (
        live_server(settings, **trusted) as latchkey,
        echo_application() as app,
        nginx_in_front(latchkey, app, port) as proxy,
    ):
        yield latchkey, proxy.url


async def sign_in(page: Page) -> None:
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def seen_by_the_application(page: Page) -> dict[str, str]:
    return json.loads(await page.inner_text("body"))["headers"]


async def test_a_browser_without_a_session_signs_in_and_comes_back_to_the_application(
    browser, browser_settings
):
    with protected_application(browser_settings) as (latchkey, application):
        page = await browser.new_page()
        protected = f"{application}/reports?year=2025&team=a%20b"
        await page.goto(protected)
        await expect(page).to_have_url(re.compile(rf"^{re.escape(latchkey)}/login\?next="))
        assert parse_qs(urlsplit(page.url).query) == {"next": [protected]}
        await expect(page.locator("#username")).to_be_visible()
        await sign_in(page)
        # The application's origin is trusted: the sign-in goes back to the address asked for.
        await expect(page).to_have_url(protected)
        seen = await seen_by_the_application(page)
        assert seen["x-latchkey-user"] == "alice"
        assert seen["x-latchkey-auth"] == "session"



async def test_with_an_authenticator_app_the_code_step_also_comes_back(browser, browser_settings):
    import httpx

    from tests.helpers import GraphQL
    from tests.twofactor_helpers import CONFIRM_TOTP, START_TOTP, oathtool

    with protected_application(browser_settings) as (latchkey, application):
        async with httpx.AsyncClient(base_url=latchkey) as client:
            gql = GraphQL(client)
            assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
            secret = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]["secret"]
            confirmed = (await gql(CONFIRM_TOTP, {"c": oathtool(secret)}))["confirmTotpSetup"]
            assert confirmed["userErrors"] == []
        page = await browser.new_page()
        protected = f"{application}/dashboards/42"
        await page.goto(protected)
        await sign_in(page)
        await page.fill("#code", oathtool(secret, 30))  # the next step: the last one was used
        await page.click("button[type=submit]")
        await expect(page).to_have_url(protected)
        assert (await seen_by_the_application(page))["x-latchkey-user"] == "alice"
