""" "Call me back" in the chat widget, in real Chromium on the demo casino page: a signed-in
player asks for a call in the middle of a chat, a visitor on a phone asks in Polish when
nobody can chat; both see the confirmation, and the callback waits in the agents' queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect
from sqlalchemy import select

from playerdesk.db.models import Callback, Player
from playerdesk.runtime import Runtime
from tests.browser.test_widget import XSS, casino_page, go_online, message_texts
from tests.conftest import AgentFactory, LiveServer


async def stored_callbacks(runtime: Runtime) -> list[Callback]:
    async with runtime.uow() as uow:
        return list((await uow.session.scalars(select(Callback).order_by(Callback.id))).all())


async def test_a_signed_in_player_asks_for_a_call_while_chatting(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(languages=["en"])
    await go_online(runtime, agent)
    page, errors = await casino_page(
        browser,
        f"{live_server.base_url}/demo/casino?player=C-2001&lang=en",
        timezone_id="Europe/London",
    )
    await page.get_by_test_id("widget-launcher").click()
    await page.get_by_test_id("widget-input").fill("My withdrawal is stuck.")
    await page.get_by_test_id("widget-send").click()
    await expect(page.get_by_test_id("widget-message")).to_have_attribute("data-status", "sent")
    await page.screenshot(path=str(screenshot_dir / "widget-callback-entry-en.png"))

    # From the chat's header to the form, and a number that is not one.
    open_form = page.get_by_test_id("widget-callback-open")
    await expect(open_form).to_have_attribute("aria-label", "Call me back")
    await open_form.click()
    form = page.get_by_test_id("widget-callback")
    await expect(form).to_be_visible()
    await expect(page.get_by_test_id("widget-composer")).to_be_hidden()
    phone = page.get_by_test_id("widget-callback-phone")
    await expect(phone).to_be_focused()
    await expect(form).to_contain_text("With the country code, for example +44 20 7946 0958.")
    await expect(page.get_by_test_id("widget-callback-times")).to_be_hidden()
    await phone.fill("12")
    await page.get_by_test_id("widget-callback-when-tomorrow").click()
    times = page.get_by_test_id("widget-callback-times")
    await expect(times).to_be_visible()
    await expect(times).to_contain_text("Times are Europe/London time.")
    await page.get_by_test_id("widget-callback-from").fill("10:00")
    await page.get_by_test_id("widget-callback-until").fill("12:00")
    await page.get_by_test_id("widget-callback-send").click()
    phone_error = page.get_by_test_id("widget-callback-error-phone")
    await expect(phone_error).to_have_text(
        "Not a phone number; give it with its country code, e.g. +44 20 7946 0958."
    )
    await expect(phone).to_have_attribute("aria-invalid", "true")
    await expect(phone).to_have_attribute("aria-describedby", "pd-cb-phone-hint pd-cb-phone-error")
    await expect(phone).to_be_focused()
    await page.screenshot(path=str(screenshot_dir / "widget-callback-error-en.png"))
    assert await stored_callbacks(runtime) == []

    await phone.fill("+44 7911 123456")
    await page.get_by_test_id("widget-callback-send").click()
    thanks = page.get_by_test_id("widget-callback-thanks")
    await expect(thanks).to_be_visible()
    # The frozen clock's tomorrow, in the player's own time zone.
    await expect(thanks).to_have_text(
        "We will call you on Tuesday, November 3, 2026 between 10:00\u202fAM and "
        "12:00\u202fPM (Europe/London time)."
    )
    await expect(phone_error).to_be_hidden()
    await page.screenshot(path=str(screenshot_dir / "widget-callback-sent-en.png"))

    [callback] = await stored_callbacks(runtime)
    async with runtime.uow() as uow:
        player = await uow.session.scalar(select(Player).where(Player.external_id == "C-2001"))
    assert player is not None
    assert (callback.player_id, callback.phone, callback.source, callback.language) == (
        player.id,
        "+447911123456",
        "widget",
        "en",
    )

    # Back to the conversation, which went on meanwhile.
    await page.get_by_test_id("widget-callback-back").click()
    await expect(form).to_be_hidden()
    await expect(page.get_by_test_id("widget-input")).to_be_focused()
    assert await message_texts(page) == ["My withdrawal is stuck."]
    # The browser logs the refused request itself; nothing else went wrong.
    assert [error for error in errors if "status of 422" not in error] == []


async def test_a_visitor_on_a_phone_asks_in_polish_when_nobody_can_chat(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    await make_agent(languages=["pl"])  # exists, but nobody is online
    page, errors = await casino_page(
        browser,
        f"{live_server.base_url}/demo/casino?lang=pl",
        locale="en-GB",  # the page's language wins over the browser's
        viewport={"width": 390, "height": 780},
        has_touch=True,
        timezone_id="Europe/Warsaw",
    )
    await page.get_by_test_id("widget-launcher").click()
    await expect(page.get_by_test_id("widget-offline")).to_be_visible()
    ask = page.get_by_test_id("widget-offline-callback")
    await expect(ask).to_have_text("Oddzwońcie do mnie")
    await page.screenshot(path=str(screenshot_dir / "widget-callback-entry-pl-phone.png"))
    await ask.click()
    form = page.get_by_test_id("widget-callback")
    await expect(form).to_be_visible()
    await expect(page.get_by_test_id("widget-offline")).to_be_hidden()
    await expect(form).to_contain_text("Twój numer telefonu")
    await expect(form).to_contain_text("Z numerem kierunkowym kraju, na przykład +48 512 345 678.")
    await expect(page.get_by_test_id("widget-callback-when-asap")).to_have_text("Jak najszybciej")
    await page.get_by_test_id("widget-callback-phone").fill("+48 512 345 678")
    await page.get_by_test_id("widget-callback-reason").fill(XSS)
    await page.screenshot(path=str(screenshot_dir / "widget-callback-form-pl-phone.png"))
    await page.get_by_test_id("widget-callback-send").click()

    thanks = page.get_by_test_id("widget-callback-thanks")
    await expect(thanks).to_have_text(
        "Zadzwonimy, gdy tylko któryś z naszych konsultantów będzie wolny."
    )
    await expect(thanks).to_be_focused()
    await page.screenshot(path=str(screenshot_dir / "widget-callback-sent-pl-phone.png"))
    [callback] = await stored_callbacks(runtime)
    assert (callback.phone, callback.language, callback.window_from) == (
        "+48512345678",
        "pl",
        None,
    )
    assert callback.reason == XSS  # kept as typed, never run

    # Back to the message form it came from.
    await page.get_by_test_id("widget-callback-back").click()
    await expect(page.get_by_test_id("widget-offline")).to_be_visible()
    await expect(page.get_by_test_id("widget-offline-email")).to_be_focused()
    assert errors == []
