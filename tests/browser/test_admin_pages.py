"""The administrators' pages in Chromium: at phone and desktop widths within the pages'
rules (no sideways scroll, no serious axe findings, no console errors), and disabling an
account with JavaScript, its outcome in view."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.pages import sign_in
from tests.browser.test_layout import AXE, console_errors, serious_axe_findings, sideways
from tests.helpers import PASSWORD
from tests.test_cli import latchkey


@pytest.fixture
def accounts(create_user, browser_settings) -> None:
    """root1, an administrator; bob, an account to act on; a group, so lists have rows."""
    create_user("root1")
    made = latchkey(browser_settings, "user", "set-account-type", "root1", "ADMINISTRATOR")
    assert made.returncode == 0, made.stderr
    create_user("bob")


async def signed_in(browser: Browser, server: str, width: int) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    errors = console_errors(page)
    await sign_in(page, server, "root1")
    return page, errors


async def bob_page(page: Page, server: str) -> str:
    await page.goto(f"{server}/admin")
    await page.locator('tr[data-username="bob"]').get_by_role("link", name="bob").click()
    await expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
    return page.url


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_admin_pages_fit_and_pass_axe(browser, server, accounts, width):
    page, errors = await signed_in(browser, server, width)
    navigation = page.locator("[data-admin-navigation]")
    await expect(navigation.get_by_role("link", name="Users")).to_be_visible()
    user = await bob_page(page, server)
    for url, title in ((f"{server}/admin", "Users"), (user, "User account"),
                       (f"{server}/admin/groups", "Groups"),
                       (f"{server}/admin/log", "Operator log")):  # fmt: skip
        await page.goto(url)
        await expect(page.get_by_role("heading", level=1)).to_have_text(title)
        assert await sideways(page) == 0, url
        if AXE.exists():
            assert await serious_axe_findings(page) == [], url
    assert errors == []


async def test_disabling_an_account_with_javascript_shows_the_outcome_in_view(
    browser, server, accounts
):
    page, errors = await signed_in(browser, server, 360)
    user = await bob_page(page, server)
    access = page.locator("#admin_user_access")

    async def disable() -> None:
        await access.get_by_label("Reason (shown to the user)").fill("left the company")
        await access.get_by_role("button", name="Disable the account").click()

    if await page.locator("[data-reauthentication-needed]").count():
        await disable()
        await expect(page).to_have_url(re.compile(r"/account/reauthenticate\?next="))
        await page.get_by_label("Your password").fill(PASSWORD)
        await page.get_by_role("button", name="Confirm", exact=True).click()
        await expect(page).to_have_url(user)
    await disable()
    outcome = access.get_by_role("status")
    await expect(outcome).to_contain_text("The account is disabled.")
    await expect(outcome).to_be_in_viewport()
    await expect(page.locator("#admin_user [data-field=status]")).to_have_text("Disabled")
    await page.goto(f"{server}/admin?status=DISABLED")
    await expect(page.locator('tr[data-username="bob"] [data-status]')).to_have_text("Disabled")
    await page.goto(f"{server}/admin/log")
    await expect(page.locator('tr[data-action="user.disabled"]')).to_have_count(1)
    assert errors == []
