"""Passkeys in Chromium, with a virtual authenticator from the DevTools WebAuthn domain:
add one on the page, sign in with it alone, use it after the password, and see it refused
without user verification and after it is deleted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_layout import AXE
from tests.helpers import PASSWORD
from tests.live import live_server


@pytest.fixture
def server(browser_settings) -> Iterator[str]:
    # WebAuthn needs a domain name: the relying party is the public URL's host.
    with live_server(browser_settings, host_name="localhost") as url:
        yield url


async def with_authenticator(page: Page, *, user_verification: bool = True) -> tuple:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    added = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": user_verification,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


async def without_autofill(page: Page) -> None:
    """From the next page on, the login page's passkey autofill stays off: the virtual
    authenticator would answer it at once, before any button is pressed."""
    await page.add_init_script(NO_AUTOFILL)


async def password_step(page: Page, server: str) -> None:
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def sign_out(page: Page) -> None:
    await page.click(".user-menu summary")
    await page.get_by_role("button", name="Sign out").click()


async def add_passkey(page: Page, name: str) -> None:
    await page.goto(origin(page) + "/account/security")
    section = page.locator("#passkeys")
    await section.get_by_label("Name").fill(name)
    await section.get_by_role("button", name="Add a passkey").click()
    await section.get_by_role("button", name="Create the passkey").click()
    await expect(page.locator("#passkeys")).to_contain_text(f"Passkey “{name}” added")


async def signed_in_with_a_passkey(browser, server: str, name: str = "Laptop") -> Page:
    """alice, signed in with her password on a page whose browser has an authenticator, and
    a passkey added (which turns two-factor authentication on)."""
    page = await browser.new_page()
    await with_authenticator(page)
    await without_autofill(page)
    await password_step(page, server)
    await add_passkey(page, name)
    return page


def origin(page: Page) -> str:
    return "/".join(page.url.split("/", 3)[:3])


async def sign_in_with_passkey(page: Page, server: str) -> None:
    await page.goto(f"{server}/login")
    await page.get_by_role("button", name="Sign in with a passkey").click()


async def test_add_a_passkey_then_sign_in_with_it_alone_then_delete_it(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    cdp, authenticator = await with_authenticator(page)
    await password_step(page, server)
    await expect(page).to_have_url(f"{server}/account")
    await add_passkey(page, "This laptop")
    section = page.locator("#passkeys")
    await expect(section.locator("#passkey-recovery-codes")).to_contain_text("will not be shown")
    await expect(section.locator("[data-field=name]")).to_have_text(["This laptop"])
    await expect(section).to_contain_text("not used yet")
    await page.screenshot(path=screenshot_path("passkeys-added"), full_page=True)
    credentials = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]

    # Signing out lands on /login, whose username field offers the passkey (conditional
    # mediation); the virtual authenticator picks it as a person would from the list.
    await sign_out(page)
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")
    await expect(page.locator("#passkeys")).to_contain_text("last used")

    await without_autofill(page)
    await sign_out(page)
    await expect(page).to_have_url(f"{server}/login")
    await sign_in_with_passkey(page, server)
    await expect(page).to_have_url(f"{server}/account")  # no username, no password
    await page.goto(f"{server}/account/security")
    await expect(page.locator("#passkeys")).to_contain_text("last used")

    # Signed in with a verified passkey: re-authenticated, deleting asks nothing more.
    section = page.locator("#passkeys")
    await section.get_by_text("Delete", exact=True).click()
    deleting = section.locator("form[action$='/delete']")
    await expect(deleting.locator("[data-reauthentication-needed]")).to_have_count(0)
    await expect(deleting.locator("input[type=password]")).to_have_count(0)
    await section.get_by_role("button", name="Delete This laptop").click()
    await expect(page.locator("#passkeys")).to_contain_text("It no longer signs in")
    await expect(page.locator("#passkeys")).to_contain_text("No passkeys yet")

    await sign_out(page)
    await sign_in_with_passkey(page, server)  # the browser still offers it
    await expect(page.get_by_role("alert")).to_contain_text("That passkey was not accepted")
    await expect(page).to_have_url(f"{server}/login/passkey")
    await page.goto(f"{server}/account")
    await expect(page).to_have_url(f"{server}/login")


async def test_a_passkey_as_the_second_factor_after_the_password(browser, server, create_user):
    create_user("alice")
    page = await signed_in_with_a_passkey(browser, server)
    await sign_out(page)

    await password_step(page, server)
    await expect(page.locator("#code-hint")).to_contain_text("Use your passkey")
    await page.get_by_role("button", name="Use my passkey").click()
    await expect(page).to_have_url(f"{server}/account")


async def test_without_user_verification_passwordless_sign_in_is_refused(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    cdp, authenticator = await with_authenticator(page)
    await without_autofill(page)
    await password_step(page, server)
    await add_passkey(page, "Laptop")
    await sign_out(page)

    await cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    await sign_in_with_passkey(page, server)
    await expect(page.get_by_role("alert")).to_be_visible()
    await page.goto(f"{server}/account")
    await expect(page).to_have_url(f"{server}/login")


async def test_without_javascript_the_passkey_parts_say_they_need_it(browser, server, create_user):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await expect(page.locator("#username")).to_have_attribute("autocomplete", "username webauthn")
    await expect(page.locator("[data-passkeys-need-js]")).to_be_attached()
    await expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    await password_step(page, server)
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")
    await expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    await expect(page.locator("#passkeys")).to_contain_text("Passkeys need JavaScript")
    await context.close()


async def test_confirm_it_is_you_with_the_password_and_a_passkey(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    await with_authenticator(page)
    await without_autofill(page)
    await password_step(page, server)
    await add_passkey(page, "Laptop")
    await page.goto(f"{server}/account/reauthenticate?next=/account")
    passkey_form = page.locator("form[data-passkey-get]")
    await passkey_form.get_by_label("Your password").fill(PASSWORD)
    await passkey_form.get_by_role("button", name="Confirm with my passkey").click()
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/log")
    log = page.locator("#security_log")
    await expect(log).to_contain_text("Re-authenticated (confirmed it was you)")


HIDDEN_BUT_SHOWN = """() => [...document.querySelectorAll('[hidden]')]
    .filter(el => getComputedStyle(el).display !== 'none')
    .map(el => el.outerHTML.slice(0, 80))"""


async def test_where_passkeys_work_the_sign_in_page_says_nothing_against_them(
    browser, server, create_user
):
    page = await browser.new_page()
    await with_authenticator(page)
    await without_autofill(page)
    await page.goto(f"{server}/login")
    await expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    await expect(page.get_by_text("Signing in with a passkey needs JavaScript.")).to_be_hidden()
    await expect(page.get_by_text("This browser cannot use passkeys.")).to_be_hidden()
    # The same rule everywhere: an element the page or a script hides is not shown.
    assert await page.evaluate(HIDDEN_BUT_SHOWN) == []

    # Without JavaScript, only the note that says why there is no passkey button.
    context = await browser.new_context(java_script_enabled=False)
    plain = await context.new_page()
    await plain.goto(f"{server}/login")
    await expect(plain.get_by_text("Signing in with a passkey needs JavaScript.")).to_be_visible()
    await expect(plain.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    await expect(plain.get_by_text("This browser cannot use passkeys.")).to_be_hidden()
    await context.close()


async def test_remember_this_device_is_offered_once_and_only_where_it_skips_the_code(
    browser, server, create_user
):
    create_user("alice")
    page = await signed_in_with_a_passkey(browser, server)
    await sign_out(page)
    remember = page.get_by_label("Remember this device for 30 days")

    # Every sign-in asks (the default): remembering would change nothing, so it is not offered.
    await password_step(page, server)
    await expect(page.get_by_role("button", name="Use my passkey")).to_be_visible()
    await expect(remember).to_have_count(0)
    await page.get_by_role("button", name="Use my passkey").click()
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")
    two_factor = page.locator("#two_factor")
    await two_factor.get_by_label("Only from a device").check()
    await two_factor.get_by_role("button", name="Save").click()
    await expect(two_factor.get_by_role("status")).to_have_text("Saved.")
    await sign_out(page)

    # Now it skips the code: one box for the step, which the passkey's answer carries too.
    await password_step(page, server)
    await expect(remember).to_have_count(1)
    await remember.check()
    await page.get_by_role("button", name="Use my passkey").click()
    await expect(page).to_have_url(f"{server}/account")
    await sign_out(page)
    await password_step(page, server)  # remembered: no second step
    await expect(page).to_have_url(f"{server}/account")


@pytest.mark.skipif(not AXE.exists(), reason="web/node_modules is missing: npm ci in web/")
async def test_the_second_step_with_a_passkey_and_codes_has_no_axe_finding_at_all(
    browser, server, create_user
):
    create_user("alice")
    page = await signed_in_with_a_passkey(browser, server)
    await sign_out(page)
    await password_step(page, server)
    await expect(page.get_by_role("button", name="Use my passkey")).to_be_visible()
    await page.evaluate(AXE.read_text())
    found = await page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => `${v.id} (${v.impact})`)"
    )
    assert found == []  # moderate and minor ones too (landmark-unique was one)
