"""A person who forgot the password: from /login, through the mailed link, to signing in."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.live import live_server, smtp_env
from tests.recovery_helpers import NEW_PASSWORD, RESET_LINK


async def mailed_link(smtp) -> str:
    """The link of the reset email, once the server has sent it."""
    for _ in range(200):
        messages = smtp.to("alice@example.com")
        if messages:
            return RESET_LINK.search(smtp.text(messages[-1])).group(0)
        await asyncio.sleep(0.05)
    raise AssertionError("no reset email arrived")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
async def test_forgot_password_then_sign_in_with_the_new_one(
    browser, browser_settings, create_user, smtp, javascript
):
    create_user("alice")
    with live_server(browser_settings, **smtp_env(smtp.port)) as server:
        context = await browser.new_context(java_script_enabled=javascript)
        page = await context.new_page()
        await page.goto(f"{server}/login")
        await page.get_by_role("link", name="Forgot your password?").click()
        await expect(page).to_have_url(f"{server}/password-reset")
        await page.get_by_label("Username or email address").fill("alice@example.com")
        await page.get_by_role("button", name="Email me a link").click()
        await expect(page).to_have_url(f"{server}/password-reset/sent")
        await expect(page.get_by_role("status")).to_contain_text("we emailed it a link")

        link = await mailed_link(smtp)
        await page.goto(link)
        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Repeat the new password").fill("not the same one at all")
        await page.get_by_role("button", name="Set the new password").click()
        mismatch = page.locator("[data-error-for=newPasswordConfirmation]")
        await expect(mismatch).to_be_visible()
        await expect(page).to_have_url(link)  # a page to reload, not a form's answer
        await expect(page.get_by_label("Repeat the new password")).to_be_focused()
        await page.reload()  # the errors were shown once
        await expect(mismatch).to_have_count(0)
        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
        if not javascript:
            await page.screenshot(path=screenshot_path("password-reset"), full_page=True)
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page).to_have_url(f"{server}/password-reset/done")

        await page.reload()  # the outcome was shown once: now it is signing in
        await expect(page).to_have_url(f"{server}/login")
        await page.fill("#username", "alice")
        await page.fill("#password", NEW_PASSWORD)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{server}/account")

        # The used link says so at once, with no form to fill in first, and offers a new one.
        await page.goto(link)
        await expect(page.locator("[data-error-for=token]")).to_contain_text("was used already")
        await expect(page.get_by_label("New password", exact=True)).to_have_count(0)
        await page.get_by_role("link", name="Ask for a new link").click()
        await expect(page).to_have_url(f"{server}/password-reset")
        await context.close()
