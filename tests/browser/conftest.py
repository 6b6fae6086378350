"""Browser tests: Playwright (async API) driving Debian's Chromium against a live server.

Skipped, with one line saying why, on a machine without /usr/bin/chromium (`make test`
installs it where it can).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PLAYERDESK_CHROMIUM", "/usr/bin/chromium"))
HAVE_CHROMIUM = CHROMIUM.exists()
SCREENSHOTS = Path(os.environ.get("PLAYERDESK_SCREENSHOTS", "var/screenshots"))

pytestmark = pytest.mark.skipif(
    not HAVE_CHROMIUM, reason=f"browser tests need Chromium at {CHROMIUM}"
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
