"""The player context panel in real Chromium: an agent opens demo conversations and sees the
player's account from the demo back office (over real HTTP); with the back office down the
panel says so and the agent still replies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.async_api import Page, expect

from playerdesk.db.models import Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.browser.test_console import PASSWORD, VIEWPORT, messages_via_api, pane, sign_in
from tests.casino_backoffice import DemoCasino, closed_port_url, http_backend
from tests.conftest import AgentFactory, AgentLogin, LiveServer

MID_WAGERING = "204117"  # James Whitfield: a welcome bonus a third wagered
GAMSTOP = "401377"  # Gareth Evans: GAMSTOP match, closing balance being paid out


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def open_ticket(
    runtime: Runtime,
    *,
    external_id: str,
    name: str,
    subject: str,
    agent: AgentLogin,
    vip_tier: str | None = None,
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT,
                subject=subject,
                body="Hello, I have a question about my account.",
                player_external_id=external_id,
                player=PlayerFields(name=name, country="GB", language="en", vip_tier=vip_tier),
                assignee_id=agent.id,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def open_details(page: Page, server: LiveServer, ticket: Ticket) -> Any:
    await page.goto(f"{server.base_url}/console/tickets/{ticket.id}")
    conversation = pane(page, ticket.id)
    await expect(conversation).to_be_visible()
    await conversation.get_by_test_id("player-details").click()
    panel = conversation.get_by_test_id("player-context")
    await expect(panel).to_be_visible()
    await expect(conversation.get_by_test_id("player-details")).to_be_hidden()
    return conversation


async def test_the_agent_sees_the_players_account_beside_the_conversation(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    earlier = await open_ticket(
        runtime,
        external_id=GAMSTOP,
        name="Gareth Evans",
        subject="Please close my account",
        agent=agent,
    )
    withdrawal = await open_ticket(
        runtime,
        external_id=GAMSTOP,
        name="Gareth Evans",
        subject="Where is my last withdrawal?",
        agent=agent,
    )
    bonus = await open_ticket(
        runtime,
        external_id=MID_WAGERING,
        name="James Whitfield",
        subject="How much more do I need to wager?",
        agent=agent,
        vip_tier="silver",
    )
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page

    # A player listed in GAMSTOP with his closing balance being paid out.
    conversation = await open_details(page, live_server, withdrawal)
    alert = conversation.get_by_test_id("player-alert")
    await expect(alert).to_have_count(1)
    await expect(alert).to_have_attribute("data-alert", "national_register")
    await expect(alert).to_contain_text("GAMSTOP (United Kingdom)")
    await expect(alert).to_contain_text("national self-exclusion register")
    balance = conversation.get_by_test_id("player-balance")
    await expect(balance).to_contain_text("£64.20")
    payment = conversation.get_by_test_id("player-payment").first
    await expect(payment).to_have_attribute("data-status", "pending")
    await expect(payment).to_have_attribute("data-kind", "withdrawal")
    await expect(payment).to_contain_text("Withdrawal")
    await expect(payment).to_contain_text("Pending")
    await expect(payment).to_contain_text("closing balance paid out after a GAMSTOP match")
    identity = conversation.get_by_test_id("player-identity")
    await expect(identity).to_contain_text("Gareth Evans")
    await expect(identity).to_contain_text("Self-excluded")  # the account's status
    earlier_link = conversation.get_by_test_id("player-earlier-ticket")
    await expect(earlier_link).to_have_count(1)
    await expect(earlier_link).to_contain_text(f"#{earlier.number} Please close my account")
    await page.set_viewport_size({"width": 1440, "height": 1700})
    await page.screenshot(path=str(screenshot_dir / "console-player-context-gamstop.png"))
    await page.set_viewport_size(VIEWPORT)

    # An earlier ticket opens in the console, beside the current one.
    await earlier_link.click()
    await expect(pane(page, earlier.id)).to_be_visible()
    await expect(page.get_by_test_id("conversation-tab")).to_have_count(2)

    # A player mid-wagering: the bonus with an accessible progress bar.
    conversation = await open_details(page, live_server, bonus)
    progress = conversation.get_by_test_id("player-bonus-progress")
    await expect(progress).to_have_attribute("role", "progressbar")
    await expect(progress).to_have_attribute("aria-valuenow", "36")
    await expect(progress).to_have_attribute("aria-valuemin", "0")
    await expect(progress).to_have_attribute("aria-valuemax", "100")
    await expect(progress).to_have_attribute(
        "aria-valuetext", "£1,265.50 of £3,500.00 wagered (36%)"
    )
    width = await progress.locator(".pc-progress-bar").evaluate(
        "bar => bar.offsetWidth / bar.parentElement.offsetWidth"
    )
    assert width == pytest.approx(0.36, abs=0.02)
    bonus_item = conversation.get_by_test_id("player-bonus")
    await expect(bonus_item).to_contain_text("Welcome bonus 100% up to £200")
    await expect(bonus_item).to_contain_text("Max bet £5.00")
    await expect(conversation.get_by_test_id("player-alert")).to_have_count(0)
    await expect(conversation.get_by_test_id("player-verification")).to_contain_text("Verified")
    await expect(conversation.get_by_test_id("player-identity")).to_contain_text("silver")
    await page.set_viewport_size({"width": 1440, "height": 1700})
    await page.screenshot(path=str(screenshot_dir / "console-player-context-bonus.png"))
    await page.set_viewport_size(VIEWPORT)

    assert console.dialogs == []
    assert console.errors == []
    await page.context.close()


async def test_with_the_back_office_down_the_agent_still_replies(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    ticket = await open_ticket(
        runtime,
        external_id=MID_WAGERING,
        name="James Whitfield",
        subject="Is my bonus still active?",
        agent=agent,
    )
    down = http_backend(closed_port_url())
    runtime.casino = down
    try:
        console = await sign_in(browser, live_server, agent, locale="en-GB")
        page = console.page
        conversation = await open_details(page, live_server, ticket)

        state = conversation.get_by_test_id("player-account-state")
        await expect(state).to_be_visible()
        await expect(state).to_contain_text("Account data unavailable")
        retry = conversation.get_by_test_id("player-context-retry")
        await expect(retry).to_be_visible()
        # What PlayerDesk knows itself still shows; the account does not.
        await expect(conversation.get_by_test_id("player-identity")).to_contain_text(
            "James Whitfield"
        )
        await expect(conversation.get_by_test_id("player-balance")).to_have_count(0)

        # Nothing blocks a reply.
        composer = conversation.get_by_test_id("composer-input")
        await composer.fill("Our account system is slow right now; I'll check in a minute.")
        await conversation.get_by_test_id("composer-send").click()
        messages = conversation.get_by_test_id("conversation-message")
        await expect(messages).to_have_count(2)
        await expect(composer).to_have_value("")
        stored = await messages_via_api(live_server, agent, ticket.id)
        assert stored[-1]["body"].startswith("Our account system is slow")
        await page.screenshot(path=str(screenshot_dir / "console-player-context-down.png"))

        # The back office is back: "Try again" shows the account.
        async with http_backend(casino.base_url) as working:
            runtime.casino = working
            await retry.click()
            await expect(state).to_be_hidden()
            await expect(conversation.get_by_test_id("player-balance")).to_contain_text("£12.40")

        # In Polish and Swedish the state is translated.
        assert console.dialogs == []
        assert console.errors == []
        await page.context.close()
    finally:
        runtime.casino = None
        await down.close()
