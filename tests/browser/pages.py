"""Steps many browser tests share."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.helpers import PASSWORD


async def sign_in(
    page: Page, server: str, username: str = "alice", password: str = PASSWORD
) -> None:
    """Sign in on /login with a password alone, and land on the account page."""
    await page.goto(f"{server}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server}/account")
