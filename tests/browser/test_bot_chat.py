"""The bot in the browser (issue 7): a player on the demo casino page gets the bot's answer
from the knowledge base with its buttons, asks for a person, and an agent in the console
takes over with the bot's note in front of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from playerdesk.bot.pipeline import Bot
from playerdesk.db.models import Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.permissions import Actor
from playerdesk.jobs.bot_turns import answer_bot_turns
from playerdesk.jobs.runner import PeriodicJob, run_jobs_forever
from playerdesk.runtime import Runtime
from playerdesk.services import bot_admin
from tests.browser.test_console import PASSWORD, pane, sign_in
from tests.browser.test_widget import casino_page
from tests.conftest import AgentFactory, LiveServer
from tests.kb_articles import seed_articles


async def ticket_row(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


@pytest.fixture
async def bot_on_duty(runtime: Runtime, bot: Bot) -> AsyncIterator[None]:
    """The session's bot answering web chat, its job running as a worker would run it."""
    runtime.bot = bot
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.WEB_CHAT, enabled=True
        )
    job = PeriodicJob(
        name="answer_bot_turns", every=timedelta(seconds=0.1), run=answer_bot_turns, quiet=True
    )
    worker = asyncio.create_task(run_jobs_forever(runtime, jobs=[job]))
    try:
        yield
    finally:
        worker.cancel()


async def test_the_bot_answers_then_hands_over_to_an_agent(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    bot_on_duty: None,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    await seed_articles(runtime)
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    agent_page: Page = console.page

    player_page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    await player_page.get_by_test_id("widget-launcher").click()
    await player_page.get_by_test_id("widget-input").fill("How long does a withdrawal take?")
    await player_page.get_by_test_id("widget-send").click()

    # The bot answers from the knowledge base, with the article and its buttons.
    shown = player_page.get_by_test_id("widget-message")
    await expect(shown).to_have_count(2, timeout=10_000)
    answer = shown.nth(1)
    await expect(answer).to_have_attribute("data-author", "bot")
    await expect(answer).to_contain_text("How long does a withdrawal take?")
    await expect(answer).to_contain_text("Did this answer your question?")
    buttons = player_page.get_by_test_id("widget-quick-reply")
    await expect(buttons).to_have_count(3)
    await player_page.screenshot(path=str(screenshot_dir / "bot-answer-player.png"))

    # The bot holds the conversation: agents can see it, but nobody was given it.
    item = agent_page.locator('[data-testid="inbox-item"]').filter(
        has_text="How long does a withdrawal take?"
    )
    await expect(item).to_be_visible(timeout=10_000)
    ticket_id = int(await item.get_attribute("data-ticket-id") or 0)
    held = await ticket_row(runtime, ticket_id)
    assert (held.bot_state, held.assignee_id) == ("active", None)

    await buttons.filter(has_text="Talk to a person").click()
    await expect(shown).to_have_count(4, timeout=10_000)
    await expect(shown.nth(3)).to_contain_text("passing this to a colleague")
    await expect(buttons).to_have_count(0)

    # The hand-off routes the chat to the agent online, who sees the bot's part and note.
    handed = await ticket_row(runtime, ticket_id)
    assert (handed.bot_state, handed.assignee_id) == ("handed_off", agent.id)
    await item.locator("a").click()
    conversation = pane(agent_page, ticket_id)
    messages = conversation.get_by_test_id("conversation-message")
    await expect(messages.filter(has_text="The bot handed this conversation over.")).to_have_count(
        1, timeout=10_000
    )
    await expect(messages.filter(has_text="The player asked for a person")).to_have_count(1)
    bot_messages = conversation.locator('[data-author="bot"]')
    await expect(bot_messages).to_have_count(2)

    composer = conversation.get_by_test_id("composer-input")
    await composer.fill("Hi, Anna here. Which withdrawal is it about?")
    await conversation.get_by_test_id("composer-send").click()
    await expect(shown).to_have_count(5, timeout=10_000)
    await expect(shown.nth(4)).to_contain_text("Anna here")

    await player_page.screenshot(path=str(screenshot_dir / "bot-handoff-player.png"))
    await agent_page.screenshot(path=str(screenshot_dir / "bot-handoff-agent.png"))
    assert errors == []
    assert console.errors == []
