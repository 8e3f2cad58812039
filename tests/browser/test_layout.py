"""Every account page and the sign-in page on a phone, a tablet and a desktop.

At each width: no sideways scroll, no serious or critical axe-core finding, no console
error (a CSP violation is one), and the navigation names the page the user is on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.pages import sign_in

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (360, 390, 768, 1280)
PAGES = {
    "/account": "Personal info",
    "/account/security": "Signing in",
    "/account/sessions": "Device activity",
    "/account/tokens": "Issue token",
    "/account/applications": "Applications",
    "/account/log": "Security log",
}
# Outside the repository: looked at by a person, never compared.
SCREENSHOTS = Path(tempfile.gettempdir()) / "latchkey-layout"


def console_errors(page: Page) -> list[str]:
    """Collects what the console reports as errors, CSP violations included."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def serious_axe_findings(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now.

    Evaluated through the browser's debugging channel: the page's CSP would refuse the
    script as an inline tag, and the test must not loosen the CSP it checks.
    """
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    results = await page.evaluate(
        """async () => {
            const found = await axe.run(document, {resultTypes: ['violations']});
            return found.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(', ')})`);
        }"""
    )
    return results


async def one_heading_per_title(page: Page, title: str) -> None:
    """One h1, no section heading repeating it, and every section still named."""
    await expect(page.locator("h1")).to_have_count(1)
    repeated = page.get_by_role("heading", name=title, exact=True)
    await expect(repeated).to_have_count(1)
    for section in await page.locator("main section").all():
        assert await section.evaluate(
            "s => (s.getAttribute('aria-labelledby') || '').split(' ')"
            ".every(id => document.getElementById(id)?.textContent.trim())"
        ), await section.get_attribute("id")


async def sideways(page: Page) -> int:
    """How many pixels the page is wider than the window; 0 when it does not scroll sideways."""
    return await page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


async def fill_the_lists(browser: Browser, server: str) -> None:
    """A second session, a token with a long name and some events, so the tables have rows."""
    other = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await other.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")
    await page.fill("#token-name", "nightly-backup-of-the-photo-library-to-the-attic-server")
    await page.select_option("#token-expiry", "30")
    await page.get_by_role("button", name="Issue token").click()
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")
    await other.close()


@pytest.mark.skipif(not AXE.exists(), reason="web/node_modules is missing: npm ci in web/")
async def test_every_page_fits_is_accessible_and_names_itself_at_every_width(
    browser, server, create_user
):
    create_user("alice")
    await fill_the_lists(browser, server)
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        context = await browser.new_context(viewport={"width": width, "height": 800})
        page = await context.new_page()
        errors = console_errors(page)

        await page.goto(f"{server}/login")
        assert await sideways(page) == 0, f"/login at {width}px"
        assert await serious_axe_findings(page) == [], f"/login at {width}px"
        await sign_in(page, server)

        for path, label in PAGES.items():
            await page.goto(f"{server}{path}")
            navigation = page.get_by_role("navigation", name="Account")
            current = navigation.locator("[aria-current=page]")
            await expect(current).to_have_count(1)
            await expect(current).to_have_text(label)
            await expect(current).to_have_attribute("href", path)
            await expect(navigation.get_by_role("link")).to_have_count(len(PAGES))
            await expect(page.get_by_role("heading", level=1)).to_have_text(label)
            if width == WIDTHS[0]:
                await one_heading_per_title(page, label)
            assert await sideways(page) == 0, f"{path} at {width}px"
            assert await serious_axe_findings(page) == [], f"{path} at {width}px"
            if width in (390, 1280):
                name = path.strip("/").replace("/", "-")
                await page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        assert errors == [], f"console at {width}px"
        await context.close()


async def test_on_a_phone_tables_are_stacked_rows_and_on_a_desktop_real_tables(
    browser, server, create_user
):
    create_user("alice")
    await fill_the_lists(browser, server)
    for width, display in ((360, "block"), (1280, "table-row")):
        context = await browser.new_context(viewport={"width": width, "height": 800})
        page = await context.new_page()
        await sign_in(page, server)
        for path, row in (
            ("/account/sessions", "#sessions tbody tr"),
            ("/account/tokens", "#tokens tbody tr"),
            ("/account/log", "#security_log tbody tr"),
        ):
            await page.goto(f"{server}{path}")
            first = page.locator(row).first
            assert await first.evaluate("row => getComputedStyle(row).display") == display
            # Each value keeps its column's name, shown beside it when stacked.
            label = await first.locator("td").first.evaluate(
                "cell => getComputedStyle(cell, '::before').content"
            )
            assert (label != "none") == (width == 360), f"{path} at {width}px: {label}"
            if path != "/account/log":  # the rows with buttons: a cell, so its border lines up
                actions = page.locator(row).last.locator("td.actions")
                shown = await actions.evaluate("cell => getComputedStyle(cell).display")
                assert shown == ("block" if width == 360 else "table-cell"), f"{path} {width}px"
        if width == 360:  # "this browser" stays beside the value, not under the label
            await page.goto(f"{server}/account/sessions")
            offset = await page.locator("#sessions .tag").evaluate(
                "tag => tag.getBoundingClientRect().left"
                " - tag.closest('td').getBoundingClientRect().left"
            )
            assert offset > 80, offset
        await context.close()


async def test_the_current_session_comes_first_and_the_log_names_the_token(
    browser, server, create_user
):
    create_user("alice")
    await fill_the_lists(browser, server)
    page = await browser.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/sessions")
    rows = page.locator("#sessions tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("this browser")
    await page.goto(f"{server}/account/log")
    issued = page.locator("#security_log tr[data-kind='token.issued']")
    await expect(issued).to_contain_text("nightly-backup-of-the-photo-library-to-the-attic-server")


async def test_an_htmx_swap_breaks_no_content_security_rule(browser, server, create_user):
    create_user("alice")
    page = await browser.new_page()
    errors = console_errors(page)
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")
    await page.fill("#token-name", "deploy")
    await page.select_option("#token-expiry", "7")
    async with page.expect_response(lambda response: response.request.method == "POST") as info:
        await page.get_by_role("button", name="Issue token").click()
    response = await info.value
    assert response.request.headers.get("hx-request") == "true"  # htmx, not a page load
    await expect(page.locator("#new-token-secret")).to_contain_text("lk_rt_")
    assert await page.evaluate("document.adoptedStyleSheets.length") == 0
    assert errors == []


async def test_the_keyboard_alone_skips_to_the_content_and_reaches_the_navigation(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    assert await skip.evaluate("link => link.getBoundingClientRect().top >= 0")  # visible
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    await page.goto(f"{server}/account")
    for _ in range(10):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Device activity":
            break
    else:
        pytest.fail("Tab never reached the navigation")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus shows
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{server}/account/sessions")
