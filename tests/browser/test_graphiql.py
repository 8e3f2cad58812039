"""GraphiQL works with no internet: everything from our origin, signed in by the cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import ConsoleMessage, Page, Route, expect

from tests.browser.conftest import screenshot_path
from tests.browser.pages import sign_in
from tests.browser.test_layout import AXE, serious_axe_findings


async def run_in_graphiql(page: Page, document: str) -> None:
    """Types the document into GraphiQL's query editor and presses its run button."""
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    # Inserted as one text input, so the editor's bracket closing adds nothing.
    await page.keyboard.insert_text(document)
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


async def test_graphiql_runs_a_query_and_a_mutation_with_no_other_origin_reachable(
    browser, server, create_user
):
    create_user("alice")
    ours = urlsplit(server).netloc
    context = await browser.new_context()
    elsewhere: list[str] = []
    requested: list[str] = []

    async def only_our_origin(route: Route) -> None:
        # As with no internet: whatever is not ours fails, and is recorded.
        if urlsplit(route.request.url).netloc == ours:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_our_origin)
    page = await context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # CSP violations, failed loads and React's complaints all land here.
        if message.type in {"error", "warning"}:
            problems.append(f"{message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))

    await sign_in(page, server)
    await page.goto(f"{server}/graphql")
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    await expect(page.get_by_text("Loading GraphiQL")).to_have_count(0)
    result = page.locator(".graphiql-response")

    await run_in_graphiql(page, "{ viewer { username } }")
    await expect(result).to_contain_text('"username": "alice"')

    mutation = (
        'mutation { updateAccount(input: {firstName: "Ada"}) '
        "{ viewer { firstName } userErrors { code } } }"
    )
    await run_in_graphiql(page, mutation)
    await expect(result).to_contain_text('"firstName": "Ada"')
    await expect(result).to_contain_text('"userErrors": []')
    await page.screenshot(path=screenshot_path("graphiql-mutation"))

    # A dialog adds GraphiQL's scroll-lock <style>: let through by the page's nonce.
    await page.get_by_role("button", name="Open settings dialog").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Settings")
    await page.keyboard.press("Escape")

    await page.goto(f"{server}/account")
    await expect(page.locator("#field-firstName")).to_have_value("Ada")
    assert elsewhere == []
    assert requested and all(urlsplit(url).netloc == ours for url in requested), requested
    assert problems == []


async def test_graphiql_signed_out_is_the_anonymous_viewer(browser, server):
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(f"{server}/graphql")
    await run_in_graphiql(page, "{ viewer { username } }")
    await expect(page.locator(".graphiql-response")).to_contain_text('"viewer": null')
    assert problems == []


# CodeMirror 5 (inside GraphiQL) scrolls in an element it takes out of the tab order and
# focuses through its own textarea instead; axe asks the scroller itself to be focusable.
# That is GraphiQL's to change, not our page's.
UPSTREAM = ("scrollable-region-focusable",)


@pytest.mark.skipif(not AXE.exists(), reason="web/node_modules is missing: npm ci in web/")
async def test_graphiql_has_no_serious_axe_finding_that_our_page_controls(
    browser, server, create_user
):
    create_user("alice")
    page = await browser.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/graphql")
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Query")).to_have_count(1)
    found = await serious_axe_findings(page)
    assert [finding for finding in found if not finding.startswith(UPSTREAM)] == []
