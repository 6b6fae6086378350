"""An email conversation in real Chromium: a mail sent to the SMTP receiver shows up in the
console, the agent's reply goes out through the outbox to an SMTP sink and the console says
so live; a bounce marks the address, and the agent is warned above the composer."""

from __future__ import annotations

import asyncio
import email.policy
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from playerdesk.adapters.email_in import start_smtp_receiver
from playerdesk.adapters.email_out import SmtpTransport
from playerdesk.db.models import Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.jobs.outbox import deliver_outbox, email_sender
from playerdesk.runtime import Runtime
from tests.browser.test_console import (
    PASSWORD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    inbox_item,
    pane,
    sign_in,
)
from tests.conftest import AgentFactory, LiveServer
from tests.services.test_inbound_email import bounce_for
from tests.smtp_sink import SinkBehaviour, SmtpSink, free_port


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def player_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Erik Lund <erik@example.se>"
    message["To"] = "support@playerdesk.localhost"
    message["Subject"] = "Mitt uttag har inte kommit"
    message["Message-ID"] = "<uttag-1@example.se>"
    message.set_content("Hej, mitt uttag på 500 kr har inte kommit fram.")
    return message.as_bytes(policy=email.policy.SMTP)


def send(port: int, data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("erik@example.se", ["support@playerdesk.localhost"], data)


async def test_an_email_conversation_shows_its_delivery_and_a_bounce(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    sink: SmtpSink,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, languages=["en", "sv"])
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    receiver_port = free_port()
    receiver = await start_smtp_receiver(runtime, host="127.0.0.1", port=receiver_port)
    senders = {
        Channel.EMAIL.value: email_sender(
            runtime, SmtpTransport.from_url(sink.url, timeout_seconds=5)
        )
    }
    try:
        await asyncio.to_thread(send, receiver_port, player_mail())
        async with runtime.read_uow() as uow:
            ticket = await uow.session.scalar(select(Ticket))
        assert ticket is not None
        item = inbox_item(page, ticket.id)
        await expect(item).to_be_visible()
        await item.locator("a").click()
        conversation = pane(page, ticket.id)
        messages = conversation.get_by_test_id("conversation-message")
        await expect(messages.first).to_contain_text("mitt uttag på 500 kr")
        original = messages.first.get_by_test_id("message-original")
        await expect(original).to_have_text("Original email")
        async with page.expect_download() as download_info:
            await original.click()
        download = await download_info.value
        saved = await download.path()
        assert saved is not None
        assert await asyncio.to_thread(Path(saved).read_bytes) == player_mail()

        composer = conversation.get_by_test_id("composer-input")
        await composer.fill("Hej Erik! Uttaget skickades i dag.")
        await composer.press("Control+Enter")
        await expect(messages).to_have_count(2)
        # The acknowledgement and the reply go out; the console learns it live.
        assert await deliver_outbox(runtime, senders=senders) == {"sent": 2, "retry": 0, "dead": 0}
        delivery = messages.nth(1).get_by_test_id("message-delivery")
        await expect(delivery).to_have_text("Email sent")
        await expect(delivery).to_have_attribute("data-status", "sent")
        reply = sink.received[-1].message
        assert reply["To"] == "Erik Lund <erik@example.se>"

        # The next reply is refused by the player's server: not delivered, and the bounce
        # that follows marks the address; the agent sees both.
        sink.behaviour = SinkBehaviour(refuse_with="550 5.1.1 User unknown", refusals_left=1)
        await composer.fill("Har du fått pengarna?")
        await composer.press("Control+Enter")
        await expect(messages).to_have_count(3)
        assert await deliver_outbox(runtime, senders=senders) == {"sent": 0, "retry": 0, "dead": 1}
        failed = messages.nth(2).get_by_test_id("message-delivery")
        await expect(failed).to_have_attribute("data-status", "dead")
        await expect(failed).to_have_text("Email not delivered")
        await expect(failed).to_have_attribute("title", "SMTP 550: 5.1.1 User unknown")
        await asyncio.to_thread(
            send, receiver_port, bounce_for("erik@example.se", original_id="nothing@x")
        )
        await page.reload()
        await inbox_item(page, ticket.id).locator("a").click()
        warning = pane(page, ticket.id).get_by_test_id("address-failing")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("Mail to erik@example.se bounced or was refused")
        await page.screenshot(path=str(screenshot_dir / "console-email-delivery.png"))
    finally:
        receiver.close()
        await receiver.wait_closed()
    assert console.errors == []
    assert console.dialogs == []
    await page.context.close()
