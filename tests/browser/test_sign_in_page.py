"""A person signs in on /login, sees their account, and signs out."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.helpers import PASSWORD


async def test_sign_in_see_account_and_sign_out(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await page.goto(f"{server}/account")
    await expect(page).to_have_url(f"{server}/login")

    await page.fill("#username", "alice")
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")

    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server}/account")
    await expect(page.locator("[data-field=username]")).to_have_text("alice")
    await expect(page.get_by_role("heading", level=1, name="Personal info")).to_be_visible()

    await page.click(".user-menu summary")
    await expect(page.get_by_role("link", name="Account management")).to_be_visible()
    menu = page.get_by_role("navigation", name="User menu")
    await expect(menu.get_by_role("link", name="Issue token")).to_be_visible()
    await page.screenshot(path=screenshot_path("account-page"), full_page=True)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{server}/login")
    await page.goto(f"{server}/account")
    await expect(page).to_have_url(f"{server}/login")


async def test_sign_in_works_with_javascript_off(browser, server, create_user):
    create_user("bob")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await page.fill("#username", "bob")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server}/account")
    await expect(page.locator("[data-field=username]")).to_have_text("bob")
    await context.close()


async def test_escape_or_a_click_elsewhere_closes_the_user_menu(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    menu = page.get_by_role("navigation", name="User menu")
    await page.click(".user-menu summary")
    await expect(menu).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    assert await page.evaluate("document.activeElement.matches('.user-menu summary')")
    await page.click(".user-menu summary")
    await expect(menu).to_be_visible()
    await page.get_by_role("heading", level=1).click()
    await expect(menu).to_be_hidden()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
async def test_signing_in_goes_on_to_the_page_that_asked_and_never_elsewhere(
    browser, server, create_user, javascript
):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=javascript)
    page = await context.new_page()
    # A reminder email's link, opened signed out.
    await page.goto(f"{server}/account/tokens?regenerate=7")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.fill("#username", "alice")
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    await page.fill("#password", PASSWORD)  # a failed try keeps where it was going
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server}/account/tokens?regenerate=7")
    await context.close()

    for elsewhere in ("https://evil.example/account", "//evil.example/account", "/\\evil.example"):
        context = await browser.new_context(java_script_enabled=javascript)
        page = await context.new_page()
        await page.goto(f"{server}/login?next={quote(elsewhere)}")
        await page.fill("#username", "alice")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{server}/account")
        await context.close()
