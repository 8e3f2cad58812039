"""What cannot be undone asks first, with and without JavaScript, and says what goes; once it
is done, every card it changed shows it without a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.pages import sign_in
from tests.browser.test_passkeys_page import signed_in_with_a_passkey
from tests.helpers import PASSWORD
from tests.live import live_server
from tests.twofactor_helpers import oathtool


@pytest.fixture
def server(browser_settings) -> Iterator[str]:
    # WebAuthn needs a domain name: the relying party is the public URL's host.
    with live_server(browser_settings, host_name="localhost") as url:
        yield url


async def confirm_it_is_me_if_asked(page: Page, server: str, done: str, **proof: str) -> bool:
    """Once the change is `done` (a selector) or "Confirm it's you" is asked: there, the
    password and a code, or the passkey, and back on the page."""
    asked = page.get_by_role("heading", name="Confirm it's you")
    await expect(page.locator(done).or_(asked)).to_be_visible()
    if "/account/reauthenticate" not in page.url:
        return False
    if "code" in proof:
        await page.get_by_label("Your password").first.fill(PASSWORD)
        await page.get_by_label("Authentication code").fill(proof["code"])
        await page.get_by_role("button", name="Confirm", exact=True).click()
    else:
        await page.locator("#reauthenticate-passkey-password").fill(PASSWORD)
        await page.get_by_role("button", name="Confirm with my passkey").click()
    await expect(page).to_have_url(f"{server}/account/security")
    return True


async def test_turning_two_factor_off_asks_first_and_updates_the_passkeys_card(
    browser, server, create_user
):
    create_user("alice")
    page = await signed_in_with_a_passkey(browser, server, "laptop")
    two_factor, passkeys = page.locator("#two_factor"), page.locator("#passkeys")
    await page.reload()
    await expect(passkeys).to_contain_text("laptop")

    async def turn_off() -> None:
        await two_factor.get_by_role("button", name="Turn off two-factor authentication").click()

    await turn_off()
    # One click only asks, and says what goes.
    asked = two_factor.locator("#confirm-disable")
    await expect(asked).to_contain_text("laptop")
    await expect(asked).to_contain_text("recovery codes")
    await expect(two_factor.get_by_role("button", name="Yes, turn it off")).to_be_focused()
    await page.reload()
    await expect(passkeys).to_contain_text("laptop")
    await expect(
        two_factor.get_by_role("button", name="Turn off two-factor authentication")
    ).to_be_visible()

    await turn_off()
    await two_factor.get_by_role("button", name="Yes, turn it off").click()
    if await confirm_it_is_me_if_asked(page, server, "#two_factor [role=status]"):
        await turn_off()
        await two_factor.get_by_role("button", name="Yes, turn it off").click()
    await expect(two_factor.get_by_role("status")).to_have_text("Two-factor authentication is off.")
    # The passkey went with it, and its card says so at once.
    await expect(passkeys).not_to_contain_text("laptop")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
async def test_new_recovery_codes_ask_first_and_the_saved_ones_work_until_then(
    browser, server, create_user, javascript
):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=javascript)
    page = await context.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/security")
    two_factor = page.locator("#two_factor")
    await two_factor.get_by_label("Authenticator app").check()
    await two_factor.get_by_role("button", name="Set up").click()
    secret = (await two_factor.locator("#totp-secret").text_content()).replace(" ", "").strip()
    await two_factor.get_by_label("Code").fill(oathtool(secret))
    await two_factor.get_by_role("button", name="Turn on").click()
    await expect(two_factor.locator("#recovery-codes")).to_contain_text("will not be shown")
    saved = [
        c.strip() for c in await two_factor.locator(".recovery-codes code").all_text_contents()
    ]
    await page.goto(f"{server}/account/security")

    async def generate() -> None:
        await two_factor.get_by_role("button", name="Generate new recovery codes").click()

    await generate()
    await expect(two_factor.locator("#confirm-regenerate")).to_contain_text("stop working")
    await expect(two_factor.locator(".recovery-codes")).to_have_count(0)
    await page.reload()  # only asked: a reload changes nothing
    await expect(
        two_factor.get_by_role("button", name="Generate new recovery codes")
    ).to_be_visible()
    await generate()
    await two_factor.get_by_role("button", name="Yes, generate new codes").click()
    code = oathtool(secret, offset_seconds=30)
    if await confirm_it_is_me_if_asked(page, server, "#recovery-codes", code=code):
        await generate()
        await two_factor.get_by_role("button", name="Yes, generate new codes").click()
    await expect(two_factor.locator("#recovery-codes")).to_contain_text("will not be shown")
    fresh = [
        c.strip() for c in await two_factor.locator(".recovery-codes code").all_text_contents()
    ]
    assert len(fresh) == 10 and not set(fresh) & set(saved)
    await context.close()


async def test_a_new_api_secret_asks_first_and_the_old_one_works_until_then(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")
    credentials = page.locator("#api_credentials")
    await credentials.get_by_role("button", name="Generate credentials").click()
    client_id = (await page.locator("#generated-credentials p code").text_content()).strip()
    old = (await page.locator("#new-client-secret").text_content()).strip()

    async def works(secret: str) -> bool:
        async with httpx.AsyncClient() as script:
            answer = await script.post(
                f"{server}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
            )
        return answer.status_code == 200

    assert await works(old)
    await page.goto(f"{server}/account/tokens")
    await credentials.get_by_role("button", name="Regenerate secret").click()
    await expect(credentials.locator("#confirm-regenerate-secret")).to_contain_text(client_id)
    await expect(page.locator("#new-client-secret")).to_have_count(0)
    assert await works(old)  # one click changed nothing
    await credentials.get_by_role("button", name="Yes, regenerate the secret").click()
    await expect(page.locator("#new-client-secret")).to_contain_text(re.compile("lk_cs_"))
    new = (await page.locator("#new-client-secret").text_content()).strip()
    assert new != old and await works(new) and not await works(old)
