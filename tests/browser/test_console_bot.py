"""The bot in real Chromium against a live server: a supervisor switches it on for live chat
and reads its report; agents see which conversations the bot is answering (the Bot badge,
on load and live) and the buttons it offered the player, and take one over by answering."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import expect
from sqlalchemy import select, update

from playerdesk.bot.intents import Intent
from playerdesk.bot.policy import HandoffReason
from playerdesk.db.models import Message, Ticket
from playerdesk.domain.enums import AgentRole, BotOutcome
from playerdesk.domain.events import TicketUpdated
from playerdesk.runtime import Runtime
from playerdesk.services import floor_config
from tests.browser.test_console import PASSWORD, inbox_item, pane, sign_in
from tests.conftest import START, AgentFactory, LiveServer
from tests.services.test_bot_admin import chat_ticket, finished_turn

QUICK_REPLIES = [
    {"id": "helpful_yes", "label": "Yes, thanks"},
    {"id": "talk_to_person", "label": "Talk to a person"},
]


async def bot_conversation(runtime: Runtime, *, name: str) -> Ticket:
    """A chat the bot is answering, with its last answer and the buttons under it. Set up
    directly rather than by switching the bot on: no bot job may answer during the test.
    Like every conversation the bot holds, it waits in no queue."""
    ticket = await chat_ticket(runtime, name=name)
    async with runtime.uow() as uow:
        await uow.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(bot_state="active", queued_at=None, team_id=None)
        )
        uow.session.add(
            Message(
                ticket_id=ticket.id,
                author_kind="bot",
                kind="reply",
                body="Your withdrawal of €120 is being processed. Did this help?",
                created_at=START,
                quick_replies=QUICK_REPLIES,
            )
        )
        await uow.commit()
    return ticket


async def bot_state_of(runtime: Runtime, ticket_id: int) -> str | None:
    async with runtime.uow() as uow:
        return await uow.session.scalar(select(Ticket.bot_state).where(Ticket.id == ticket_id))


async def test_a_supervisor_switches_the_bot_on_and_reads_its_report(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    answered = await finished_turn(
        runtime,
        outcome=BotOutcome.ANSWERED,
        finished_at=START - timedelta(hours=1),
        intent=Intent.BALANCE,
        confidence=0.94,
    )
    handed = await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(minutes=20),
        intent=Intent.RESPONSIBLE_GAMBLING,
        confidence=0.713,
        language="sv",
        rg_risk=True,
        reasons=[HandoffReason.RISK_DETECTED, HandoffReason.SENSITIVE_INTENT],
    )
    # Twelve days ago: in the 30-day report only.
    older = await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(days=12),
        intent=Intent.WITHDRAWAL_STATUS,
        confidence=0.38,
        reasons=[HandoffReason.LOW_CONFIDENCE],
    )
    assert answered.id != handed.id != older.id

    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    console = await sign_in(browser, live_server, supervisor, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/admin/bot")
    await expect(page.get_by_test_id("nav-bot")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("bot-channel")).to_have_count(4)
    switch = page.get_by_test_id("bot-switch-web_chat")
    await expect(switch).to_have_attribute("aria-checked", "false")
    await expect(switch).to_have_accessible_name("Live chat")

    await switch.click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    await page.reload()
    switch = page.get_by_test_id("bot-switch-web_chat")
    await expect(switch).to_have_attribute("aria-checked", "true")
    await expect(switch).to_contain_text("On")
    await expect(page.get_by_test_id("bot-switch-telegram")).to_have_attribute(
        "aria-checked", "false"
    )
    web_chat = page.locator('[data-testid="bot-channel"][data-channel="web_chat"]')
    await expect(web_chat.get_by_test_id("bot-channel-changed")).to_contain_text("Supervisor")
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == {"web_chat"}

    # The last 7 days: two turns, one handed over, with its reasons in words.
    await expect(page.get_by_test_id("bot-figure-turns").get_by_test_id("count")).to_have_text("2")
    await expect(page.get_by_test_id("bot-figure-handed_off").get_by_test_id("count")).to_have_text(
        "1"
    )
    reasons = page.get_by_test_id("bot-reason")
    await expect(reasons).to_have_count(2)
    await expect(page.get_by_test_id("bot-reasons")).to_contain_text(
        "Signs of gambling harm were detected"
    )
    await expect(page.get_by_test_id("bot-intents")).to_contain_text("Responsible gambling")
    rows = page.get_by_test_id("bot-handoff")
    await expect(rows).to_have_count(1)
    row = rows.first
    await expect(row.get_by_test_id("bot-handoff-ticket")).to_have_text(f"#{handed.number}")
    await expect(row.get_by_test_id("bot-handoff-confidence")).to_have_text("71 %")
    await expect(row.get_by_test_id("bot-handoff-risk")).to_have_text("Detected")
    await expect(row).to_contain_text("SV")
    await expect(row).to_contain_text("A subject only people handle")
    await page.screenshot(path=str(screenshot_dir / "console-bot-admin.png"), full_page=True)

    # The last 30 days bring the older hand-over in, newest first.
    await page.get_by_test_id("bot-days").select_option("30")
    await page.get_by_test_id("bot-period").get_by_role("button").click()
    await page.wait_for_url("**/console/admin/bot?days=30")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1).get_by_test_id("bot-handoff-ticket")).to_have_text(f"#{older.number}")
    await expect(rows.nth(1).get_by_test_id("bot-handoff-confidence")).to_have_text("38 %")
    await expect(rows.nth(1).get_by_test_id("bot-handoff-risk")).to_have_text("No")

    # The ticket number opens the conversation in the console.
    await rows.first.get_by_test_id("bot-handoff-ticket").click()
    await page.wait_for_url(f"**/console/tickets/{handed.id}")
    await expect(pane(page, handed.id)).to_be_visible()

    # Agents are shown the door.
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    other = await sign_in(browser, live_server, agent, locale="en-GB")
    response = await other.page.goto(f"{live_server.base_url}/console/admin/bot")
    assert response is not None and response.status == 403
    await expect(other.page.get_by_test_id("forbidden")).to_be_visible()
    assert console.errors == [] and other.errors == []
    assert console.dialogs == [] and other.dialogs == []
    await page.context.close()
    await other.page.context.close()


async def test_agents_see_the_bot_badge_and_the_buttons_it_offered(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    by_people = await chat_ticket(runtime, name="Jan Kowalski")
    answering = await bot_conversation(runtime, name="Priya Shah")
    also_answering = await bot_conversation(runtime, name="Sara Lind")
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page

    # On load: the badge on the conversations the bot is answering only.
    await expect(inbox_item(page, answering.id).get_by_test_id("inbox-bot")).to_be_visible()
    await expect(inbox_item(page, answering.id).get_by_test_id("inbox-bot")).to_have_text("Bot")
    await expect(inbox_item(page, also_answering.id).get_by_test_id("inbox-bot")).to_be_visible()
    await expect(inbox_item(page, by_people.id).get_by_test_id("inbox-bot")).to_be_hidden()

    # The conversation shows the badge, and the buttons under the bot's message as chips.
    await inbox_item(page, answering.id).locator("a").click()
    conversation = pane(page, answering.id)
    await expect(conversation.get_by_test_id("conversation-bot")).to_be_visible()
    offered = conversation.get_by_test_id("message-quick-replies")
    await expect(offered).to_have_count(1)
    await expect(offered.locator("li")).to_have_text(["Yes, thanks", "Talk to a person"])
    assert await offered.locator("button, a").count() == 0  # shown, not pressable
    await expect(offered).to_have_attribute("aria-label", "Buttons offered to the player")
    await page.screenshot(path=str(screenshot_dir / "console-bot-conversation.png"))

    # The agent answers: the bot's part ends, the badge goes, and the conversation is theirs.
    await expect(conversation.get_by_test_id("assign-me")).to_be_visible()
    composer = conversation.get_by_test_id("composer-input")
    await composer.fill("Hi Priya, I am taking over from the bot.")
    await composer.press("Control+Enter")
    await expect(conversation.get_by_test_id("conversation-message")).to_have_count(3)
    await expect(conversation.get_by_test_id("conversation-bot")).to_be_hidden()
    await expect(inbox_item(page, answering.id).get_by_test_id("inbox-bot")).to_be_hidden()
    assert await bot_state_of(runtime, answering.id) == "handed_off"
    await expect(conversation.get_by_test_id("assign-me")).to_be_hidden()
    await expect(inbox_item(page, answering.id)).to_contain_text("You")
    async with runtime.uow() as uow:
        assert (
            await uow.session.scalar(select(Ticket.assignee_id).where(Ticket.id == answering.id))
            == agent.id
        )

    # Live: a ticket.updated with a bot_state change takes the badge off another row.
    await runtime.bus.publish(
        TicketUpdated(
            occurred_at=START,
            ticket_id=also_answering.id,
            player_id=also_answering.player_id,
            changes={"bot_state": ["active", "handed_off"]},
            status=also_answering.status,
            priority=also_answering.priority,
            team_id=also_answering.team_id,
            assignee_id=also_answering.assignee_id,
        )
    )
    await expect(inbox_item(page, also_answering.id).get_by_test_id("inbox-bot")).to_be_hidden()
    assert console.errors == []
    assert console.dialogs == []
    await page.context.close()
