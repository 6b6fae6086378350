"""Quick-reply buttons under the bot's messages in the player widget, in real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import select

from playerdesk.db.models import Message
from playerdesk.runtime import Runtime
from tests.browser.test_widget import api_get, casino_page, go_online, message_texts, reply
from tests.conftest import AgentFactory, LiveServer
from tests.web.test_live_chat_quick_replies import post_bot_message

MARKUP_LABEL = "My withdrawal <b>is late</b>"


async def start_chat(page: Page, server: LiveServer, agent: Any, body: str) -> int:
    """The player opens the widget and writes; the new conversation's ticket id."""
    await page.get_by_test_id("widget-launcher").click()
    await page.get_by_test_id("widget-input").fill(body)
    await page.get_by_test_id("widget-input").press("Enter")
    await expect(page.get_by_test_id("widget-message").last).to_have_attribute(
        "data-status", "sent"
    )
    tickets = await api_get(server, agent, "/tickets", channel="web_chat")
    return int(tickets["items"][0]["id"])


async def stored_messages(runtime: Runtime, ticket_id: int) -> list[tuple[str, str]]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        return [(row.author_kind, row.body) for row in rows]


async def test_a_quick_reply_is_sent_as_the_players_message_on_a_phone(
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
        f"{live_server.base_url}/demo/casino",
        viewport={"width": 390, "height": 780},
        has_touch=True,
    )
    ticket_id = await start_chat(page, live_server, agent, "Hi, I have a question")
    await post_bot_message(
        runtime,
        ticket_id=ticket_id,
        body="Happy to help. What is it about?",
        quick_replies=[("deposit", "A deposit that has not arrived"), ("late", MARKUP_LABEL)],
    )
    buttons = page.get_by_test_id("widget-quick-reply")
    await expect(buttons).to_have_count(2)
    await expect(buttons).to_have_text(["A deposit that has not arrived", MARKUP_LABEL])
    # Labels are text: the markup is shown, not obeyed.
    assert await page.get_by_test_id("widget-panel").locator("b").count() == 0
    # Real buttons, inside the phone's screen: they wrap rather than overflow.
    boxes = [await button.bounding_box() for button in await buttons.all()]
    assert all(
        box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 for box in boxes
    )
    assert await buttons.evaluate_all("nodes => nodes.map(node => node.tagName)") == [
        "BUTTON",
        "BUTTON",
    ]
    await page.screenshot(path=str(screenshot_dir / "widget-quick-replies-phone.png"))

    await buttons.nth(1).tap()
    messages = page.get_by_test_id("widget-message")
    await expect(buttons).to_have_count(0)
    await expect(messages).to_have_count(3)
    await expect(messages.last).to_have_attribute("data-author", "player")
    await expect(messages.last).to_have_attribute("data-status", "sent")
    await expect(page.get_by_test_id("widget-input")).not_to_be_focused()  # no phone keyboard
    assert (await stored_messages(runtime, ticket_id))[-1] == ("player", MARKUP_LABEL)
    await page.screenshot(path=str(screenshot_dir / "widget-quick-replies-answered-phone.png"))

    # Answered: a new page view shows the conversation without the buttons.
    await page.reload()
    await expect(messages).to_have_count(3)
    assert await message_texts(page) == [
        "Hi, I have a question",
        "Happy to help. What is it about?",
        MARKUP_LABEL,
    ]
    await expect(buttons).to_have_count(0)
    assert errors == []


async def test_unanswered_quick_replies_come_back_once_and_go_when_the_chat_moves_on(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
) -> None:
    agent = await make_agent()
    await go_online(runtime, agent)
    page, errors = await casino_page(browser, f"{live_server.base_url}/demo/casino")
    ticket_id = await start_chat(page, live_server, agent, "Hello")
    buttons = page.get_by_test_id("widget-quick-reply")
    messages = page.get_by_test_id("widget-message")
    box = page.get_by_test_id("widget-input")

    await post_bot_message(
        runtime,
        ticket_id=ticket_id,
        body="What would you like to do?",
        quick_replies=[("deposit", "Deposit"), ("withdraw", "Withdraw")],
    )
    await expect(buttons).to_have_text(["Deposit", "Withdraw"])

    # Closing and opening the panel, or a new page view: the same two buttons, never twice.
    await page.get_by_test_id("widget-close").click()
    await page.get_by_test_id("widget-launcher").click()
    await expect(buttons).to_have_text(["Deposit", "Withdraw"])
    await page.reload()
    await expect(messages).to_have_count(2)
    await expect(buttons).to_have_text(["Deposit", "Withdraw"])

    # The bot asks again while the network is gone: the catch-up swaps the buttons, once.
    await page.context.set_offline(True)
    await expect(page.get_by_test_id("widget-reconnecting")).to_be_visible()
    await post_bot_message(
        runtime, ticket_id=ticket_id, body="Did that help?", quick_replies=[("yes", "Yes")]
    )
    await page.context.set_offline(False)
    await expect(messages).to_have_count(3)
    await expect(page.get_by_test_id("widget-reconnecting")).to_be_hidden()
    await expect(buttons).to_have_text(["Yes"])
    assert await page.get_by_test_id("widget-quick-replies").count() == 1

    # The player types something else: that is the answer, the buttons go.
    await box.fill("Not really, I still need help")
    await box.press("Enter")
    await expect(buttons).to_have_count(0)
    await expect(messages.last).to_have_attribute("data-status", "sent")

    # A newer message (an agent's) takes the bot's buttons away too.
    await post_bot_message(
        runtime, ticket_id=ticket_id, body="Shall I find an agent?", quick_replies=[("y", "Yes")]
    )
    await expect(buttons).to_have_text(["Yes"])
    await reply(live_server, agent, ticket_id, "Hi, Olivia here. Let me look.")
    await expect(messages).to_have_count(6)
    await expect(buttons).to_have_count(0)

    # From the keyboard: Shift+Tab from the input reaches the buttons, Enter sends one.
    await post_bot_message(
        runtime,
        ticket_id=ticket_id,
        body="Olivia asked me to check: which currency?",
        quick_replies=[("eur", "EUR"), ("sek", "SEK")],
    )
    await expect(buttons).to_have_count(2)
    await box.focus()
    await page.keyboard.press("Shift+Tab")  # the attach button
    await page.keyboard.press("Shift+Tab")
    await expect(buttons.last).to_be_focused()
    assert await buttons.last.evaluate("node => getComputedStyle(node).outlineStyle") == "solid"
    await page.keyboard.press("Enter")
    await expect(buttons).to_have_count(0)
    await expect(box).to_be_focused()
    await expect(messages.last).to_have_attribute("data-status", "sent")
    assert (await stored_messages(runtime, ticket_id))[-1] == ("player", "SEK")
    assert [author for author, _ in await stored_messages(runtime, ticket_id)].count("player") == 3

    await page.reload()
    await expect(messages).to_have_count(8)
    await expect(buttons).to_have_count(0)
    unexpected = [error for error in errors if "ERR_INTERNET_DISCONNECTED" not in error]
    assert unexpected == []
