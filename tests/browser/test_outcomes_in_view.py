"""With JavaScript, an outcome replaces its section in place: it must then be where the user
looks, on a phone as on a desktop, and have the focus, so a screen reader reads it too."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.pages import sign_in

IN_VIEW = """el => {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
}"""


async def in_view(locator: Locator) -> bool:
    return await locator.evaluate(IN_VIEW)


async def focus_is_inside(page: Page, selector: str) -> bool:
    return await page.evaluate("selector => !!document.activeElement.closest(selector)", selector)


async def issue(page: Page, name: str) -> None:
    await page.fill("#token-name", name)
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#issued-token")).to_contain_text(name)


@pytest.mark.parametrize("width", [1280, 360])
async def test_a_new_token_secret_is_in_view_and_focused_however_long_the_list(
    browser, server, create_user, width
):
    create_user("alice")
    context = await browser.new_context(viewport={"width": width, "height": 700})
    page = await context.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")
    for number in range(6):
        await issue(page, f"runner {number}")
    # The form sits under the list: issuing the seventh starts far below the top.
    await page.locator("#token-name").scroll_into_view_if_needed()
    await issue(page, "the seventh")
    secret = page.locator("#new-token-secret")
    await expect(secret).to_contain_text("lk_rt_")
    assert await in_view(secret), f"the secret is out of view at {width}px"
    assert await focus_is_inside(page, "#issued-token")
    await context.close()


@pytest.mark.parametrize("width", [1280, 360])
async def test_saved_is_in_view_and_the_hints_example_city_is_accepted(
    browser, server, create_user, width
):
    create_user("alice")
    context = await browser.new_context(viewport={"width": width, "height": 640})
    page = await context.new_page()
    await sign_in(page, server)
    # The hint's own example: a city, not the zone's full name.
    await expect(page.locator("#time-zone-hint")).to_contain_text("Berlin")
    await page.fill("#field-timeZone", "Berlin")
    await page.locator("#account_details button[type=submit]").scroll_into_view_if_needed()
    await page.locator("#account_details button[type=submit]").click()
    saved = page.locator("#account_details [role=status]")
    await expect(saved).to_contain_text("Saved.")
    assert await in_view(saved), f"'Saved.' is out of view at {width}px"
    assert await focus_is_inside(page, "#account_details [role=status]")
    await expect(page.locator("#field-timeZone")).to_have_value("Europe/Berlin")
    await context.close()
