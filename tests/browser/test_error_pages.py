"""A person who opens a wrong address sees the site's own page, styled, with a way back."""

from __future__ import annotations

import re

from playwright.async_api import ConsoleMessage, expect

from tests.browser.conftest import screenshot_path


async def test_404_is_styled_and_form_addresses_lead_back(browser, server):
    page = await browser.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # The 404 and 405 answers themselves are logged as failed loads; nothing else may be.
        if message.type == "error" and "status of 40" not in message.text:
            problems.append(message.text)

    page.on("console", console)
    icons: list[str] = []
    page.on(
        "response",
        lambda r: icons.append(r.headers["content-type"]) if "favicon" in r.url else None,
    )

    response = await page.goto(f"{server}/no/such/page")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    card = page.locator("section.card")
    # latchkey.css applies: a white card with rounded corners, not an unstyled page.
    assert await card.evaluate("e => getComputedStyle(e).borderRadius") == "8px"
    assert await card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    await page.screenshot(path=screenshot_path("error-404"), full_page=True)

    # A form's address opened again goes back to its page (here: signing in first).
    response = await page.goto(f"{server}/account/security/password")
    assert response is not None and response.status == 200
    await expect(page).to_have_url(
        re.compile(rf"^{re.escape(server)}/login\?next=%2Faccount%2Fsecurity(#\w+)?$")
    )
    assert response.request.redirected_from is not None
    first = response.request.redirected_from
    while first.redirected_from is not None:
        first = first.redirected_from
    assert (await first.response()).status == 303

    assert icons and all(kind.startswith("image/svg+xml") for kind in icons)
    assert problems == []
