"""A third-party application's consent page and the Applications page, in Chromium: on a
phone, with and without JavaScript, in Japanese, within the pages' rules."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from playwright.async_api import Browser, Page, expect

from tests.browser.pages import sign_in
from tests.browser.test_layout import AXE, console_errors, serious_axe_findings, sideways
from tests.helpers import PASSWORD
from tests.test_cli import latchkey

CALLBACK = "http://localhost:9/callback"  # answered by the test, never by a server


def register(settings) -> str:
    made = latchkey(
        settings, "oidc-client", "create", "Photo Printer", "--redirect-uri", CALLBACK,
        "--third-party",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return re.search(r"client_id: (\S+)", made.stdout).group(1)


def authorize(server: str, client_id: str) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid profile email",
        "state": "s-1",
        "nonce": "n-1",
    }
    return f"{server}/oauth/authorize?{urlencode(query)}"


async def phone(browser: Browser, **options) -> Page:
    context = await browser.new_context(viewport={"width": 360, "height": 740}, **options)
    page = await context.new_page()
    # The application's callback: the test reads the code off its address.
    await page.route(f"{CALLBACK}**", lambda route: route.fulfill(body="back at the application"))
    return page


async def test_allowing_an_application_then_removing_its_access_on_a_phone(
    browser, server, create_user, browser_settings
):
    create_user("alice")
    client_id = register(browser_settings)
    page = await phone(browser)
    errors = console_errors(page)
    await sign_in(page, server)

    await page.goto(authorize(server, client_id))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Allow Photo Printer?")
    await expect(page.get_by_text("See your email address")).to_be_visible()
    assert await sideways(page) == 0
    if AXE.exists():
        assert await serious_axe_findings(page) == []
    await page.get_by_role("button", name="Allow").click()
    await expect(page).to_have_url(re.compile(r"^http://localhost:9/callback\?code="))

    await page.goto(f"{server}/account/applications")
    row = page.locator("#applications tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Photo Printer")
    assert await sideways(page) == 0
    if AXE.exists():
        assert await serious_axe_findings(page) == []
    await row.get_by_role("button", name="Remove access").click()
    outcome = page.get_by_role("status")
    await expect(outcome).to_contain_text("Access removed for Photo Printer")
    await expect(outcome).to_be_in_viewport()
    await expect(row).to_have_count(0)
    assert errors == []

    # Removed: the next sign-in through it asks again.
    await page.goto(authorize(server, client_id))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Allow Photo Printer?")


async def test_without_javascript_in_japanese_cancel_and_remove_still_work(
    browser, server, create_user, browser_settings
):
    create_user("alice")
    client_id = register(browser_settings)
    page = await phone(browser, java_script_enabled=False, locale="ja-JP")
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")

    await page.goto(authorize(server, client_id))
    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Photo Printer を許可しますか？")
    await page.get_by_role("button", name="キャンセル").click()
    await expect(page).to_have_url(re.compile(r"error=access_denied.*state=s-1"))

    await page.goto(authorize(server, client_id))
    await page.get_by_role("button", name="許可").click()
    await expect(page).to_have_url(re.compile(r"^http://localhost:9/callback\?code="))
    await page.goto(f"{server}/account/applications")
    await page.get_by_role("button", name="アクセスを削除").click()
    outcome = page.get_by_role("status")
    await expect(outcome).to_contain_text("Photo Printer のアクセスを削除しました")
    await expect(page.locator("#applications tbody tr")).to_have_count(0)


async def test_signing_in_on_the_way_lands_at_the_application(
    browser, server, create_user, browser_settings
):
    """The sign-in form's redirects end at the application: the page's form-action allows
    the registered redirect URI's origin (browsers hold redirects after a post to it)."""
    create_user("alice")
    client_id = register(browser_settings)
    page = await phone(browser)
    errors = console_errors(page)
    await page.goto(authorize(server, client_id))
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.get_by_role("button", name="Allow").click()
    await expect(page).to_have_url(re.compile(r"^http://localhost:9/callback\?code="))
    assert errors == []
