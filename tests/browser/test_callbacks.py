"""Callbacks in real Chromium: a player asks for a call in the help centre on a phone, and an
agent takes it in the console, calls and records what was agreed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.async_api import Page, expect
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Callback
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from tests.conftest import AgentFactory, LiveServer

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def new_page(browser: Any, **options: Any) -> tuple[Page, list[str]]:
    context = await browser.new_context(**options)
    page: Page = await context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def no_sideways_scrolling(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a 390px phone"


async def test_a_player_asks_for_a_call_and_an_agent_makes_it(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
    screenshot_dir: Path,
) -> None:
    # The player, on a phone, in Polish: from the help centre's home to the form.
    player, player_errors = await new_page(browser, viewport=PHONE, locale="pl-PL")
    await player.goto(f"{live_server.base_url}/help/pl")
    await player.get_by_test_id("channel-callback").get_by_role("link").click()
    await player.wait_for_url(f"{live_server.base_url}/help/callback?lang=pl")
    await no_sideways_scrolling(player)
    await player.get_by_test_id("field-phone").fill("+48 512 345 678")
    await player.get_by_test_id("when-today").check()
    await player.get_by_test_id("field-from").fill("14:00")
    await player.get_by_test_id("field-until").fill("16:00")
    await player.get_by_test_id("field-reason").fill("Wypłata nie dotarła")
    await player.screenshot(path=str(screenshot_dir / "callback-form-390.png"), full_page=True)
    clock.advance(timedelta(seconds=30))  # the time a person takes to fill the form in
    await player.get_by_test_id("submit").click()
    await player.wait_for_url(f"{live_server.base_url}/help/callback/thanks?*")
    await expect(player.locator("html")).to_have_attribute("lang", "pl")
    await expect(player.get_by_test_id("callback-promise")).to_contain_text("14:00")
    await no_sideways_scrolling(player)
    await player.screenshot(path=str(screenshot_dir / "callback-thanks-390.png"), full_page=True)
    assert player_errors == []

    # The agent, who speaks Polish, takes it in the console.
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, languages=["en", "pl"])
    console, console_errors = await new_page(
        browser, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    await console.goto(f"{live_server.base_url}/console/login")
    await console.get_by_test_id("login-email").fill(agent.email)
    await console.get_by_test_id("login-password").fill(PASSWORD)
    await console.get_by_test_id("login-submit").click()
    await console.wait_for_url(f"{live_server.base_url}/console")
    await console.get_by_test_id("nav-callbacks").click()
    await console.wait_for_url(f"{live_server.base_url}/console/callbacks")
    row = console.get_by_test_id("callback")
    await expect(row).to_have_count(1)
    await expect(row.get_by_test_id("callback-phone")).to_have_attribute("href", "tel:+48512345678")
    await expect(row.get_by_test_id("callback-reason")).to_have_text("Wypłata nie dotarła")
    await console.screenshot(path=str(screenshot_dir / "callbacks-queue.png"), full_page=True)
    await row.get_by_test_id("take").click()
    await expect(console.get_by_test_id("saved")).to_be_visible()
    await expect(row.get_by_test_id("call-now")).to_have_attribute("href", "tel:+48512345678")
    await row.get_by_test_id("outcome-done").check()
    await row.get_by_test_id("outcome-note").fill("Explained the pending withdrawal.")
    await console.screenshot(path=str(screenshot_dir / "callbacks-mine.png"), full_page=True)
    await row.get_by_test_id("save-outcome").click()
    await expect(console.get_by_test_id("no-callbacks")).to_be_visible()
    assert console_errors == []

    async with runtime.uow() as uow:
        callback = await uow.session.scalar(select(Callback))
    assert callback is not None
    assert (callback.source, callback.status, callback.agent_id, callback.outcome_note) == (
        "helpcenter",
        "done",
        agent.id,
        "Explained the pending withdrawal.",
    )
