"""A person edits their profile on the account page and changes their password."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.pages import sign_in
from tests.helpers import PASSWORD
from tests.live import live_server, smtp_env


async def test_edit_profile_with_an_error_then_fix_it(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/log")
    await expect(page.locator("#security_log td.when").first).to_contain_text("UTC")
    await page.goto(f"{server}/account")
    details = page.locator("#account_details")

    await details.get_by_label("First name").fill("Alice")
    await details.get_by_label("Last name").fill("Lid\u200bdell")  # a zero-width space
    await details.get_by_label("Time zone").fill("Asia/Tokyo")
    await details.get_by_role("button", name="Save").click()
    error = details.locator("[data-error-for=lastName]")
    await expect(error).to_contain_text("invisible characters")
    await expect(details.get_by_label("Last name")).to_have_attribute("aria-invalid", "true")
    await expect(details.get_by_label("Last name")).to_be_focused()  # focus on the first error
    await expect(details.get_by_role("alert")).to_contain_text("Nothing was saved")
    await page.screenshot(path=screenshot_path("account-edit-error"), full_page=True)

    await page.reload()  # really nothing saved
    await expect(page.locator("#field-firstName")).to_have_value("")
    await expect(page.locator("#field-timeZone")).to_have_value("UTC")

    await details.get_by_label("First name").fill("Alice")
    await details.get_by_label("Last name").fill("Liddell")
    await details.get_by_label("Time zone").fill("Asia/Tokyo")
    await details.get_by_role("button", name="Save").click()
    await expect(details.get_by_role("status")).to_have_text("Saved.")

    await page.reload()
    await expect(page.locator("#field-lastName")).to_have_value("Liddell")
    await expect(page.locator("[data-field=createdAt]")).to_contain_text("JST")
    await page.goto(f"{server}/account/log")
    await expect(page.locator("#security_log td.when").first).to_contain_text("JST")
    await page.goto(f"{server}/account/sessions")
    await expect(page.locator("#sessions tbody")).to_contain_text(re.compile("JST"))
    await page.screenshot(path=screenshot_path("account-page-edited"), full_page=True)


async def test_change_password_ends_other_sessions(browser, server, create_user):
    create_user("alice")
    first = await browser.new_context()
    second = await browser.new_context()
    mine, other = await first.new_page(), await second.new_page()
    await sign_in(mine, server)
    await sign_in(other, server)

    await mine.goto(f"{server}/account/security")
    section = mine.locator("#change_password")
    # The current password is this change's own proof: asked even just after signing in.
    await section.get_by_label("Current password").fill(PASSWORD)
    await section.get_by_label("New password", exact=True).fill("short")
    await expect(section.locator("#password-hint")).to_contain_text("5 of at least 15")
    new = "marmalade skyline of quiet otters"
    await section.get_by_label("New password", exact=True).fill(new)
    await section.get_by_label("Repeat the new password").fill(new)
    await section.get_by_role("button", name="Change password").click()
    await expect(section.get_by_role("status")).to_contain_text("Every other session")

    await other.reload()
    await expect(other).to_have_url(f"{server}/login")
    await mine.reload()
    await expect(mine).to_have_url(f"{server}/account/security")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
async def test_a_new_email_address_gets_a_new_code_or_is_cancelled(
    browser, browser_settings, create_user, smtp, javascript
):
    create_user("alice")
    with live_server(browser_settings, **smtp_env(smtp.port)) as server:
        context = await browser.new_context(java_script_enabled=javascript)
        page = await context.new_page()
        await sign_in(page, server)
        details = page.locator("#account_details")
        await details.get_by_label("Email").fill("alice.new@example.com")
        await details.get_by_role("button", name="Save").click()
        await expect(details.get_by_label("Code sent to alice.new@example.com")).to_be_visible()

        await details.get_by_role("button", name="Send a new code").click()
        await expect(details.get_by_role("status")).to_contain_text(
            "We sent a new code to alice.new@example.com"
        )
        for _ in range(100):
            if len(smtp.to("alice.new@example.com")) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(smtp.to("alice.new@example.com")) == 2

        await details.get_by_role("button", name="Keep alice@example.com").click()
        await expect(details.get_by_role("status")).to_contain_text(
            "Cancelled. Your email address stays alice@example.com."
        )
        await expect(details.get_by_label("Code sent to alice.new@example.com")).to_have_count(0)
        await context.close()
