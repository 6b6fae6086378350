"""Linking a messenger chat to a casino account in real Chromium: the agent opens a Telegram
conversation of an anonymous chat, types the player's casino ID in the player panel, and the
panel shows the casino account from the demo back office (over real HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from playwright.async_api import expect

from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services.messengers import (
    MessengerPolicies,
    MessengerSender,
    receive_messenger_message,
)
from tests.browser.test_console import PASSWORD, pane, sign_in
from tests.casino_backoffice import DemoCasino
from tests.conftest import AgentFactory, LiveServer

PRIYA = "290677"  # Priya Shah: a €2,500 withdrawal held for a source-of-funds check
JAMES = "204117"  # James Whitfield


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def telegram_conversation(runtime: Runtime, chat: str = "5001234567") -> int:
    async with runtime.uow() as uow:
        received = await receive_messenger_message(
            uow,
            sender=MessengerSender(
                channel=Channel.TELEGRAM, address=chat, name="Priya", language_tag="en"
            ),
            body="Where is my withdrawal?",
            provider_message_key=f"telegram:{chat}:1",
            policies=MessengerPolicies(
                players=runtime.policies.players,
                messages=runtime.policies.messages,
                routing=runtime.policies.routing,
            ),
        )
    assert received.ticket_id is not None
    return received.ticket_id


async def test_the_agent_links_the_chat_and_sees_the_casino_account(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    ticket_id = await telegram_conversation(runtime)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/tickets/{ticket_id}")
    conversation = pane(page, ticket_id)
    await expect(conversation).to_be_visible()
    await conversation.get_by_test_id("player-details").click()
    state = conversation.get_by_test_id("player-account-state")
    await expect(state).to_contain_text("no casino account is linked")
    form = conversation.get_by_test_id("player-link-form")
    await expect(form).to_be_visible()

    # Nothing typed, then an ID the back office does not know: said on the form.
    submit = conversation.get_by_test_id("player-link-submit")
    await submit.click()
    error = conversation.get_by_test_id("player-link-error")
    await expect(error).to_have_text("Enter the player's casino ID.")
    await conversation.get_by_test_id("player-link-input").fill("999999")
    await submit.click()
    await expect(error).to_have_text("The casino's back office has no player with this ID.")
    await expect(form).to_be_visible()

    await conversation.get_by_test_id("player-link-input").fill(PRIYA)
    await submit.click()

    await expect(form).to_be_hidden()
    identity = conversation.get_by_test_id("player-identity")
    await expect(identity).to_contain_text(PRIYA)
    await expect(identity).to_contain_text("Priya Shah")
    await expect(conversation.get_by_test_id("player-balance")).to_be_visible()
    await expect(state).to_be_hidden()
    await page.screenshot(path=str(screenshot_dir / "console-player-linked.png"))

    # Another agent links a chat whose panel is open here: the panel follows.
    other_ticket = await telegram_conversation(runtime, chat="5009999999")
    await page.goto(f"{live_server.base_url}/console/tickets/{other_ticket}")
    other = pane(page, other_ticket)
    await other.get_by_test_id("player-details").click()
    await expect(other.get_by_test_id("player-link-form")).to_be_visible()
    colleague = await make_agent(AgentRole.AGENT)
    async with httpx.AsyncClient(base_url=live_server.base_url) as api:
        response = await api.post(
            f"/api/v1/tickets/{other_ticket}/player-link",
            json={"external_id": JAMES},
            headers=colleague.headers,
        )
        assert response.status_code == 200, response.text
    await expect(other.get_by_test_id("player-link-form")).to_be_hidden()
    await expect(other.get_by_test_id("player-identity")).to_contain_text("James Whitfield")
    assert console.errors == [] and console.dialogs == []


async def test_the_link_form_appears_when_the_panel_answers_before_the_conversation(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
) -> None:
    """The player panel can answer before the conversation's ticket is loaded (a busy
    server): whether the chat can be linked depends on its channel, so the form must
    appear once the ticket arrives, not stay hidden."""
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    ticket_id = await telegram_conversation(runtime)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    held: list[Any] = []
    await page.route(
        f"**/console/tickets/{ticket_id}/conversation", lambda route: held.append(route)
    )
    await page.goto(f"{live_server.base_url}/console/tickets/{ticket_id}")
    conversation = pane(page, ticket_id)
    await conversation.get_by_test_id("player-details").click()
    state = conversation.get_by_test_id("player-account-state")
    await expect(state).to_contain_text("no casino account is linked")
    assert len(held) == 1  # the ticket is still on its way
    await held[0].continue_()
    await expect(conversation.get_by_test_id("conversation-message")).to_have_count(1)
    await expect(conversation.get_by_test_id("player-link-form")).to_be_visible()
    assert console.errors == [] and console.dialogs == []
