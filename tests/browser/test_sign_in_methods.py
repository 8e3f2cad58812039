"""At sign-in, a person with an authenticator app picks "Use another method" instead."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.helpers import PASSWORD, GraphQL
from tests.twofactor_helpers import CONFIRM_TOTP, START_TOTP, oathtool


async def enable_totp_over_the_api(server: str) -> list[str]:
    async with httpx.AsyncClient(base_url=server) as client:
        gql = GraphQL(client)
        assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
        start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
        confirm = (await gql(CONFIRM_TOTP, {"c": oathtool(start["secret"])}))["confirmTotpSetup"]
        assert confirm["userErrors"] == [], confirm
        return confirm["recoveryCodes"]


async def test_use_a_recovery_code_instead_of_the_app_without_javascript(
    browser, server, create_user
):
    create_user("alice")
    recovery = await enable_totp_over_the_api(server)
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#code-hint")).to_contain_text("authenticator app")

    await page.get_by_role("button", name="A recovery code").click()
    await expect(page.locator("#code-hint")).to_contain_text("Enter one of your recovery codes")
    await expect(page.get_by_role("button", name="Authenticator app")).to_be_visible()
    await page.fill("#code", recovery[0])
    await page.get_by_role("button", name="Verify").click()
    await expect(page).to_have_url(f"{server}/account")
    await context.close()
