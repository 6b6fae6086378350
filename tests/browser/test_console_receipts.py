"""Receipts from the player's messenger in the console, in real Chromium: Viber's
`delivered` / `seen` callbacks and WhatsApp's `delivered` / `read` statuses, posted to the
webhooks, show under the agent's replies live ("Delivered to the player", then "Read by the
player"), and again after a reload."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy import select

from playerdesk.adapters import viber, whatsapp
from playerdesk.db.models import OutboxItem
from playerdesk.domain.enums import AgentRole
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from tests import messenger_fixtures
from tests.browser.test_console import (
    PASSWORD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    pane,
    sign_in,
)
from tests.conftest import AgentFactory, LiveServer
from tests.viber_api import event_callback, sign, text_callback
from tests.whatsapp_api import (
    signature,
    status,
    text_message,
)

# The local WhatsApp and Viber APIs, and settings that point the desk at both.
graph_api = messenger_fixtures.graph_api
viber_api = messenger_fixtures.viber_api
settings = messenger_fixtures.settings


async def player_writes(runtime: Runtime, channel: str) -> int:
    if channel == "viber":
        taken = await viber.take_callback(
            runtime, raw=json.dumps(text_callback("Where is my withdrawal?")).encode()
        )
        assert taken.ticket_id is not None
        return taken.ticket_id
    notification = text_message("Where is my withdrawal?", message_id="wamid.IN1")
    received = await whatsapp.take_notification(runtime, raw=json.dumps(notification).encode())
    [ticket_id] = received.ticket_ids
    return ticket_id


async def provider_ids(runtime: Runtime) -> list[str]:
    async with runtime.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    return [str(row.provider_message_id) for row in rows]


async def report(server: LiveServer, channel: str, provider_id: str, state: str) -> None:
    """What the provider's webhook call says about one of our messages."""
    if channel == "viber":
        body = json.dumps(
            event_callback("seen" if state == "read" else state, message_token=int(provider_id))
        ).encode()
        headers = {"X-Viber-Content-Signature": sign(body)}
        path = "/webhooks/viber"
    else:
        body = json.dumps(status(provider_id, state)).encode()
        headers = {"X-Hub-Signature-256": signature(body)}
        path = "/webhooks/whatsapp"
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("channel", ["viber", "whatsapp"])
async def test_messenger_receipts_show_under_the_replies(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    channel: str,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    ticket_id = await player_writes(runtime, channel)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/tickets/{ticket_id}")
    conversation = pane(page, ticket_id)
    messages = conversation.get_by_test_id("conversation-message")
    await expect(messages).to_have_count(1)

    composer = conversation.get_by_test_id("composer-input")
    for body in ("Let me check that for you.", "It was sent today."):
        await composer.fill(body)
        await composer.press("Control+Enter")
        await expect(messages.last).to_contain_text(body)
    await expect(messages).to_have_count(3)
    assert (await deliver_outbox(runtime))["sent"] == 2
    first_id, second_id = await provider_ids(runtime)
    first, second = messages.nth(1), messages.nth(2)
    receipts = conversation.get_by_test_id("message-receipt")
    await expect(receipts.filter(visible=True)).to_have_count(0)

    await report(live_server, channel, first_id, "delivered")
    await expect(first.get_by_test_id("message-receipt")).to_have_text("Delivered to the player")
    await expect(second.get_by_test_id("message-receipt")).to_be_hidden()

    await report(live_server, channel, second_id, "delivered")
    await report(live_server, channel, first_id, "read")
    await expect(first.get_by_test_id("message-receipt")).to_have_text("Read by the player")
    await expect(second.get_by_test_id("message-receipt")).to_have_text("Delivered to the player")

    # After a reload the console shows the same, from the conversation's watermarks.
    await page.reload()
    conversation = pane(page, ticket_id)
    messages = conversation.get_by_test_id("conversation-message")
    await expect(messages).to_have_count(3)
    await expect(messages.nth(1).get_by_test_id("message-receipt")).to_have_text(
        "Read by the player"
    )
    await expect(messages.nth(2).get_by_test_id("message-receipt")).to_have_text(
        "Delivered to the player"
    )

    await report(live_server, channel, second_id, "read")
    await expect(messages.nth(2).get_by_test_id("message-receipt")).to_have_text(
        "Read by the player"
    )
    # Only the newest read reply says so.
    await expect(messages.nth(1).get_by_test_id("message-receipt")).to_be_hidden()
    assert console.errors == []
    assert console.dialogs == []
    await page.context.close()
