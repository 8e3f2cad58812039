"""A person sets up an authenticator app on the page and signs in with it."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.helpers import PASSWORD
from tests.twofactor_helpers import oathtool  # the test clock is real time here


async def password_step(page: Page, server: str) -> None:
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def sign_out(page: Page) -> None:
    await page.click(".user-menu summary")
    await page.get_by_role("button", name="Sign out").click()


async def test_set_up_sign_in_remember_forget(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await password_step(page, server)
    await expect(page).to_have_url(f"{server}/account")
    navigation = page.get_by_role("navigation", name="Account")
    await navigation.get_by_role("link", name="Signing in").click()
    await expect(page).to_have_url(f"{server}/account/security")

    section = page.locator("#two_factor")
    await section.get_by_label("Authenticator app").check()  # access confirmed at sign-in
    await section.get_by_role("button", name="Set up").click()
    await expect(section.locator(".qr svg")).to_be_visible()
    secret = (await section.locator("#totp-secret").text_content()).replace(" ", "").strip()
    # The key in groups of four; the QR code fills its box (no blank gap beside it).
    await expect(section.locator("#totp-secret")).to_have_text(
        re.compile(r"^(?:[A-Z2-7]{4} )+[A-Z2-7]{1,4}$")
    )
    box, drawn = await section.locator(".qr svg").evaluate(
        """svg => [svg.getBoundingClientRect(), svg.querySelector('path').getBoundingClientRect()]
           .map(r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom}))"""
    )
    assert drawn["right"] - box["left"] > 0.9 * (box["right"] - box["left"])
    assert drawn["bottom"] - box["top"] > 0.9 * (box["bottom"] - box["top"])
    await page.screenshot(path=screenshot_path("two-factor-setup"), full_page=True)
    await section.get_by_label("Code").fill(oathtool(secret))
    await section.get_by_role("button", name="Turn on").click()
    await expect(section.locator("#recovery-codes")).to_contain_text("will not be shown again")
    recovery = [
        c.strip() for c in await section.locator(".recovery-codes code").all_text_contents()
    ]
    assert len(recovery) == 10
    await expect(section.get_by_role("link", name="Download as a text file")).to_have_attribute(
        "download", "recovery-codes-127.0.0.1-alice.txt"
    )
    await expect(section.get_by_role("button", name="Copy")).to_be_visible()
    await expect(section.get_by_role("button", name="Print")).to_be_visible()
    await expect(section.locator("[data-field=method]")).to_have_text("Authenticator app")

    # Only ask on devices not remembered. The session has no second factor in its stamp
    # yet: the press leads to "Confirm it's you" (htmx navigates), then back here, where
    # the change is made with a second press. A recovery code stands in for the app.
    await section.get_by_label("Only from a device").check()
    await section.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(f"{server}/account/reauthenticate?next=%2Faccount%2Fsecurity")
    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_label("Authentication code").fill(recovery[0])
    await page.get_by_role("button", name="Confirm", exact=True).click()
    await expect(page).to_have_url(f"{server}/account/security")
    section = page.locator("#two_factor")
    await section.get_by_label("Only from a device").check()
    await section.get_by_role("button", name="Save").click()
    await expect(section.get_by_role("status")).to_have_text("Saved.")
    await expect(page.locator("#two_factor")).to_have_count(1)
    await page.screenshot(path=screenshot_path("two-factor-on"), full_page=True)
    await page.goto(f"{server}/account/log")
    await expect(page.locator("#security_log")).to_contain_text("Two-factor policy changed")

    await sign_out(page)
    await password_step(page, server)
    await expect(page.locator("#code-hint")).to_contain_text("authenticator app")
    await page.fill("#code", oathtool(secret, 30))  # the next time step: the last one was used
    await page.check("#remember_device")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server}/account")

    await sign_out(page)
    await password_step(page, server)  # a remembered device: no code this time
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")

    devices = page.locator("#two_factor tr[data-device-id]")
    await expect(devices).to_have_count(1)
    await expect(devices).to_contain_text(re.compile("Chrome"))
    await devices.get_by_role("button", name="Forget").click()
    await expect(page.locator("#two_factor tr[data-device-id]")).to_have_count(0)

    await sign_out(page)
    await password_step(page, server)
    await expect(page.locator("#code")).to_be_visible()
    await expect(page).to_have_url(f"{server}/login")
