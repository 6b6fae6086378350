"""Both sides in Chromium: a player on the demo casino page and an agent in the console.

Once on one server, and once with the widget on one `playerdesk serve` process and the
console on another, PostgreSQL + Redis between them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from playerdesk.clock import FrozenClock
from playerdesk.domain.enums import AgentRole
from tests.browser.test_console import PASSWORD, inbox_item, pane, sign_in
from tests.browser.test_widget import casino_page
from tests.conftest import PG_URL, REDIS_URL, AgentFactory, LiveServer
from tests.web.test_two_processes import two_servers  # noqa: F401  (fixture)


async def chat_round_trip(
    browser: Any,
    *,
    widget_base: str,
    console_server: LiveServer,
    agent: Any,
    screenshot_dir: Path,
    name: str,
) -> None:
    console = await sign_in(browser, console_server, agent, locale="en-GB")
    agent_page: Page = console.page

    player_page, errors = await casino_page(browser, f"{widget_base}/demo/casino")
    await player_page.get_by_test_id("widget-launcher").click()
    box = player_page.get_by_test_id("widget-input")
    await box.fill("Hello, my deposit has not arrived.")
    await player_page.get_by_test_id("widget-send").click()

    # The agent sees the new chat appear live, opens it and answers from the composer.
    item = agent_page.locator('[data-testid="inbox-item"]').filter(
        has_text="Hello, my deposit has not arrived."
    )
    await expect(item).to_be_visible(timeout=10_000)
    ticket_id = int(await item.get_attribute("data-ticket-id") or 0)
    assert inbox_item(agent_page, ticket_id) is not None
    await item.locator("a").click()
    conversation = pane(agent_page, ticket_id)
    messages = conversation.get_by_test_id("conversation-message")
    await expect(messages).to_have_count(1)
    composer = conversation.get_by_test_id("composer-input")
    await composer.fill("Sorry about that, I am checking with the payment provider.")
    await conversation.get_by_test_id("composer-send").click()

    # The player sees the answer in the widget, once.
    shown = player_page.get_by_test_id("widget-message")
    await expect(shown).to_have_count(2, timeout=10_000)
    await expect(shown.nth(1)).to_contain_text("checking with the payment provider")

    # And the player's follow-up reaches the open conversation live.
    await box.fill("Thanks!")
    await player_page.get_by_test_id("widget-send").click()
    await expect(messages).to_have_count(3, timeout=10_000)
    await expect(messages.nth(2)).to_contain_text("Thanks!")

    await player_page.screenshot(path=str(screenshot_dir / f"{name}-player.png"))
    await agent_page.screenshot(path=str(screenshot_dir / f"{name}-agent.png"))
    assert errors == []
    assert console.errors == [] and console.dialogs == []


async def test_player_and_agent_both_in_the_browser(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory, screenshot_dir: Path
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    await chat_round_trip(
        browser,
        widget_base=live_server.base_url,
        console_server=live_server,
        agent=agent,
        screenshot_dir=screenshot_dir,
        name="end-to-end",
    )


@pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="two processes need PostgreSQL + Redis (make test-pg)"
)
async def test_widget_and_console_on_two_processes_through_redis(
    browser: Any,
    two_servers: list[str],  # noqa: F811
    make_agent: AgentFactory,
    clock: FrozenClock,
    screenshot_dir: Path,
) -> None:
    clock.set(datetime.now(UTC))  # the servers run on real time
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    widget_host, console_host = two_servers
    await chat_round_trip(
        browser,
        widget_base=f"http://{widget_host}",
        console_server=LiveServer(base_url=f"http://{console_host}", ws_url=f"ws://{console_host}"),
        agent=agent,
        screenshot_dir=screenshot_dir,
        name="two-processes",
    )
