"""The agent console in real Chromium against a live server, with players on the widget
websocket: live inbox, conversations, composer, actions, several chats, Polish UI."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from playwright.async_api import Page, expect
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from playerdesk.db.models import Agent, Ticket
from playerdesk.domain.enums import AgentRole, Priority
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from tests.conftest import AgentFactory, AgentLogin, LiveServer

PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1440, "height": 900}
POLL_SECONDS = 0.05

# Stand-ins for the browser's notification permission prompt and a counter for the chime, so
# the test sees what the console asked the browser to do.
ALERT_SPY = """
window.__notifications = [];
window.__chimes = 0;
document.addEventListener("playerdesk:chime", () => { window.__chimes += 1; });
class RecordingNotification {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  addEventListener() {}
  close() {}
}
window.Notification = RecordingNotification;
"""


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with the smallest cost: the same code path, without 64 MiB per sign-in."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


# The player's side ------------------------------------------------------------------------


class Player:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def receive(self, wanted: str, *, within: float = 5) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.socket.recv())
                if frame["type"] == wanted:
                    return dict(frame)

    async def next_from_support(self) -> dict[str, Any]:
        """The next message shown to the player that the player did not write."""
        while True:
            frame = await self.receive("message.new")
            if frame["message"]["author"] != "player":
                return dict(frame["message"])

    async def say(self, body: str) -> dict[str, Any]:
        client_msg_id = str(uuid.uuid4())
        await self.socket.send(
            json.dumps({"type": "message.send", "client_msg_id": client_msg_id, "body": body})
        )
        ack = await self.receive("message.ack")
        return dict(ack["message"])

    async def typing(self, typing: bool) -> None:
        await self.socket.send(json.dumps({"type": "typing", "typing": typing}))


async def player_socket(server: LiveServer, language: str = "en") -> ClientConnection:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/widget/v1/session", json={"language": language})
    assert response.status_code == 200, response.text
    socket = await connect(f"{server.ws_url}/ws/widget?token={response.json()['token']}")
    await socket.send(json.dumps({"type": "hello", "last_seen_id": 0}))
    return socket


# The agent's side ---------------------------------------------------------------------------


@dataclass
class Console:
    page: Page
    errors: list[str] = field(default_factory=list)  # uncaught script errors
    dialogs: list[str] = field(default_factory=list)  # alert() and friends: must stay empty


async def sign_in(browser: Any, server: LiveServer, agent: AgentLogin, *, locale: str) -> Console:
    context = await browser.new_context(
        viewport=VIEWPORT, locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    await context.add_init_script(ALERT_SPY)
    page: Page = await context.new_page()
    console = Console(page)
    page.on("pageerror", lambda error: console.errors.append(str(error)))

    async def on_dialog(dialog: Any) -> None:
        console.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    await page.goto(f"{server.base_url}/console/login")
    await page.get_by_test_id("login-email").fill(agent.email)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(f"{server.base_url}/console")
    await until_true(page, "Boolean(window.playerdesk && window.playerdesk.socket.connected)")
    return console


class LateAnswer:
    """Holds back the server's answer to a request the page makes: fetched at once (so it
    shows the state of now), it reaches the page only on `release`."""

    def __init__(self) -> None:
        self._answered = asyncio.Event()
        self._released = asyncio.Event()
        self._lost = False

    async def route(self, route: Any) -> None:
        response = await route.fetch()
        self._answered.set()
        await self._released.wait()
        if self._lost:
            await route.fulfill(
                status=503,
                content_type="application/problem+json",
                body=json.dumps({"title": "Service Unavailable", "status": 503}),
            )
        else:
            await route.fulfill(response=response)

    async def answered(self) -> None:
        await asyncio.wait_for(self._answered.wait(), timeout=10)

    def release(self) -> None:
        self._released.set()

    def lose(self) -> None:
        """The server did the work, but what reaches the page is a 503."""
        self._lost = True
        self._released.set()


def inbox_item(page: Page, ticket_id: int) -> Any:
    return page.locator(f'[data-testid="inbox-item"][data-ticket-id="{ticket_id}"]')


def pane(page: Page, ticket_id: int) -> Any:
    return page.locator(f'[data-testid="conversation"][data-ticket-id="{ticket_id}"]')


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 5) -> None:
    for _ in range(int(within / POLL_SECONDS)):
        if await check():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"not true within {within} s")


async def until_true(page: Page, expression: str) -> None:
    """Poll a page expression. (Not `wait_for_function`: its polling uses eval, which the
    console's CSP rightly forbids.)"""

    async def check() -> bool:
        return bool(await page.evaluate(expression))

    await eventually(check)


async def ticket_via_api(server: LiveServer, agent: AgentLogin, ticket_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=agent.headers) as http:
        response = await http.get(f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200
    return dict(response.json())


async def messages_via_api(
    server: LiveServer, agent: AgentLogin, ticket_id: int
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=agent.headers) as http:
        response = await http.get(f"/api/v1/tickets/{ticket_id}/messages")
    assert response.status_code == 200
    return list(response.json())


async def presence_of(runtime: Runtime, agent_id: int) -> str:
    async with runtime.uow() as uow:
        return str(await uow.session.scalar(select(Agent.presence).where(Agent.id == agent_id)))


async def agent_read_up_to(runtime: Runtime, ticket_id: int) -> int | None:
    async with runtime.uow() as uow:
        return await uow.session.scalar(
            select(Ticket.agent_read_up_to).where(Ticket.id == ticket_id)
        )


# Tests ----------------------------------------------------------------------------------


async def test_agent_answers_a_live_chat_from_the_console(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    await eventually(lambda: _is(presence_of(runtime, agent.id), "online"))
    message_posts: list[str] = []
    page.on(
        "request",
        lambda request: (
            message_posts.append(request.url)
            if request.method == "POST" and request.url.endswith("/messages")
            else None
        ),
    )

    async with await player_socket(live_server) as socket:
        player = Player(socket)
        await player.receive("welcome")
        first = await player.say("Hi! Where is my withdrawal?")
        ticket_id = first["ticket_id"]

        # The new chat appears in the inbox without a reload, counted unread, with a chime
        # and a desktop notification.
        item = inbox_item(page, ticket_id)
        await expect(item).to_be_visible()
        await expect(item.get_by_test_id("inbox-unread")).to_have_text("1")
        await expect(item).to_contain_text("Hi! Where is my withdrawal?")
        await until_true(page, "window.__chimes >= 1")
        notifications = await page.evaluate("window.__notifications")
        assert len(notifications) == 1
        assert notifications[0]["body"] == "Hi! Where is my withdrawal?"
        await page.screenshot(path=str(screenshot_dir / "console-inbox.png"))

        # Opening it shows the history and marks it read.
        await item.locator("a").click()
        conversation = pane(page, ticket_id)
        await expect(conversation).to_be_visible()
        messages = conversation.get_by_test_id("conversation-message")
        await expect(messages).to_have_count(1)
        await expect(messages.first).to_contain_text("Where is my withdrawal?")
        await expect(messages.first).to_contain_text("Player")
        await expect(item.get_by_test_id("inbox-unread")).to_be_hidden()
        await eventually(lambda: _is(agent_read_up_to(runtime, ticket_id), first["id"]))

        # The player's typing shows; their next message arrives live.
        indicator = conversation.get_by_test_id("typing-indicator")
        await _until_visible(indicator, lambda: player.typing(True))
        await expect(indicator).to_have_text("The player is typing…")
        await player.say("It has been three days.")
        await expect(messages).to_have_count(2)
        await expect(indicator).to_be_hidden()
        await expect(item.get_by_test_id("inbox-unread")).to_be_hidden()

        # The agent's typing reaches the player; Ctrl+Enter sends the reply.
        composer = conversation.get_by_test_id("composer-input")
        await composer.fill("Let me check that for you.")
        assert (await player.receive("typing"))["typing"] is True
        await composer.press("Control+Enter")
        reply = await player.next_from_support()
        assert reply["body"] == "Let me check that for you."
        await expect(messages).to_have_count(3)
        await expect(composer).to_have_value("")

        # An internal note looks different and never reaches the player.
        await composer.press("Escape")
        await page.keyboard.press("n")
        await expect(composer).to_be_focused()
        await composer.fill("PSP says the payout is stuck; ask finance.")
        await conversation.get_by_test_id("composer-send").click()
        note = messages.nth(3)
        await expect(note).to_contain_text("PSP says the payout is stuck")
        await expect(note).to_have_class("message message-agent message-note")
        await expect(note).to_contain_text("Internal note")
        await page.keyboard.press("Escape")
        await page.keyboard.press("r")
        await composer.fill("Finance is on it.")
        await conversation.get_by_test_id("composer-send").click()
        following = await player.next_from_support()
        assert following["body"] == "Finance is on it."  # not the note
        stored = await messages_via_api(live_server, agent, ticket_id)
        assert [(m["kind"], m["author_kind"]) for m in stored][-2:] == [
            ("note", "agent"),
            ("reply", "agent"),
        ]
        assert message_posts == []  # replies and notes went over the console socket

        # When the socket cannot carry a reply, it goes over the REST API instead.
        await page.evaluate("window.playerdesk.socket.send = () => false")
        await composer.fill("Still checking.")
        await conversation.get_by_test_id("composer-send").click()
        assert (await player.next_from_support())["body"] == "Still checking."
        assert len(message_posts) == 1
        await page.evaluate("delete window.playerdesk.socket.send")

        # Player-typed markup is text, never HTML.
        hostile = "<img src=x onerror=alert(1)>"
        await player.say(hostile)
        last = messages.last
        await expect(last.locator(".message-body")).to_have_text(hostile)
        assert await conversation.locator(".messages img").count() == 0

        # Routing gave the chat to the only agent online; resolve it (keyboard), checked
        # through the API.
        await eventually(
            lambda: _field(ticket_via_api(live_server, agent, ticket_id), "assignee_id", agent.id)
        )
        await expect(conversation.get_by_test_id("assign-me")).to_be_hidden()
        await expect(item).to_contain_text("You")
        await composer.focus()
        await composer.press("Escape")  # out of the message box, where letters are shortcuts
        await page.keyboard.press("e")
        await eventually(
            lambda: _field(ticket_via_api(live_server, agent, ticket_id), "status", "resolved")
        )
        await expect(conversation.get_by_test_id("conversation-status")).to_have_text("Resolved")
        await expect(item.locator(".status")).to_have_text("Resolved")
        await page.screenshot(path=str(screenshot_dir / "console-conversation.png"))

    assert console.dialogs == []
    assert console.errors == []
    await page.context.close()


async def test_a_chat_shown_live_stays_when_an_older_inbox_page_arrives(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> None:
    """On a busy server the inbox page the console fetches on (re)connecting can be rendered
    before a new chat and arrive after the chat's live frame: the row must not vanish with
    the old panel."""
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    panel_url = await page.locator("[data-inbox-panel]").get_attribute("data-url")
    assert panel_url
    late = LateAnswer()
    await page.route(lambda url: url == live_server.base_url + panel_url, late.route)
    await page.evaluate("void window.playerdesk.inbox.refresh()")
    await late.answered()  # the page is rendered now, before the chat exists
    await page.evaluate("document.querySelector('[data-inbox-panel]').dataset.old = 'yes'")

    async with await player_socket(live_server) as socket:
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("Where is my withdrawal?"))["ticket_id"]
        await expect(inbox_item(page, ticket_id)).to_be_visible()  # live, in the old panel
        late.release()
        await expect(page.locator("[data-inbox-panel][data-old]")).to_have_count(0)
        await expect(inbox_item(page, ticket_id)).to_be_visible()
    assert console.errors == []
    await page.context.close()


@dataclass
class HeldChat:
    agent: AgentLogin
    console: Console
    player: Player
    ticket_id: int
    conversation: Any  # the pane, its load held back
    late: LateAnswer


@asynccontextmanager
async def a_chat_opened_with_its_load_held(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> AsyncIterator[HeldChat]:
    """An agent's console with a new chat opened from the inbox whose own request the server
    answers at once, but whose answer reaches the page only on `late.release()`. The player
    stays connected inside; the page must have raised no script error."""
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    async with await player_socket(live_server) as socket:
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("Where is my withdrawal?"))["ticket_id"]
        late = LateAnswer()
        await page.route(f"**/console/tickets/{ticket_id}/conversation", late.route)
        await inbox_item(page, ticket_id).locator("a").click()
        await late.answered()
        yield HeldChat(agent, console, player, ticket_id, pane(page, ticket_id), late)
    assert console.errors == []
    await page.context.close()


async def test_a_change_made_while_a_conversation_loads_is_not_undone_by_the_load(
    browser: Any, live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> None:
    """The server can answer the conversation's request before a change whose live frame
    then arrives first: the older answer must not put the pane back."""
    async with a_chat_opened_with_its_load_held(browser, live_server, make_agent) as chat:
        async with runtime.uow() as uow:  # the held answer was made before this change
            await ticket_service.update_ticket(
                uow,
                actor=chat.agent.actor,
                ticket_id=chat.ticket_id,
                changes=ticket_service.TicketChanges(priority=Priority.URGENT),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )
        priority = chat.conversation.get_by_test_id("priority-select")
        await expect(priority).to_have_value("urgent")  # the live frame
        chat.late.release()
        messages = chat.conversation.get_by_test_id("conversation-message")
        await expect(messages).to_have_count(1)  # the held answer is in
        await expect(priority).to_have_value("urgent")


async def test_what_arrives_before_the_load_leaves_the_actions_the_status_decides(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> None:
    """A player's message brings the conversation's SLA badge, which tells nothing of its
    status: while the conversation loads, the actions that only the status can take away
    stay."""
    async with a_chat_opened_with_its_load_held(browser, live_server, make_agent) as chat:
        page = chat.console.page
        conversation = chat.conversation
        async with page.expect_response(lambda r: "/console/sla?" in r.url) as sla:
            await chat.player.say("Are you there?")
        assert (await (await sla.value).json())["sla"]  # the badge's answer, before the load's
        for action in ("resolve", "escalate", "transfer"):
            await expect(conversation.get_by_test_id(action)).to_be_visible()
        chat.late.release()
        await expect(conversation.get_by_test_id("conversation-message")).to_have_count(2)
        await expect(conversation.get_by_test_id("conversation-status")).to_have_text("New")
        for action in ("resolve", "escalate", "transfer"):
            await expect(conversation.get_by_test_id(action)).to_be_visible()


async def test_a_reply_sent_before_the_conversation_has_loaded_is_sent_once_it_has(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> None:
    """On a busy server an agent can write and press send before the conversation's own
    request has answered: the reply goes once it has, instead of the button doing nothing."""
    async with a_chat_opened_with_its_load_held(browser, live_server, make_agent) as chat:
        composer = chat.conversation.get_by_test_id("composer-input")
        await composer.fill("It is on its way.")
        await chat.conversation.get_by_test_id("composer-send").click()
        chat.late.release()
        assert (await chat.player.next_from_support())["body"] == "It is on its way."
        await expect(composer).to_have_value("")
        messages = chat.conversation.get_by_test_id("conversation-message")
        await expect(messages).to_have_count(2)  # the player's and the reply, once each


async def test_an_action_pressed_before_the_conversation_has_loaded_is_carried_out(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> None:
    """An action pressed before the conversation has loaded (here Resolve, by its key) is
    carried out once it has, instead of doing nothing."""
    async with a_chat_opened_with_its_load_held(browser, live_server, make_agent) as chat:
        await chat.conversation.get_by_test_id("composer-input").press("Escape")
        await chat.console.page.keyboard.press("e")
        chat.late.release()
        await expect(chat.conversation.get_by_test_id("reopen")).to_be_visible()
        status = chat.conversation.get_by_test_id("conversation-status")
        await expect(status).to_have_text("Resolved")


async def test_two_chats_at_once_in_polish_with_presence_and_sign_out(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.SENIOR, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="pl-PL")
    page = console.page
    await page.evaluate("window.__sameDocument = true")

    assert await page.get_by_test_id("view-mine").inner_text() == "Moje"
    await expect(page.get_by_test_id("presence-online")).to_have_text("Dostępny")

    async with (
        await player_socket(live_server, "pl") as first_socket,
        await player_socket(live_server, "pl") as second_socket,
    ):
        anna, jan = Player(first_socket), Player(second_socket)
        await anna.receive("welcome")
        await jan.receive("welcome")
        anna_ticket = (await anna.say("Dzień dobry, mam pytanie o bonus."))["ticket_id"]
        jan_ticket = (await jan.say("Nie mogę się zalogować."))["ticket_id"]
        await expect(inbox_item(page, anna_ticket)).to_be_visible()
        await expect(inbox_item(page, jan_ticket)).to_be_visible()

        # Open Anna's chat with the mouse and start a draft.
        await inbox_item(page, anna_ticket).locator("a").click()
        anna_pane = pane(page, anna_ticket)
        anna_composer = anna_pane.get_by_test_id("composer-input")
        await expect(anna_composer).to_have_attribute("placeholder", "Napisz odpowiedź do gracza…")
        await anna_composer.fill("Bonus zostanie dodany")

        # Open Jan's with the keyboard (the newest is first in the inbox).
        await anna_composer.press("Escape")
        await page.keyboard.press("k")
        await page.keyboard.press("Enter")
        jan_pane = pane(page, jan_ticket)
        await expect(jan_pane).to_be_visible()
        await expect(anna_pane).to_be_hidden()
        await expect(page.get_by_test_id("conversation-tab")).to_have_count(2)
        assert page.url.endswith(f"/console/tickets/{jan_ticket}")
        await expect(jan_pane.get_by_test_id("composer-send")).to_have_text("Wyślij odpowiedź")
        await jan_pane.get_by_test_id("composer-input").fill("Proszę spróbować ponownie.")
        await jan_pane.get_by_test_id("composer-send").click()
        assert (await jan.next_from_support())["body"] == "Proszę spróbować ponownie."

        # Anna writes while her tab is in the background: it counts as unread there.
        await anna.say("Halo?")
        anna_tab = page.locator(f"#tab-{anna_ticket}")
        await expect(anna_tab.locator(".tab-unread")).to_have_text("1")
        await page.screenshot(path=str(screenshot_dir / "console-two-chats-pl.png"))

        # Back to Anna: the draft is still there and the message arrived.
        await anna_tab.click()
        await expect(anna_pane).to_be_visible()
        await expect(anna_composer).to_have_value("Bonus zostanie dodany")
        await expect(anna_pane.get_by_test_id("conversation-message")).to_have_count(2)
        await expect(anna_tab.locator(".tab-unread")).to_be_hidden()
        await anna_composer.press("Control+Enter")
        assert (await anna.next_from_support())["body"] == "Bonus zostanie dodany"
        assert await page.evaluate("window.__sameDocument") is True  # never reloaded

    # Away, then signed out: offline at once.
    await page.get_by_test_id("presence-away").click()
    await eventually(lambda: _is(presence_of(runtime, agent.id), "away"))
    await page.get_by_test_id("logout").click()
    await page.wait_for_url("**/console/login?signed_out=1")
    await eventually(lambda: _is(presence_of(runtime, agent.id), "offline"))
    assert console.errors == []
    await page.context.close()


# Helpers for `eventually` -------------------------------------------------------------------


async def _is(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def _field(ticket: Awaitable[dict[str, Any]], name: str, expected: object) -> bool:
    return (await ticket)[name] == expected


async def _until_visible(locator: Any, poke: Callable[[], Awaitable[None]]) -> None:
    """Repeat `poke` until `locator` shows: the console's watch may still be on its way."""
    for _ in range(25):
        await poke()
        await asyncio.sleep(0.2)
        if await locator.is_visible():
            return
    raise AssertionError("still not shown")
