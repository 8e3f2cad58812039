"""Every state a page can be in, not only as first loaded: open setup forms, failed submits,
secrets shown once, the sign-in second step, the recovery links, "Confirm it's you" and the 404.

In each: no serious or critical axe-core finding at a phone's and a desktop's width, and no
console error (a CSP violation is one). One browser, one server and one person's pages,
walked through in order, keep this quick.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_layout import AXE, console_errors, serious_axe_findings, sideways
from tests.helpers import PASSWORD
from tests.live import live_server, smtp_env
from tests.recovery_helpers import RESET_LINK, SECURE_LINK
from tests.twofactor_helpers import oathtool  # the test clock is real time here

# The answers the server gives on purpose (a 404, a 422 to a failed htmx submit) are logged
# by the browser as failed loads; those are the states under test, not faults.
DELIBERATE = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")
WIDTHS = (390, 1280)


@pytest.fixture
def server(browser_settings, smtp, sms) -> Iterator[str]:
    mail_and_texts = {**smtp_env(smtp.port), "LATCHKEY_SMS_WEBHOOK_URL": sms.url}
    # localhost: a name passkeys accept, and a secure context.
    with live_server(browser_settings, host_name="localhost", **mail_and_texts) as url:
        yield url


class Checker:
    """Runs the checks on the page as it is now, naming the state in every failure."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors = console_errors(page)

    async def __call__(self, state: str) -> None:
        for width in WIDTHS:
            await self.page.set_viewport_size({"width": width, "height": 800})
            assert await serious_axe_findings(self.page) == [], f"{state} at {width}px"
            assert await sideways(self.page) == 0, f"{state} at {width}px"
        errors = [error for error in self.errors if not DELIBERATE.match(error)]
        assert errors == [], state
        self.errors.clear()


async def mailed(smtp, link: re.Pattern[str]) -> str:
    """The newest link of this kind mailed to alice, once the server has sent one."""
    for _ in range(200):
        for message in reversed(smtp.to("alice@example.com")):
            found = link.search(smtp.text(message))
            if found:
                return found.group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail with {link.pattern}")


async def sign_in(page: Page, server: str) -> None:
    await page.goto(f"{server}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def open_setup(page: Page, server: str, method: str) -> None:
    await page.goto(f"{server}/account/security")
    section = page.locator("#two_factor")
    await section.get_by_label(method).check()
    await section.get_by_role("button", name="Set up").click()


@pytest.mark.skipif(not AXE.exists(), reason="web/node_modules is missing: npm ci in web/")
async def test_every_state_of_every_page_is_accessible_and_breaks_no_rule(
    browser, server, create_user, smtp, sms
):
    create_user("alice")
    context = await browser.new_context()
    page = await context.new_page()
    check = Checker(page)

    # Signed out: the recovery pages with a bad link, and the 404.
    await page.goto(f"{server}/password-reset")
    await check("/password-reset")
    await page.goto(f"{server}/password-reset/not-a-link")
    await expect(page.locator("[data-error-for=token]")).to_be_visible()
    await check("/password-reset/{token}, a bad link")
    await page.goto(f"{server}/secure-account/not-a-link")
    await check("/secure-account/{token}, form")
    await page.get_by_role("button", name="Sign out everywhere and secure my account").click()
    await expect(page.locator("[data-error-for=token]")).to_be_visible()
    await check("/secure-account/{token}, a bad link")
    await page.goto(f"{server}/no/such/page")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await check("404")

    # Signed in: failed submits, then secrets shown once.
    await sign_in(page, server)
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/security")
    password = page.locator("#change_password")
    await password.locator("#current-password").fill(PASSWORD)
    await password.locator("#new-password").fill("marmalade skyline of otters")
    await password.locator("#new-password-repeat").fill("something else entirely")
    await password.get_by_role("button", name="Change password").click()
    await expect(password.locator("[data-error-for=newPasswordConfirmation]")).to_be_visible()
    await check("change password, field errors")

    await page.goto(f"{server}/account/tokens")
    await page.fill("#token-name", "deploy")
    await page.select_option("#token-expiry", "custom")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#tokens")).to_contain_text("Pick a date for the custom expiry.")
    await check("issue token, no expiry date")
    await page.select_option("#token-expiry", "7")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")
    await check("issue token, the secret shown once")
    credentials = page.locator("#api_credentials")
    await credentials.get_by_role("button", name="Generate credentials").click()
    await expect(page.locator("#new-client-secret")).to_contain_text("lk_cs_")
    await check("API credentials, the secret shown once")

    # Each setup form open, the authenticator app's last: it turns two-factor on.
    await page.goto(f"{server}/account")
    details = page.locator("#account_details")
    await details.get_by_label("Mobile phone").fill("+14155552671")
    await details.get_by_role("button", name="Save").click()
    await expect(details.get_by_role("status")).to_contain_text("Saved.")
    await open_setup(page, server, "Code by email")
    await expect(page.locator("#setup-code")).to_be_visible()
    await check("email code setup")
    await open_setup(page, server, "Code by SMS")
    await expect(page.locator("#setup-code")).to_be_visible()
    await check("text message code setup")
    await page.goto(f"{server}/account/security")
    passkeys = page.locator("#passkeys")
    await passkeys.get_by_label("Name").fill("laptop")
    await passkeys.get_by_role("button", name="Add a passkey").click()
    await expect(passkeys.get_by_role("button", name="Create the passkey")).to_be_visible()
    await check("passkey add")
    await open_setup(page, server, "Authenticator app")
    await expect(page.locator("#two_factor .qr svg")).to_be_visible()
    await check("authenticator app setup, QR code and key")
    secret = (await page.locator("#totp-secret").text_content()).replace(" ", "").strip()
    await page.locator("#two_factor").get_by_label("Code").fill(oathtool(secret))
    await page.locator("#two_factor").get_by_role("button", name="Turn on").click()
    await expect(page.locator("#recovery-codes")).to_contain_text("will not be shown again")
    await check("recovery codes shown")
    recovery = await page.locator(".recovery-codes code").first.text_content()

    # Signing in again: the second step, and another method.
    await page.click(".user-menu summary")
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, server)
    await expect(page.locator("#code-hint")).to_contain_text("authenticator app")
    await check("/login, the second step")
    await page.get_by_role("button", name="A recovery code").click()
    await expect(page.locator("#code-hint")).to_contain_text("Enter one of your recovery codes")
    await check("/login, another method")
    await page.fill("#code", recovery.strip())
    await page.get_by_role("button", name="Verify").click()
    await expect(page).to_have_url(f"{server}/account")
    await page.goto(f"{server}/account/reauthenticate?next=/account/security")
    await expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    await check("confirm it's you")

    # The links in emails, as they arrive: valid this time.
    secure_link = await mailed(smtp, SECURE_LINK)
    await page.goto(f"{server}/password-reset")
    await page.get_by_label("Username or email address").fill("alice")
    await page.get_by_role("button", name="Email me a link").click()
    await expect(page).to_have_url(f"{server}/password-reset/sent")
    await check("/password-reset/sent")
    await page.goto(await mailed(smtp, RESET_LINK))
    await expect(page.get_by_label("New password", exact=True)).to_be_visible()
    await check("/password-reset/{token}, a good link, its form")
    await page.goto(secure_link)
    await check("/secure-account/{token}, a good link")
    await context.close()
