from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import LiveServer


async def test_console_login_page_renders_in_chromium(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    page = await browser.new_page(locale="sv-SE", extra_http_headers={"Accept-Language": "sv"})
    await page.goto(f"{live_server.base_url}/console/login")
    await page.get_by_test_id("login-email").wait_for()
    assert await page.get_by_test_id("login-submit").inner_text() == "Logga in"
    await page.screenshot(path=str(screenshot_dir / "login-sv.png"))
