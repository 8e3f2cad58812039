"""A person issues a token on the page, sees the secret once, and deletes it by typing yes."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.pages import sign_in


async def exchange_refresh_token(server: str, secret: str) -> httpx.Response:
    async with httpx.AsyncClient() as script:
        return await script.post(
            f"{server}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": secret}
        )


async def test_issue_see_once_reload_and_delete(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    await page.click(".user-menu summary")
    await (
        page.get_by_role("navigation", name="User menu")
        .get_by_role("link", name="Issue token")
        .click()
    )
    await expect(page).to_have_url(f"{server}/account/tokens")

    await page.fill("#token-name", "nightly backup")
    await page.select_option("#token-expiry", "7")
    # Just signed in, so re-authenticated: the form says nothing of it.
    await expect(page.locator("#tokens [data-reauthentication-needed]")).to_have_count(0)
    await expect(page.locator("#token-password")).to_have_count(0)
    await page.get_by_role("button", name="Issue token").click()
    secret = await page.locator("#new-token-secret").text_content()
    assert re.fullmatch(r"lk_rt_[0-9A-Za-z]{38}", secret.strip())
    await expect(page.locator("#issued-token")).to_contain_text("will not be shown again")
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await page.screenshot(path=screenshot_path("tokens-page-issued"), full_page=True)

    # The secret really works, from a script.
    exchange = await exchange_refresh_token(server, secret.strip())
    assert exchange.status_code == 200

    await page.reload()
    await expect(page.locator("tr[data-token-id]")).to_have_count(1)
    await expect(page.locator("tr[data-token-id]")).to_contain_text("nightly backup")
    assert secret.strip() not in await page.content()

    await page.get_by_role("link", name="Delete").click()
    await page.get_by_label(re.compile("Type yes")).fill("no")
    await page.get_by_role("button", name="Yes, delete this token").click()
    await expect(page.locator(".field-error")).to_have_text("Type yes to confirm.")
    await page.get_by_label(re.compile("Type yes")).fill("yes")
    await page.get_by_role("button", name="Yes, delete this token").click()
    await expect(page.get_by_role("status")).to_contain_text("The token was deleted")
    await expect(page.locator("tr[data-token-id]")).to_have_count(0)
    refused = await exchange_refresh_token(server, secret.strip())
    assert refused.json()["error"] == "invalid_grant"


async def test_tokens_page_works_with_javascript_off(browser, server, create_user):
    create_user("bob")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, server, "bob")
    await page.goto(f"{server}/account/tokens")
    await page.fill("#token-name", "ci")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")
    await page.get_by_role("link", name="Delete").click()
    await page.get_by_label(re.compile("Type yes")).fill("yes")
    await page.get_by_role("button", name="Yes, delete this token").click()
    await expect(page.locator("tr[data-token-id]")).to_have_count(0)
    await context.close()


async def test_without_javascript_a_reload_after_a_secret_repeats_nothing(
    browser, server, create_user
):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")
    await page.fill("#token-name", "nightly backup")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page).to_have_url(f"{server}/account/tokens#tokens")  # a GET to reload
    first = (await page.locator("#new-token-secret").text_content()).strip()
    await page.reload()
    await expect(page.locator("#new-token-secret")).to_have_count(0)
    await expect(page.locator("tr[data-token-id]")).to_have_count(1)

    await page.get_by_role("link", name="Regenerate").click()
    await page.get_by_role("button", name="Regenerate secret").click()
    await expect(page).to_have_url(f"{server}/account/tokens#tokens")
    second = (await page.locator("#new-token-secret").text_content()).strip()
    assert second != first
    await page.reload()  # did not regenerate again: the secret just shown still works
    await expect(page.locator("#new-token-secret")).to_have_count(0)
    assert (await exchange_refresh_token(server, second)).status_code == 200
    # ...and the one before it is in its day of grace, not pushed out by a second regeneration.
    assert (await exchange_refresh_token(server, first)).status_code == 200
    await context.close()
