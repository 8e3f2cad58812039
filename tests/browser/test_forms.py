"""The account forms in a browser: the 303 round trip without JavaScript, and the form
details that need a browser (a field shown only when chosen, focus on the first error)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_tokens_page import sign_in
from tests.helpers import PASSWORD


async def test_without_javascript_errors_and_successes_come_back_once(browser, server, create_user):
    create_user("bob")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, server, "bob")

    await page.goto(f"{server}/account/security")
    section = page.locator("#change_password")
    await section.locator("#current-password").fill(PASSWORD)
    await section.locator("#new-password").fill("marmalade skyline of otters")
    await section.locator("#new-password-repeat").fill("something else entirely")
    await section.get_by_role("button", name="Change password").click()
    await expect(page).to_have_url(f"{server}/account/security")  # no anchor: autofocus
    await expect(section.locator('[data-error-for="newPasswordConfirmation"]')).to_be_visible()
    await expect(section.locator("#new-password")).to_have_value("")  # secrets not kept
    # Focus on the first error without a script: the browser's own autofocus.
    await expect(section.locator("#new-password-repeat")).to_be_focused()
    assert await page.locator("[autofocus]").count() == 1

    await page.goto(f"{server}/account")
    details = page.locator("#account_details")
    await details.get_by_label("First name").fill("Robert")
    await details.get_by_label("Mobile phone").fill("12")
    await details.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(f"{server}/account")
    await expect(details.locator('[data-error-for="mobilePhone"]')).to_be_visible()
    await expect(details.get_by_label("First name")).to_have_value("Robert")
    await expect(details.get_by_label("Mobile phone")).to_be_focused()
    await page.screenshot(path=screenshot_path("forms-nojs-error"), full_page=True)

    await page.reload()  # shown once
    await expect(details.locator('[data-error-for="mobilePhone"]')).to_have_count(0)
    await expect(details.get_by_label("First name")).to_have_value("")

    await details.get_by_label("First name").fill("Robert")
    await details.get_by_role("button", name="Save").click()
    await expect(details.get_by_role("status")).to_contain_text("Saved.")
    await page.reload()
    await expect(details.get_by_role("status")).to_have_count(0)
    await expect(details.get_by_label("First name")).to_have_value("Robert")
    await context.close()


async def test_without_javascript_the_date_field_and_the_credentials_confirm(
    browser, server, create_user
):
    create_user("bob")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, server, "bob")
    await page.goto(f"{server}/account/tokens")

    date = page.locator("#token-custom-date")
    await expect(date).to_be_hidden()
    await page.fill("#token-name", "ci")
    await page.select_option("#token-expiry", "custom")
    await expect(date).to_be_visible()  # a stylesheet rule, no script needed
    await page.get_by_role("button", name="Issue token").click()
    await expect(page).to_have_url(f"{server}/account/tokens")
    await expect(page.locator("#tokens")).to_contain_text("Pick a date for the custom expiry.")
    await expect(page.locator("#token-custom-date")).to_be_focused()
    await expect(page.locator("#token-name")).to_have_value("ci")
    await expect(date).to_be_visible()

    credentials = page.locator("#api_credentials")
    await credentials.get_by_role("button", name="Generate credentials").click()
    await expect(page.locator("#new-client-secret")).to_contain_text("lk_cs_")
    await credentials.get_by_role("button", name="Remove credentials").click()
    await expect(credentials.get_by_role("alert")).to_contain_text("Remove these API credentials?")
    await credentials.get_by_role("link", name="Cancel").click()
    await expect(credentials.get_by_role("button", name="Remove credentials")).to_be_visible()
    await credentials.get_by_role("button", name="Remove credentials").click()
    await credentials.get_by_role("button", name="Yes, remove the credentials").click()
    await expect(credentials.get_by_role("status")).to_contain_text("were removed")
    await context.close()


async def test_with_javascript_focus_goes_to_the_first_error_and_time_zones_search(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    details = page.locator("#account_details")
    zone = details.get_by_label("Time zone")
    assert await zone.get_attribute("list") == "time-zones"
    assert await page.locator("#time-zones option[value='Europe/Berlin']").count() == 1

    await details.get_by_label("Mobile phone").fill("12")
    await details.get_by_role("button", name="Save").click()
    await expect(details.locator('[data-error-for="mobilePhone"]')).to_be_visible()
    await expect(page.locator("#field-mobilePhone")).to_be_focused()

    await details.get_by_label("Mobile phone").fill("")
    await zone.fill("Europe/Berlin")
    await details.get_by_role("button", name="Save").click()
    await expect(details.get_by_role("status")).to_contain_text("Saved.")
    await expect(zone).to_have_value("Europe/Berlin")

    # The custom date is only sent while "On a date I choose" is picked.
    await page.goto(f"{server}/account/tokens")
    await expect(page.locator("#token-custom-date")).to_be_hidden()
    await page.select_option("#token-expiry", "custom")
    await page.fill("#token-custom-date", "2099-01-01")
    await page.select_option("#token-expiry", "7")
    await expect(page.locator("#token-custom-date")).to_be_disabled()
