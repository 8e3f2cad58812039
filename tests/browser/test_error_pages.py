"""A person who opens a wrong address sees the site's own page, styled, with a way back."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, expect

from tests.browser.conftest import screenshot_path


async def test_404_and_405_pages_are_styled_and_lead_back(browser, server):
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

    response = await page.goto(f"{server}/account/security/password")
    assert response is not None and response.status == 405
    await expect(page.get_by_role("heading", name="This address takes a form")).to_be_visible()
    await page.screenshot(path=screenshot_path("error-405"), full_page=True)
    await page.get_by_role("link", name="Back to your account").click()
    await expect(page).to_have_url(f"{server}/login")

    assert icons and all(kind.startswith("image/svg+xml") for kind in icons)
    assert problems == []
