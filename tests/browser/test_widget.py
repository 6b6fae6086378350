"""The player chat widget in real Chromium, on the demo casino page, against a live server."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import ConsoleMessage, Dialog, Page, expect
from websockets.asyncio.client import ClientConnection, connect

from playerdesk.clock import FrozenClock
from playerdesk.domain.enums import Presence
from playerdesk.runtime import Runtime
from playerdesk.services import auth, chat
from tests.conftest import AgentFactory, AgentLogin, LiveServer

PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


def png(width: int, height: int) -> bytes:
    """A valid PNG (a gradient), made here so the test needs no fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = (
        b"\x00" + b"".join(bytes((40 + x % 200, 30 + y % 180, 160)) for x in range(width))
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


async def receive(socket: ClientConnection, wanted: str, *, within: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == wanted:
                return dict(frame)


async def player_receipt(console: ClientConnection, *, delivered_up_to: int) -> dict[str, Any]:
    """The player's receipt for messages up to this id (the agent's own come back too)."""
    while True:
        frame = await receive(console, "receipt")
        if frame["side"] == "player" and frame["delivered_up_to"] == delivered_up_to:
            return frame


@asynccontextmanager
async def agent_console(
    server: LiveServer, runtime: Runtime, agent: AgentLogin
) -> AsyncIterator[ClientConnection]:
    """An agent's console websocket, signed in and online."""
    async with runtime.uow() as uow:
        login = await auth.login(
            uow,
            email=agent.email,
            password=PASSWORD,
            ip="127.0.0.1",
            user_agent=None,
            policy=runtime.policies.login,
        )
    async with connect(
        f"{server.ws_url}/ws/console",
        additional_headers={"Cookie": f"pd_session={login.session_token}"},
        origin=server.base_url,  # type: ignore[arg-type]
    ) as console:
        await console.send(json.dumps({"type": "hello"}))
        await receive(console, "welcome")
        yield console


async def go_online(runtime: Runtime, agent: AgentLogin) -> None:
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow,
            actor=agent.actor,
            presence=Presence.ONLINE,
            routing_policy=runtime.policies.routing,
        )


async def casino_page(browser: Any, url: str, **options: Any) -> tuple[Page, list[str]]:
    """A new browser context on `url` with the widget loaded, and the page's errors."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = await browser.new_context(**options)
    page: Page = await context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        errors.append(f"dialog: {dialog.message}")

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", on_console)
    page.on("dialog", on_dialog)
    await page.goto(url)
    await page.get_by_test_id("widget-launcher").wait_for()
    return page, errors


async def message_texts(page: Page) -> list[str]:
    bodies = page.get_by_test_id("widget-message").locator(".bubble")
    return [text.strip() for text in await bodies.all_inner_texts()]


async def reply(
    server: LiveServer, agent: AgentLogin, ticket_id: int, body: str, **extra: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"body": body, **extra},
            headers=agent.headers,
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def api_get(server: LiveServer, agent: AgentLogin, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get(f"/api/v1{path}", params=params, headers=agent.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_player_and_agent_chat_live(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(password=PASSWORD)
    async with agent_console(live_server, runtime, agent) as console:
        page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
        await page.screenshot(path=str(screenshot_dir / "widget-closed.png"))
        launcher = page.get_by_test_id("widget-launcher")
        await expect(launcher).to_have_attribute("aria-label", "Open the chat")
        await launcher.click()
        box = page.get_by_test_id("widget-input")
        await expect(box).to_be_focused()
        await expect(page.get_by_test_id("widget-empty")).to_be_visible()

        # Shift+Enter is a new line, Enter sends.
        await box.press_sequentially("Hi! Where is my withdrawal?")
        await box.press("Shift+Enter")
        await box.press_sequentially("It has been 3 days.")
        await box.press("Enter")
        created = await receive(console, "ticket.created")
        ticket_id = created["ticket"]["id"]
        assert created["ticket"]["channel"] == "web_chat"
        await console.send(json.dumps({"type": "watch", "ticket_id": ticket_id}))
        await receive(console, "watching")
        messages = page.get_by_test_id("widget-message")
        await expect(messages).to_have_count(1)
        await expect(messages.first).to_have_attribute("data-status", "sent")
        assert await message_texts(page) == ["Hi! Where is my withdrawal?\nIt has been 3 days."]
        await expect(box).to_have_value("")

        # Typing, both ways.
        await box.press_sequentially("Also")
        assert (await receive(console, "typing"))["typing"] is True
        await console.send(json.dumps({"type": "typing", "ticket_id": ticket_id, "typing": True}))
        typing = page.get_by_test_id("widget-typing")
        await expect(typing).to_be_visible()
        await expect(typing).to_contain_text("Support is typing")

        # The agent answers through the REST API; the player sees it and it is marked read.
        answer = await reply(live_server, agent, ticket_id, "Let me check that for you.")
        await expect(messages).to_have_count(2)
        await expect(messages.nth(1)).to_have_attribute("data-author", "agent")
        await expect(messages.nth(1).locator(".bubble")).to_have_text("Let me check that for you.")
        await expect(typing).to_be_hidden()
        receipt = await player_receipt(console, delivered_up_to=answer["id"])
        assert receipt["read_up_to"] == answer["id"]

        # The agent reads the player's message: "Read" under it.
        first_id = int(await messages.first.get_attribute("data-id") or 0)
        await console.send(json.dumps({"type": "read", "ticket_id": ticket_id, "up_to": first_id}))
        await expect(messages.first).to_have_attribute("data-status", "read")
        await expect(messages.first.locator(".status")).to_have_text("Read")

        # Markup from anyone is text, never HTML.
        await reply(live_server, agent, ticket_id, XSS)
        await expect(messages).to_have_count(3)
        await expect(messages.nth(2).locator(".bubble")).to_have_text(XSS)
        assert await page.get_by_test_id("widget-panel").locator("img").count() == 0
        await page.screenshot(path=str(screenshot_dir / "widget-chat.png"))

        # Escape closes and gives the focus back to the launcher.
        await box.press("Escape")
        await expect(page.get_by_test_id("widget-panel")).to_be_hidden()
        await expect(launcher).to_be_focused()

        # A reply while the panel is closed: delivered, counted on the launcher, read on opening.
        later = await reply(live_server, agent, ticket_id, "Found it: it was paid out today.")
        badge = page.get_by_test_id("widget-badge")
        await expect(badge).to_have_text("1")
        delivered = await player_receipt(console, delivered_up_to=later["id"])
        assert delivered["read_up_to"] < later["id"]
        await launcher.click()
        await expect(badge).to_be_hidden()
        read = await player_receipt(console, delivered_up_to=later["id"])
        assert read["read_up_to"] == later["id"]
        assert errors == []


async def test_reconnects_after_a_network_drop_without_loss_or_duplicates(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
) -> None:
    agent = await make_agent()
    await go_online(runtime, agent)
    page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    await page.get_by_test_id("widget-launcher").click()
    box = page.get_by_test_id("widget-input")
    messages = page.get_by_test_id("widget-message")
    await box.fill("Hello, is anyone there?")
    await box.press("Enter")
    await expect(messages.first).to_have_attribute("data-status", "sent")
    tickets = await api_get(live_server, agent, "/tickets", channel="web_chat")
    ticket_id = tickets["items"][0]["id"]

    # The network goes away. Meanwhile the agent answers, and the widget session expires.
    await page.context.set_offline(True)
    await expect(page.get_by_test_id("widget-reconnecting")).to_be_visible()
    await reply(live_server, agent, ticket_id, "Yes, Olivia here.")
    await reply(live_server, agent, ticket_id, "How can I help?")
    clock.advance(timedelta(hours=2))
    await go_online(runtime, agent)
    await box.fill("My deposit is missing")
    await box.press("Enter")
    await expect(messages.last).to_have_attribute("data-status", "pending")

    # Back online: caught up, the offline message delivered, nothing twice.
    await page.context.set_offline(False)
    expected = [
        "Hello, is anyone there?",
        "Yes, Olivia here.",
        "How can I help?",
        "My deposit is missing",
    ]
    await expect(messages).to_have_count(4)
    await expect(messages.last).to_have_attribute("data-status", "sent")
    await expect(page.get_by_test_id("widget-reconnecting")).to_be_hidden()
    assert await message_texts(page) == expected

    # The new connection is live, and the server stored every message once.
    await reply(live_server, agent, ticket_id, "Checking the deposit now.")
    await expect(messages).to_have_count(5)
    stored = await api_get(live_server, agent, f"/tickets/{ticket_id}/messages")
    assert [message["body"] for message in stored] == [*expected, "Checking the deposit now."]

    # A new page view (the panel stays open across pages) shows the same history once.
    await page.reload()
    await expect(messages).to_have_count(5)
    assert await message_texts(page) == [*expected, "Checking the deposit now."]
    unexpected = [
        error
        for error in errors
        if "ERR_INTERNET_DISCONNECTED" not in error  # the browser logs failed attempts
    ]
    assert unexpected == []


async def test_no_agent_online_leaves_a_message_for_an_email_ticket(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory, screenshot_dir: Path
) -> None:
    agent = await make_agent()  # exists, but nobody is online
    page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    await page.get_by_test_id("widget-launcher").click()
    await expect(page.get_by_test_id("widget-offline")).to_be_visible()
    await expect(page.get_by_test_id("widget-subtitle")).to_have_text(
        "No one can answer the chat right now."
    )
    await expect(page.get_by_test_id("widget-input")).to_be_hidden()
    email = page.get_by_test_id("widget-offline-email")
    await expect(email).to_be_focused()
    await page.screenshot(path=str(screenshot_dir / "widget-offline.png"))

    await page.get_by_test_id("widget-offline-send").click()
    await expect(email).to_have_attribute("aria-invalid", "true")
    await email.fill("nina.holm@example.com")
    await page.get_by_test_id("widget-offline-name").fill("Nina Holm")
    await page.get_by_test_id("widget-offline-message").fill("My bonus was not credited.")
    await page.get_by_test_id("widget-offline-send").click()
    thanks = page.get_by_test_id("widget-offline-thanks")
    await expect(thanks).to_be_visible()

    tickets = await api_get(live_server, agent, "/tickets", channel="email")
    assert len(tickets["items"]) == 1
    ticket = tickets["items"][0]
    await expect(thanks).to_contain_text(f"Your ticket number is {ticket['number']}")
    messages = await api_get(live_server, agent, f"/tickets/{ticket['id']}/messages")
    assert [message["body"] for message in messages] == ["My bonus was not credited."]
    await page.screenshot(path=str(screenshot_dir / "widget-offline-sent.png"))
    assert errors == []


async def test_a_logged_in_player_uploads_a_screenshot(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent()
    await go_online(runtime, agent)
    page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino?player=C-2001")
    await expect(page.get_by_test_id("demo-identity")).to_contain_text("C-2001")
    await page.get_by_test_id("widget-launcher").click()
    file_input = page.get_by_test_id("widget-file")

    # Checked here first: a program is refused before any upload.
    await file_input.set_input_files(
        {"name": "tool.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00"}
    )
    await expect(page.get_by_test_id("widget-notice")).to_have_text(
        "This type of file cannot be sent."
    )
    await expect(page.get_by_test_id("widget-message")).to_have_count(0)

    await file_input.set_input_files(
        {"name": "deposit-receipt.png", "mimeType": "image/png", "buffer": png(180, 120)}
    )
    message = page.get_by_test_id("widget-message")
    await expect(message).to_have_count(1)
    await expect(message).to_have_attribute("data-status", "sent")
    image = message.get_by_test_id("widget-attachment").locator("img")
    await expect(image).to_have_attribute("alt", "deposit-receipt.png")
    await expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    assert await image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 180

    tickets = await api_get(live_server, agent, "/tickets", channel="web_chat")
    ticket = tickets["items"][0]
    player = await api_get(live_server, agent, "/players/C-2001")
    assert ticket["player_id"] == player["id"]
    stored = await api_get(live_server, agent, f"/tickets/{ticket['id']}/messages")
    assert [item["filename"] for item in stored[0]["attachments"]] == ["deposit-receipt.png"]
    await page.screenshot(path=str(screenshot_dir / "widget-upload.png"))
    assert errors == []


async def test_the_widget_speaks_the_page_language_on_a_phone(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent()
    await go_online(runtime, agent)
    page, errors = await casino_page(
        browser,
        f"{live_server.base_url}/demo/casino?lang=pl",
        locale="en-GB",  # the page's language wins over the browser's
        viewport={"width": 390, "height": 780},
        has_touch=True,
    )
    launcher = page.get_by_test_id("widget-launcher")
    await expect(launcher).to_have_attribute("aria-label", "Otwórz czat")
    await launcher.click()
    await expect(page.get_by_test_id("widget-title")).to_have_text("Czat z obsługą")
    await expect(page.get_by_test_id("widget-input")).to_have_attribute(
        "placeholder", "Napisz wiadomość…"
    )
    await expect(page.get_by_test_id("widget-send")).to_have_attribute("aria-label", "Wyślij")
    await page.screenshot(path=str(screenshot_dir / "widget-pl-phone.png"))
    await page.get_by_test_id("widget-close").click()
    await expect(page.get_by_test_id("widget-panel")).to_be_hidden()
    await expect(launcher).to_have_attribute("aria-label", "Otwórz czat")
    assert errors == []


async def test_a_waiting_player_sees_their_place_in_the_queue_until_an_agent_takes_it(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    from playerdesk.domain.enums import TicketStatus
    from playerdesk.services import tickets as ticket_service

    agent = await make_agent(max_chats=1)
    await go_online(runtime, agent)
    first_page, first_errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    await first_page.get_by_test_id("widget-launcher").click()
    await first_page.get_by_test_id("widget-input").fill("I need help with a deposit")
    await first_page.get_by_test_id("widget-send").click()
    await expect(first_page.get_by_test_id("widget-message")).to_have_attribute(
        "data-status", "sent"
    )
    taken = await api_get(live_server, agent, "/tickets", assignee_id=agent.id)
    for _ in range(50):  # the assignment is committed with the message; its ack may lead
        if taken["items"]:
            break
        await asyncio.sleep(0.1)
        taken = await api_get(live_server, agent, "/tickets", assignee_id=agent.id)
    assert len(taken["items"]) == 1  # the only agent is now full

    page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    await page.get_by_test_id("widget-launcher").click()
    await page.get_by_test_id("widget-input").fill("Hello, is anyone there?")
    await page.get_by_test_id("widget-send").click()
    queue = page.get_by_test_id("widget-queue")
    await expect(queue).to_have_text(
        "All our agents are busy. You are number 1 in the queue. Estimated wait: about 4 min."
    )
    await page.screenshot(path=str(screenshot_dir / "widget-queue.png"))

    # The agent resolves the first chat: the waiting one is theirs at once, the notice goes.
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=taken["items"][0]["id"],
            changes=ticket_service.TicketChanges(status=TicketStatus.RESOLVED),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )
    await expect(queue).to_be_hidden()
    mine = await api_get(live_server, agent, "/tickets", assignee_id=agent.id, status="new")
    assert [item["subject"] for item in mine["items"]] == ["Hello, is anyone there?"]
    assert errors == [] and first_errors == []
