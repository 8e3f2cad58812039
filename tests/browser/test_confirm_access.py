"""A person with two-factor authentication confirms access once, then changes settings freely."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_two_factor_page import password_step
from tests.helpers import PASSWORD
from tests.twofactor_helpers import oathtool  # the test clock is real time here


async def test_confirm_access_once_then_issue_a_token_and_change_the_policy(
    browser, server, create_user
):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=False)  # works without JavaScript
    page = await context.new_page()
    await password_step(page, server)
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")

    section = page.locator("#two_factor")
    await section.get_by_label("Authenticator app").check()
    await section.get_by_role("button", name="Set up").click()
    secret = (await page.locator("#totp-secret").text_content()).replace(" ", "").strip()
    await page.locator("#two_factor").get_by_label("Code").fill(oathtool(secret))
    await page.locator("#two_factor").get_by_role("button", name="Turn on").click()
    recovery = [
        c.strip() for c in await page.locator(".recovery-codes code").all_text_contents()
    ]
    assert len(recovery) == 10

    # This session proved the password only: with two-factor authentication on, the
    # forms ask again, and offer to confirm access once instead.
    section = page.locator("#two_factor")
    await expect(section.locator("#policy-password")).to_be_visible()
    await expect(section.locator("#policy-otp")).to_be_visible()
    await section.locator("form[action='/account/security/two-factor/policy']").get_by_role(
        "link", name="Confirm access"
    ).click()
    await expect(page).to_have_url(f"{server}/account/confirm-access?next=/account/security")
    await expect(page.get_by_role("heading", name="Confirm access")).to_be_visible()

    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_label("Authentication code").fill("000000")
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.locator(".field-error")).to_contain_text("code")  # a wrong code: no entry
    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_label("Authentication code").fill(recovery[0])
    await page.screenshot(path=screenshot_path("confirm-access"), full_page=True)
    await page.get_by_role("button", name="Confirm").click()
    await expect(page).to_have_url(f"{server}/account/security")

    # No password and no code from here on while the confirmation lasts.
    section = page.locator("#two_factor")
    await expect(section.locator("#policy-password")).to_have_count(0)
    await expect(section.locator("#policy-otp")).to_have_count(0)
    await section.get_by_label("Only from a device").check()
    await section.locator("form[action='/account/security/two-factor/policy']").get_by_role(
        "button", name="Save"
    ).click()
    await expect(page.locator("#two_factor").get_by_role("status")).to_have_text("Saved.")

    await page.goto(f"{server}/account/tokens")
    await expect(page.locator("#token-password")).to_have_count(0)
    await expect(page.locator("#token-otp")).to_have_count(0)
    await page.fill("#token-name", "deploy")
    await page.select_option("#token-expiry", "7")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")
    await context.close()
