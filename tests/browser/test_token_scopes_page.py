"""A person issues a token with two scopes, sees them listed, and regenerates it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from backend.infra.config import Settings
from tests.browser.conftest import screenshot_path
from tests.browser.test_tokens_page import exchange_refresh_token, sign_in
from tests.live import live_server
from tests.test_token_scopes import PLATFORM

SECRET = re.compile(r"lk_rt_[0-9A-Za-z]{38}")


@pytest.fixture
def server(browser_settings: Settings) -> Iterator[str]:
    with live_server(browser_settings, LATCHKEY_SCOPES=PLATFORM) as url:
        yield url


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
async def test_issue_with_two_scopes_then_regenerate(browser, server, create_user, javascript):
    create_user("alice")
    context = await browser.new_context(java_script_enabled=javascript)
    page = await context.new_page()
    await sign_in(page, server)
    await page.goto(f"{server}/account/tokens")

    tokens = page.locator("#tokens")
    await page.fill("#token-name", "ita sync")
    await expect(tokens.get_by_label(re.compile("account:read"))).to_be_checked()
    await tokens.get_by_label(re.compile("ita:write")).check()
    await expect(tokens.get_by_text("Run ITA jobs")).to_be_visible()
    await page.get_by_role("button", name="Issue token").click()
    first = (await page.locator("#new-token-secret").text_content() or "").strip()
    assert SECRET.fullmatch(first)

    await page.goto(f"{server}/account/tokens")
    listed = page.locator("tr[data-token-id]")
    await expect(listed).to_have_count(1)
    await expect(listed.locator("[data-field=scopes]")).to_have_text("account:read ita:write")

    await listed.get_by_role("link", name="Regenerate").click()
    await expect(page.locator("#regenerate-form")).to_be_visible()
    await page.get_by_role("button", name="Regenerate secret").click()
    await expect(page.locator("#regenerated-token")).to_contain_text("will not be shown again")
    await expect(page.locator("#regenerated-token")).to_contain_text("keeps working until")
    second = (await page.locator("#new-token-secret").text_content() or "").strip()
    assert SECRET.fullmatch(second) and second != first
    if javascript:
        await page.screenshot(path=screenshot_path("tokens-page-regenerated"), full_page=True)

    await page.goto(f"{server}/account/tokens")
    await expect(listed.locator("[data-field=overlap]")).to_contain_text("Previous secret works")
    await expect(listed.locator("[data-field=scopes]")).to_have_text("account:read ita:write")
    assert second not in await page.content()
    for secret in (first, second):
        answer = await exchange_refresh_token(server, secret)
        assert answer.json()["scope"] == "account:read ita:write"
    await context.close()
