"""Apache httpd with mod_auth_openidc, a relying party nobody here wrote, protects a page
with Latchkey: Chromium opens the page, signs in on Latchkey (with an authenticator app
too) and the page shows who signed in; Apache's logout signs the user out of Latchkey."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.apache_rp import HAVE_APACHE, PROTECTION, apache_protecting
from tests.browser.conftest import browser, browser_settings  # noqa: F401 (fixtures)
from tests.cli_helpers import create_user
from tests.conftest import IN_CI
from tests.helpers import PASSWORD, GraphQL
from tests.live import live_server
from tests.twofactor_helpers import CONFIRM_TOTP, START_TOTP, oathtool

VIEWER = "{ viewer { id username } }"
MANUAL = Path(__file__).resolve().parents[1] / "docs" / "api" / "openid-connect.md"


@pytest.fixture
def apache_installed() -> None:
    if not HAVE_APACHE:
        if IN_CI:
            pytest.fail("Apache is missing: .ci/run installs apache2 libapache2-mod-auth-openidc")
        pytest.skip("apt-get install apache2 libapache2-mod-auth-openidc")


async def viewer(page: Page, latchkey: str) -> dict | None:
    """Who the browser's Latchkey session is, as the account pages would see it."""
    answer = await page.request.post(f"{latchkey}/graphql", data={"query": VIEWER})
    return (await answer.json())["data"]["viewer"]


async def password_step(page: Page, latchkey: str) -> None:
    await expect(page).to_have_url(re.compile(rf"^{re.escape(latchkey)}/login\?next="))
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def test_the_page_behind_apache_shows_who_signed_in_at_latchkey(
    apache_installed,
    browser,  # noqa: F811
    browser_settings,  # noqa: F811
):
    create_user(browser_settings)
    with (
        live_server(browser_settings) as latchkey,
        apache_protecting(browser_settings, latchkey) as site,
    ):
        page = await browser.new_page()
        await page.goto(f"{site.url}/protected/claims.shtml")
        await password_step(page, latchkey)
        await expect(page).to_have_url(f"{site.url}/protected/claims.shtml")
        await expect(page.locator("#username")).to_have_text("alice")
        # The subject is the user's stable id, the one Latchkey's API names, not the username.
        await expect(page.locator("#sub")).to_have_text((await viewer(page, latchkey))["id"])
        await expect(page.locator("#acr")).to_have_text("urn:latchkey:acr:pwd")

        # Signed in at Latchkey now: another visit to the page needs no password.
        await page.context.clear_cookies(domain="localhost")  # Apache's session only
        authorize = f"{latchkey}/oauth/authorize?"
        async with page.expect_request(lambda asked: asked.url.startswith(authorize)):
            await page.goto(f"{site.url}/protected/claims.shtml")
        await expect(page.locator("#username")).to_have_text("alice")


async def test_with_an_authenticator_app_the_code_follows_the_password(
    apache_installed,
    browser,  # noqa: F811
    browser_settings,  # noqa: F811
):
    create_user(browser_settings)
    with (
        live_server(browser_settings) as latchkey,
        apache_protecting(browser_settings, latchkey) as site,
    ):
        async with httpx.AsyncClient(base_url=latchkey) as client:
            gql = GraphQL(client)
            assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
            secret = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]["secret"]
            confirmed = (await gql(CONFIRM_TOTP, {"c": oathtool(secret)}))["confirmTotpSetup"]
            assert confirmed["userErrors"] == []
        page = await browser.new_page()
        await page.goto(f"{site.url}/protected/claims.shtml")
        await password_step(page, latchkey)
        await expect(page.locator("#code-hint")).to_contain_text("authenticator app")
        await page.fill("#code", oathtool(secret, 30))  # the next step: the last one was used
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{site.url}/protected/claims.shtml")
        await expect(page.locator("#username")).to_have_text("alice")
        await expect(page.locator("#acr")).to_have_text("urn:latchkey:acr:mfa")
        await expect(page.locator("#amr")).to_have_text("pwd,otp,mfa")


async def test_signing_out_at_apache_signs_out_of_latchkey(
    apache_installed,
    browser,  # noqa: F811
    browser_settings,  # noqa: F811
):
    create_user(browser_settings)
    with (
        live_server(browser_settings) as latchkey,
        apache_protecting(browser_settings, latchkey) as site,
    ):
        page = await browser.new_page()
        await page.goto(f"{site.url}/protected/claims.shtml")
        await password_step(page, latchkey)
        await expect(page.locator("#username")).to_have_text("alice")
        assert (await viewer(page, latchkey))["username"] == "alice"

        signed_out = f"{site.url}/signed-out.html"
        await page.goto(f"{site.url}/protected/redirect_uri?logout={quote(signed_out, safe='')}")
        await expect(page).to_have_url(re.compile(rf"^{re.escape(signed_out)}"))
        await expect(page.locator("h1")).to_have_text("Signed out of the platform")
        assert await viewer(page, latchkey) is None
        await page.goto(f"{latchkey}/account")
        await expect(page).to_have_url(re.compile(rf"^{re.escape(latchkey)}/login"))
        # And Apache's own session is gone: the page asks Latchkey again.
        await page.goto(f"{site.url}/protected/claims.shtml")
        await expect(page).to_have_url(re.compile(rf"^{re.escape(latchkey)}/login\?next="))


def test_the_manual_shows_the_settings_these_tests_run():
    """docs/api/openid-connect.md's mod_auth_openidc block: these directives, values aside."""
    shown = MANUAL.read_text().split("```apache\n", 1)[1].split("```", 1)[0]

    def directives(config: str) -> list[str]:
        lines = (line.strip() for line in config.splitlines())
        return [line.split()[0] for line in lines if line and not line.startswith("#")]

    assert directives(shown) == directives(PROTECTION)
