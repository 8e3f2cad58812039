"""A person with two-factor authentication confirms it's them once, then changes settings."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_two_factor_page import password_step
from tests.helpers import PASSWORD
from tests.twofactor_helpers import oathtool  # the test clock is real time here

POLICY_FORM = "form[action='/account/security/two-factor/policy']"


async def test_a_change_sends_to_confirm_it_is_you_and_back_then_goes_through(
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
    recovery = [c.strip() for c in await page.locator(".recovery-codes code").all_text_contents()]
    assert len(recovery) == 10

    # This session proved the password only. No card asks for it or for a code: one line
    # under the page's title says changes need "Confirm it's you" first.
    await page.goto(f"{server}/account/security")
    main = page.locator("main")
    await expect(main.locator("input[name=password], input[name=otp]")).to_have_count(0)
    notes = main.locator("[data-reauthentication-needed]")
    await expect(notes).to_have_count(1)
    await expect(notes).to_be_visible()
    await expect(notes.get_by_role("link", name="confirm it's you")).to_have_attribute(
        "href", "/account/reauthenticate?next=/account/security"
    )
    for width in (360, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=screenshot_path(f"signing-in-{width}"), full_page=True)

    # Pressing a change's button anyway goes to "Confirm it's you", which comes back.
    section = page.locator("#two_factor")
    await section.get_by_label("Only from a device").check()
    await section.locator(POLICY_FORM).get_by_role("button", name="Save").click()
    await expect(page).to_have_url(f"{server}/account/reauthenticate?next=%2Faccount%2Fsecurity")
    await expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()

    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_label("Authentication code").fill("000000")
    await page.get_by_role("button", name="Confirm", exact=True).click()
    await expect(page.locator(".field-error")).to_contain_text("code")  # a wrong code: no entry
    for width in (360, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=screenshot_path(f"confirm-it-is-you-{width}"), full_page=True)
    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_label("Authentication code").fill(recovery[0])
    await page.get_by_role("button", name="Confirm", exact=True).click()
    await expect(page).to_have_url(f"{server}/account/security")

    # Back where the change was asked for; it was not made behind the user's back.
    section = page.locator("#two_factor")
    await expect(main.locator("[data-reauthentication-needed]")).to_have_count(0)
    await expect(section.get_by_role("status")).to_have_count(0)
    await section.get_by_label("Only from a device").check()
    await section.locator(POLICY_FORM).get_by_role("button", name="Save").click()
    await expect(page.locator("#two_factor").get_by_role("status")).to_have_text("Saved.")

    await page.goto(f"{server}/account/tokens")
    await expect(page.locator("main input[name=password]")).to_have_count(0)
    await page.fill("#token-name", "deploy")
    await page.select_option("#token-expiry", "7")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")

    # The page's former address still answers.
    await page.goto(f"{server}/account/confirm-access?next=/account/tokens")
    await expect(page).to_have_url(f"{server}/account/reauthenticate?next=%2Faccount%2Ftokens")
    await context.close()
