"""Canned replies in real Chromium against a live server, with the demo back office over
HTTP and a player on the widget websocket: "/" in the composer, the suggestion list by
keyboard, the filled-in reply sent to the player, a placeholder with no value flagged and
never sent, a macro that resolves the conversation, and the administration page."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from playwright.async_api import expect
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from playerdesk.db.models import CannedReply, Message
from playerdesk.demo_canned import seed_canned_replies
from playerdesk.domain import tokens
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import auth
from playerdesk.services import players as player_service
from playerdesk.web.chat.widget_auth import identity_secret
from tests.browser.test_console import (
    PASSWORD,
    LateAnswer,
    Player,
    inbox_item,
    pane,
    sign_in,
    ticket_via_api,
)
from tests.casino_backoffice import DemoCasino, demo_casino, http_backend
from tests.conftest import START, AgentFactory, LiveServer

PRIYA = "290677"  # in the demo back office: €2,500 by Skrill, pending review


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


@pytest.fixture
async def casino(runtime: Runtime) -> AsyncIterator[DemoCasino]:
    async with demo_casino(now=START) as office, http_backend(office.base_url) as backend:
        runtime.casino = backend
        try:
            yield office
        finally:
            runtime.casino = None


@pytest.fixture
async def canned_replies(runtime: Runtime) -> None:
    """The demo's canned replies and macros, with the Payments team some belong to."""
    async with runtime.uow() as uow:
        payments = await agent_service.create_team(uow, actor=Actor.system(), name="Payments")
    assert await seed_canned_replies(runtime, payments_team_id=payments.id) > 0


async def identified_player(server: LiveServer, runtime: Runtime) -> ClientConnection:
    """Priya, signed in at the casino: the widget carries her casino id and its HMAC."""
    async with runtime.uow() as uow:
        await player_service.upsert_player(
            uow,
            actor=Actor.system(),
            external_id=PRIYA,
            fields=player_service.PlayerFields(name="Priya Shah", language="en"),
            policy=runtime.policies.players,
        )
    secret = identity_secret(runtime.settings)
    assert secret is not None
    player = {"id": PRIYA, "hash": tokens.player_hash(PRIYA, secret=secret)}
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/widget/v1/session", json={"player": player, "language": "en"})
    assert response.status_code == 200, response.text
    socket = await connect(f"{server.ws_url}/ws/widget?token={response.json()['token']}")
    await socket.send(json.dumps({"type": "hello", "last_seen_id": 0}))
    return socket


async def usage(runtime: Runtime, shortcut: str) -> int:
    async with runtime.uow() as uow:
        count = await uow.session.scalar(
            select(CannedReply.usage_count).where(
                CannedReply.shortcut == shortcut, CannedReply.language == "en"
            )
        )
    return int(count or 0)


async def agent_bodies(runtime: Runtime, ticket_id: int) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message.body)
            .where(Message.ticket_id == ticket_id, Message.author_kind == "agent")
            .order_by(Message.id)
        )
    return list(rows.all())


@dataclass
class PriyasChat:
    page: Any
    player: Player
    ticket_id: int
    conversation: Any  # the pane
    composer: Any
    chosen: str  # the text of the withdrawal reply, chosen into the composer


@asynccontextmanager
async def priyas_chat_with_a_reply_chosen(
    browser: Any, live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> AsyncIterator[PriyasChat]:
    """An agent's console with Priya's chat open and /withdrawal-pending chosen into the
    composer, not yet sent; the page must have raised no script error."""
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    async with await identified_player(live_server, runtime) as socket:
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("Hi, where is my withdrawal?"))["ticket_id"]
        await inbox_item(page, ticket_id).locator("a").click()
        conversation = pane(page, ticket_id)
        await expect(conversation.get_by_test_id("conversation-message")).to_have_count(1)
        composer = conversation.get_by_test_id("composer-input")
        await composer.click()
        await choose(conversation, "/withdrawal-p")
        await expect(composer).to_have_value(re.compile(r"^Hi Priya, I have checked"))
        chosen = await composer.input_value()
        yield PriyasChat(page, player, ticket_id, conversation, composer, chosen)
    assert console.errors == []
    await page.context.close()


async def choose(conversation: Any, prefix: str) -> None:
    """Types a shortcut's start in the composer and takes the one reply it finds."""
    composer = conversation.get_by_test_id("composer-input")
    await composer.press_sequentially(prefix)
    await expect(conversation.get_by_test_id("canned-option")).to_have_count(1)
    await composer.press("Enter")


async def test_agent_inserts_canned_replies_with_the_keyboard_and_sends_them(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    canned_replies: None,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page

    async with await identified_player(live_server, runtime) as socket:
        player = Player(socket)
        await player.receive("welcome")
        first = await player.say("Hi, where is my withdrawal?")
        ticket_id = first["ticket_id"]
        await inbox_item(page, ticket_id).locator("a").click()
        conversation = pane(page, ticket_id)
        await expect(conversation.get_by_test_id("conversation-message")).to_have_count(1)
        composer = conversation.get_by_test_id("composer-input")
        suggestions = conversation.get_by_test_id("canned-suggestions")
        options = conversation.get_by_test_id("canned-option")

        # "/" opens the list; typing narrows it; it is a listbox the arrows move through.
        await composer.click()
        await composer.press_sequentially("/")
        await expect(suggestions).to_be_visible()
        await expect(suggestions).to_have_attribute("role", "listbox")
        await composer.press_sequentially("w")
        await expect(options).to_have_count(2)  # waiting-for-player, withdrawal-pending
        await expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        await composer.press("ArrowDown")
        await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        await expect(options.nth(1)).to_contain_text("/withdrawal-pending")
        active = await composer.get_attribute("aria-activedescendant")
        assert active == await options.nth(1).get_attribute("id")
        await page.screenshot(path=str(screenshot_dir / "console-canned-suggestions.png"))

        # Esc closes the list and leaves the text; typing on opens it again.
        await composer.press("Escape")
        await expect(suggestions).to_be_hidden()
        await expect(composer).to_be_focused()
        await expect(composer).to_have_value("/w")
        await composer.press_sequentially("ith")
        await expect(options).to_have_count(1)
        await expect(options.first).to_contain_text("/withdrawal-pending")

        # Enter chooses: the reply comes back filled in from the back office.
        await composer.press("Enter")
        await expect(suggestions).to_be_hidden()
        await expect(composer).to_have_value(
            "Hi Priya, I have checked your account. Your withdrawal of €2,500.00 to Skrill, "
            "requested on 28 October 2026, has this status: pending review.\n\n"
            "We review withdrawals within 24 hours (within 4 hours for Gold and Platinum VIP "
            "members). After approval, Trustly and Swish payouts arrive within minutes, PayPal "
            "and Skrill within 24 hours, bank transfers in 1–3 business days and card payouts "
            "in 2–5 business days."
        )
        await expect(conversation.get_by_test_id("canned-unfilled")).to_be_hidden()
        await expect(conversation.get_by_test_id("canned-macro")).to_be_hidden()

        await composer.press("Control+Enter")
        reply = await player.next_from_support()
        assert reply["body"].startswith("Hi Priya, I have checked your account.")
        assert "{{" not in reply["body"]
        messages = conversation.get_by_test_id("conversation-message")
        await expect(messages).to_have_count(2)
        await expect(messages.nth(1)).to_contain_text("€2,500.00 to Skrill")
        await expect(composer).to_have_value("")
        assert await usage(runtime, "withdrawal-pending") == 1

        # Tab chooses too. Priya has no document missing: that placeholder stays, flagged.
        await composer.press_sequentially("Thanks! /docu")
        await expect(options).to_have_count(1)
        await expect(options.first).to_contain_text("/documents-missing")
        await composer.press("Tab")
        unfilled = conversation.get_by_test_id("canned-unfilled")
        await expect(unfilled).to_be_visible()
        await expect(unfilled.get_by_test_id("canned-unfilled-placeholder")).to_have_text(
            "{{kyc.missing_documents}}"
        )
        await expect(composer).to_have_attribute("aria-invalid", "true")
        value = await composer.input_value()
        assert value.startswith("Thanks! To complete the verification of your account")
        # The placeholder is selected in the text, ready to be typed over.
        selected = await composer.evaluate(
            "node => node.value.slice(node.selectionStart, node.selectionEnd)"
        )
        assert selected == "{{kyc.missing_documents}}"
        await page.screenshot(path=str(screenshot_dir / "console-canned-unfilled.png"))

        # Sending is refused in the page: nothing reaches the player or the database.
        await composer.press("Control+Enter")
        error = conversation.locator("[data-composer-error]")
        await expect(error).to_be_visible()
        await expect(error).to_contain_text("double braces")
        assert len(await agent_bodies(runtime, ticket_id)) == 1
        await expect(messages).to_have_count(2)

        # The agent types over the selected placeholder; the flag goes and the reply is sent.
        await composer.press_sequentially("a proof of your source of funds")
        await expect(unfilled).to_be_hidden()
        assert await composer.get_attribute("aria-invalid") is None
        await composer.press("Control+Enter")
        reply = await player.next_from_support()
        assert "we still need: a proof of your source of funds." in reply["body"]
        await expect(messages).to_have_count(3)
        assert await usage(runtime, "documents-missing") == 1

        # A macro says what else it does; sending it resolves the conversation and tags it.
        await composer.press_sequentially("/close")
        await expect(conversation.get_by_test_id("canned-option")).to_contain_text(
            ["/close-thanks"]
        )
        await composer.press("Enter")
        macro = conversation.get_by_test_id("canned-macro")
        await expect(macro).to_be_visible()
        await expect(macro).to_contain_text("sets the status to Resolved")
        await expect(macro).to_contain_text("adds the tags thanked")
        await expect(composer).to_have_value(
            "Thank you for contacting Starvale, Priya. We are glad we could help! If anything "
            "else comes up, we are here for you 24/7 in the chat. Have a lovely day!"
        )
        await page.screenshot(path=str(screenshot_dir / "console-canned-macro.png"))
        await conversation.get_by_test_id("composer-send").click()
        reply = await player.next_from_support()
        assert reply["body"].startswith("Thank you for contacting Starvale, Priya.")
        await expect(conversation.get_by_test_id("conversation-status")).to_have_text("Resolved")
        await expect(macro).to_be_hidden()
        ticket = await ticket_via_api(live_server, agent, ticket_id)
        assert ticket["status"] == "resolved"
        assert ticket["tags"] == ["thanked"]

    assert console.errors == []
    assert console.dialogs == []


async def test_the_composer_empties_as_a_reply_goes_out_for_the_next_message(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    canned_replies: None,
) -> None:
    """On a busy server the agent may start the next message before the server has answered
    the one sent, wherever the caret was left in it: the next message begins in an empty
    composer, and stays when the answer comes."""
    async with priyas_chat_with_a_reply_chosen(browser, live_server, runtime, make_agent) as chat:
        composer = chat.composer
        await composer.press("Control+Home")  # the caret inside the text sent
        late = LateAnswer()
        await chat.page.route("**/api/v1/canned-replies/*/apply", late.route)
        await composer.press("Control+Enter")
        await late.answered()  # sent and stored; the page has not heard back yet
        assert (await chat.player.next_from_support())["body"] == chat.chosen
        await expect(composer).to_have_value("")
        await composer.press_sequentially("/close")
        options = chat.conversation.get_by_test_id("canned-option")
        await expect(options).to_contain_text(["/close-thanks"])
        late.release()

        await expect(chat.conversation.get_by_test_id("conversation-message")).to_have_count(2)
        await expect(composer).to_have_value("/close")
        await expect(options).to_contain_text(["/close-thanks"])
        assert await agent_bodies(runtime, chat.ticket_id) == [chat.chosen]


async def test_a_reply_whose_answer_is_lost_comes_back_and_a_retry_sends_it_once(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    canned_replies: None,
) -> None:
    """The server stored the reply but the page heard a 503: the text comes back with the
    error, and sending it again neither stores nor counts it twice."""
    async with priyas_chat_with_a_reply_chosen(browser, live_server, runtime, make_agent) as chat:
        composer, text = chat.composer, chat.chosen
        error = chat.conversation.locator("[data-composer-error]")
        late = LateAnswer()
        await chat.page.route("**/api/v1/canned-replies/*/apply", late.route)
        await composer.press("Control+Enter")
        await late.answered()
        await expect(composer).to_have_value("")
        late.lose()
        await expect(composer).to_have_value(text)
        await expect(error).to_be_visible()
        assert (await chat.player.next_from_support())["body"] == text

        await chat.page.unroute("**/api/v1/canned-replies/*/apply")
        await composer.press("Control+Enter")
        await expect(composer).to_have_value("")
        await expect(error).to_be_hidden()
        await expect(chat.conversation.get_by_test_id("conversation-message")).to_have_count(2)
        assert await agent_bodies(runtime, chat.ticket_id) == [text]
        assert await usage(runtime, "withdrawal-pending") == 1

        # What the agent typed while the reply was under way stays, after the text back.
        await choose(chat.conversation, "/withdrawal-p")
        await expect(composer).to_have_value(text)
        late = LateAnswer()
        await chat.page.route("**/api/v1/canned-replies/*/apply", late.route)
        await composer.press("Control+Enter")
        await late.answered()
        await composer.press_sequentially("Anything else?")
        late.lose()
        await expect(composer).to_have_value(f"{text}\nAnything else?")


async def test_when_the_back_office_is_down_the_agent_is_told_and_fills_in(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    canned_replies: None,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    casino.faults.fail_status = 503

    async with await identified_player(live_server, runtime) as socket:
        player = Player(socket)
        await player.receive("welcome")
        first = await player.say("What is my balance?")
        ticket_id = first["ticket_id"]
        await inbox_item(page, ticket_id).locator("a").click()
        conversation = pane(page, ticket_id)
        composer = conversation.get_by_test_id("composer-input")
        await composer.click()
        await composer.press_sequentially("/balance")
        await expect(conversation.get_by_test_id("canned-option")).to_contain_text(["/balance"])
        await composer.press("Enter")
        unfilled = conversation.get_by_test_id("canned-unfilled")
        await expect(unfilled).to_contain_text("Account data unavailable")
        await expect(unfilled.get_by_test_id("canned-unfilled-placeholder")).to_have_text(
            ["{{balance.real}}", "{{balance.bonus}}", "{{balance.withdrawable}}"]
        )
        await page.screenshot(path=str(screenshot_dir / "console-canned-unavailable.png"))

        # Even with the page's check bypassed, the server refuses the text.
        await composer.evaluate("node => { node.value = node.value + ' '; }")
        response = await page.evaluate(
            """async (ticketId) => {
              const token = document.querySelector('meta[name="csrf-token"]').content;
              const list = await fetch(`/api/v1/canned-replies?prefix=balance&language=en`);
              const [reply] = await list.json();
              const sent = await fetch(`/api/v1/canned-replies/${reply.id}/apply`, {
                method: "POST",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
                body: JSON.stringify(
                  {ticket_id: ticketId, body: "Your balance is {{balance.real}}."}),
              });
              return {status: sent.status, problem: await sent.json()};
            }""",
            ticket_id,
        )
        assert response["status"] == 422
        assert [error["field"] for error in response["problem"]["errors"]] == ["body"]
        assert await agent_bodies(runtime, ticket_id) == []

    assert console.errors == []


async def test_a_supervisor_writes_a_macro_on_the_administration_page(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    async with runtime.uow() as uow:
        payments = await agent_service.create_team(uow, actor=Actor.system(), name="Payments")
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    console = await sign_in(browser, live_server, supervisor, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/admin/canned")
    await expect(page.get_by_test_id("nav-canned")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("no-canned")).to_be_visible()
    await expect(page.get_by_test_id("placeholder-list")).to_contain_text(
        "{{withdrawal.last.status}}"
    )

    form = page.get_by_test_id("canned-form")
    await form.get_by_test_id("canned-shortcut").fill("to-payments")
    await form.get_by_test_id("canned-title").fill("Hand over to Payments")
    await form.get_by_test_id("canned-body").fill("Hi {{player.nickname}}, payments will help.")
    await form.get_by_test_id("canned-move-team").select_option(str(payments.id))
    await form.get_by_test_id("canned-add-tags").fill("payments, escalated")
    await form.get_by_test_id("canned-save").click()

    # Refused, with the message next to the text and everything typed kept.
    await expect(page.get_by_test_id("field-error-body")).to_have_text(
        "Unknown placeholder {{player.nickname}}"
    )
    await expect(form.get_by_test_id("canned-add-tags")).to_have_value("payments, escalated")
    await form.get_by_test_id("canned-body").fill("Hi {{player.first_name}}, payments will help.")
    await form.get_by_test_id("canned-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    row = page.get_by_test_id("canned-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("/to-payments")
    await expect(row).to_contain_text("To team: Payments")
    await expect(row).to_contain_text("Tags: payments, escalated")
    await page.screenshot(path=str(screenshot_dir / "console-canned-admin.png"), full_page=True)

    async with runtime.uow() as uow:
        stored = await uow.session.scalar(select(CannedReply))
    assert stored is not None
    assert (stored.move_to_team_id, stored.add_tags) == (payments.id, ["payments", "escalated"])

    # An agent is shown the door.
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    other = await sign_in(browser, live_server, agent, locale="en-GB")
    response = await other.page.goto(f"{live_server.base_url}/console/admin/canned")
    assert response is not None and response.status == 403
    await expect(other.page.get_by_test_id("forbidden")).to_be_visible()
    assert console.errors == [] and other.errors == []
