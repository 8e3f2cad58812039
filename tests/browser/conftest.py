"""Headless Debian Chromium, driven by Playwright, against `latchkey serve`."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from backend.infra.config import Settings
from tests.cli_helpers import create_user as cli_create_user
from tests.conftest import IN_CI, settings_for
from tests.helpers import PASSWORD
from tests.live import live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def browser_settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "browser.sqlite3"
    shutil.copy(sqlite_template, path)
    return settings_for(f"sqlite://{path}")


@pytest.fixture
def server(browser_settings: Settings) -> Iterator[str]:
    with live_server(browser_settings) as url:
        yield url


@pytest.fixture
def create_user(browser_settings: Settings):
    return lambda username, password=PASSWORD: cli_create_user(browser_settings, username, password)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        if IN_CI:
            pytest.fail("Chromium is missing: .ci/run installs the Debian package `chromium`")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        await browser.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
