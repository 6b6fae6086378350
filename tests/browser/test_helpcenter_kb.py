"""The help centre's knowledge base and the console's knowledge panel in real Chromium
against a live server: what a player does before writing to us, on a desktop and on a
phone, and an agent putting an article into a reply."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import ConsoleMessage, Page, Route, expect
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import KbFeedback, Ticket
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from tests.browser.test_console import (
    PASSWORD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by the console test)
    pane,
    sign_in,
)
from tests.conftest import AgentFactory, LiveServer
from tests.kb_articles import Seeded, seed_articles

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
async def seeded(runtime: Runtime) -> Seeded:
    return await seed_articles(runtime)


async def open_page(browser: Any, url: str, **options: Any) -> tuple[Page, list[str]]:
    options.setdefault("viewport", DESKTOP)
    context = await browser.new_context(**options)
    page: Page = await context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", on_console)
    await page.goto(url)
    return page, errors


async def no_sideways_scrolling(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = await page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page is {width}px wide in a {viewport}px window"


async def test_nothing_on_the_page_moves_when_the_chat_button_shows(
    browser: Any, live_server: LiveServer
) -> None:
    """The chat button shows once the widget has loaded. The cards below it must not move
    then, or a finger (or a click) aimed at their links lands elsewhere."""
    context = await browser.new_context(viewport=PHONE, locale="pl-PL")
    page: Page = await context.new_page()
    page.set_default_timeout(8000)
    widget_may_load = asyncio.Event()

    async def hold_the_widget(route: Route) -> None:
        await widget_may_load.wait()
        await route.continue_()

    await page.route("**/widget.js", hold_the_widget)
    # An async script holds the load event back: the page is read before it.
    await page.goto(f"{live_server.base_url}/help/pl", wait_until="domcontentloaded")
    start_chat = page.get_by_test_id("start-chat")
    call_us = page.get_by_test_id("channel-callback").get_by_role("link")
    await expect(start_chat).to_be_hidden()
    before = await call_us.bounding_box()

    widget_may_load.set()
    await expect(start_chat).to_be_visible()
    assert await call_us.bounding_box() == before
    await context.close()


async def test_a_player_finds_an_answer_then_writes_to_us(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    clock: FrozenClock,
    seeded: Seeded,
    screenshot_dir: Path,
) -> None:
    page, errors = await open_page(
        browser, f"{live_server.base_url}/help", extra_http_headers={"Accept-Language": "en-GB"}
    )
    await page.wait_for_url(re.compile(r".*/help/en$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("How can we help?")
    await expect(page.get_by_test_id("support-hours")).to_contain_text(
        "Every day, around the clock"
    )
    # The chat widget loaded, so the live-chat channel offers to start a chat.
    await expect(page.get_by_test_id("start-chat")).to_be_visible()
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-home.png"), full_page=True)

    await page.get_by_role("searchbox", name="Search the help centre").fill("withdrawal pending")
    await page.get_by_test_id("kb-search-submit").click()
    await page.wait_for_url(re.compile(r".*/help/en/search\?q=withdrawal\+pending$"))
    await expect(page.get_by_test_id("search-hit").first).to_contain_text(
        "Why is my withdrawal pending?"
    )
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-search.png"), full_page=True)

    await page.get_by_role("link", name="How long does a withdrawal take?").click()
    await expect(page.get_by_test_id("article-title")).to_have_text(
        "How long does a withdrawal take?"
    )
    await expect(
        page.get_by_test_id("article-body").get_by_role("heading", level=2).first
    ).to_have_text("Review")
    await expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Withdrawals")
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-article.png"), full_page=True)

    clock.advance(timedelta(seconds=45))  # reading the article
    await page.get_by_text("Add a comment (optional)").click()
    await page.get_by_label("What could we explain better?").fill("Say when cards pay out.")
    await page.get_by_test_id("feedback-yes").click()
    await expect(page.get_by_test_id("feedback-thanks")).to_have_text(
        "We are glad the article helped."
    )
    await expect(page.locator("#feedback")).to_be_focused()
    async with runtime.uow() as uow:
        [feedback] = (await uow.session.scalars(select(KbFeedback))).all()
    assert (feedback.article_id, feedback.helpful, feedback.comment) == (
        seeded.id("withdrawal-times"),
        True,
        "Say when cards pay out.",
    )
    await page.screenshot(
        path=str(screenshot_dir / "helpcenter-kb-feedback-thanks.png"), full_page=True
    )

    # Still stuck: the contact form, its topic already chosen from the article's category.
    await page.get_by_test_id("contact-link").click()
    await expect(page.get_by_test_id("field-topic")).to_have_value("withdrawals")
    await page.get_by_test_id("field-email").fill("maria@example.com")
    await page.get_by_test_id("field-message").fill(
        "My card withdrawal of 200 EUR was approved a week ago and has not arrived."
    )
    clock.advance(timedelta(seconds=30))
    await page.get_by_test_id("submit").click()
    number = (await page.get_by_test_id("ticket-number").inner_text()).lstrip("#")
    async with runtime.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket).where(Ticket.number == int(number)))
    assert ticket is not None and (ticket.channel, ticket.topic) == ("form", "payments")
    assert errors == []


async def test_the_help_centre_on_a_phone_in_polish(
    browser: Any,
    live_server: LiveServer,
    clock: FrozenClock,
    seeded: Seeded,
    screenshot_dir: Path,
) -> None:
    page, errors = await open_page(
        browser,
        f"{live_server.base_url}/help",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="pl-PL",
        extra_http_headers={"Accept-Language": "pl-PL,pl;q=0.9"},
    )
    await page.wait_for_url(re.compile(r".*/help/pl$"))
    await expect(page.locator("html")).to_have_attribute("lang", "pl")
    await expect(page.get_by_test_id("category-withdrawals")).to_contain_text("Wypłaty")
    await no_sideways_scrolling(page)
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-home-phone.png"), full_page=True)

    # Typed without the Polish letters, as on a phone keyboard.
    await page.get_by_test_id("kb-search-input").fill("wyplata")
    await page.get_by_test_id("kb-search-input").press("Enter")
    await expect(page.get_by_test_id("search-hit").first).to_contain_text("Ile trwa wypłata?")
    await no_sideways_scrolling(page)
    await page.screenshot(
        path=str(screenshot_dir / "helpcenter-kb-search-phone.png"), full_page=True
    )

    await page.get_by_test_id("search-hit").first.get_by_role("link").click()
    await expect(page.get_by_test_id("article-title")).to_have_text("Ile trwa wypłata?")
    await no_sideways_scrolling(page)
    await page.screenshot(
        path=str(screenshot_dir / "helpcenter-kb-article-phone.png"), full_page=True
    )
    # The switcher leads to the same article in Swedish.
    await page.get_by_test_id("language-sv").click()
    await expect(page.get_by_test_id("article-title")).to_have_text("Hur lång tid tar ett uttag?")
    clock.advance(timedelta(seconds=20))
    await page.get_by_test_id("feedback-no").click()
    await expect(page.get_by_test_id("feedback-thanks")).to_be_visible()
    await no_sideways_scrolling(page)
    await page.screenshot(
        path=str(screenshot_dir / "helpcenter-kb-feedback-phone.png"), full_page=True
    )
    missing = await page.goto(f"{live_server.base_url}/help/pl/wyplaty/nie-ma-takiego")
    assert missing is not None and missing.status == 404
    await expect(page.get_by_test_id("not-found")).to_be_visible()
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-404-phone.png"), full_page=True)
    # The 404 above is the only thing Chromium reported.
    assert [error for error in errors if "404" not in error] == []


async def test_the_help_centre_is_usable_with_the_keyboard(
    browser: Any, live_server: LiveServer, seeded: Seeded, screenshot_dir: Path
) -> None:
    page, _errors = await open_page(browser, f"{live_server.base_url}/help/en")

    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_test_id("kb-search-input")).to_be_focused()
    await page.keyboard.type("bonus")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/help/en/search\?q=bonus$"))
    # Headings in order on the results page: one h1, then h2, then h3 for each result.
    levels = await page.evaluate(
        "[...document.querySelectorAll('main h1, main h2, main h3')].map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    await page.get_by_test_id("search-hit").first.get_by_role("link").focus()
    await page.screenshot(path=str(screenshot_dir / "helpcenter-kb-focus.png"))


async def test_an_agent_puts_an_article_into_a_reply_from_the_knowledge_panel(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    seeded: Seeded,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, languages=["pl", "en"])
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=agent.headers) as http:
        created = await http.post(
            "/api/v1/tickets",
            json={
                "channel": "email",
                "subject": "Gdzie jest moja wypłata?",
                "body": "Zleciłem wypłatę 3 dni temu i nadal nic.",
                "player": {"external_id": "P-77", "email": "jan@example.pl"},
                "language": "pl",
            },
        )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/tickets/{ticket_id}")
    conversation = pane(page, ticket_id)
    panel = conversation.get_by_test_id("knowledge-panel")
    await expect(panel).to_be_visible()

    # The conversation is in Polish, so the search is too: without the Polish letters.
    await panel.get_by_test_id("knowledge-query").fill("wyplata")
    first = panel.get_by_test_id("knowledge-hit").first
    await expect(first).to_contain_text("Ile trwa wypłata?")
    await expect(panel.get_by_test_id("knowledge-language")).to_have_value("pl")
    composer = conversation.get_by_test_id("composer-input")
    await composer.fill("Dzień dobry, szczegóły są tutaj:")
    await first.get_by_test_id("knowledge-insert-link").click()
    link = f"{live_server.base_url}/help/pl/withdrawals/ile-trwa-wyplata"
    await expect(composer).to_have_value(
        f"Dzień dobry, szczegóły są tutaj:\nIle trwa wypłata? {link}"
    )
    await expect(composer).to_be_focused()
    await page.screenshot(path=str(screenshot_dir / "console-knowledge-panel.png"))

    # An internal article is marked, has no link, and only goes into a note.
    await panel.get_by_test_id("knowledge-language").select_option("en")
    await panel.get_by_test_id("knowledge-query").fill("chargeback")
    internal = panel.locator('[data-testid="knowledge-hit"][data-status="internal"]')
    await expect(internal).to_contain_text("Internal")
    await expect(internal.get_by_test_id("knowledge-insert-link")).to_have_count(0)
    await internal.get_by_test_id("knowledge-insert-note").click()
    await expect(panel.get_by_test_id("knowledge-state")).to_contain_text("notes only")
    assert "chargeback" not in (await composer.input_value()).lower()
    await composer.fill("")
    await internal.get_by_test_id("knowledge-insert-note").click()
    await expect(conversation.get_by_test_id("composer-mode-note")).to_be_checked()
    await expect(composer).to_have_value(
        re.compile(r"^From the knowledge base \(“Handling chargeback threats”\): .*Never promise")
    )
    await page.screenshot(path=str(screenshot_dir / "console-knowledge-panel-note.png"))
    assert console.errors == [] and console.dialogs == []


async def test_a_supervisor_edits_an_article_with_a_preview_and_meets_a_stale_save(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    seeded: Seeded,
    screenshot_dir: Path,
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    console = await sign_in(browser, live_server, supervisor, locale="en-GB")
    page = console.page
    await page.goto(f"{live_server.base_url}/console/admin/articles")
    await expect(page.get_by_test_id("article-row")).to_have_count(len(seeded.ids))
    await page.get_by_test_id("filter-language").select_option("en")
    await page.get_by_test_id("filter-status").select_option("published")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_test_id("article-row")).to_have_count(3)
    await page.screenshot(path=str(screenshot_dir / "console-kb-articles.png"), full_page=True)

    await page.get_by_role("link", name="Why is my withdrawal pending?").click()
    await expect(page.get_by_test_id("article-version")).to_have_text("Version 1")
    body = page.get_by_test_id("article-body")
    await body.fill(
        "## While we review it\n\nA pending withdrawal is **waiting for us**.\n\n- No action needed"
    )
    await page.get_by_test_id("article-preview").click()
    await expect(page.get_by_test_id("preview-body").get_by_role("heading", level=2)).to_have_text(
        "While we review it"
    )
    await page.screenshot(
        path=str(screenshot_dir / "console-kb-editor-preview.png"), full_page=True
    )

    # A colleague saves meanwhile (through the API, as another editor would).
    admin = await make_agent(AgentRole.ADMIN)
    article_id = seeded.id("withdrawal-pending")
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=admin.headers) as http:
        current = (await http.get(f"/api/v1/kb/articles/{article_id}")).json()
        saved = await http.put(
            f"/api/v1/kb/articles/{article_id}",
            json={
                "category_key": current["category_key"],
                "language": "en",
                "key": current["key"],
                "slug": current["slug"],
                "title": "Pending withdrawals, explained",
                "summary": current["summary"],
                "body_markdown": "Their newer text.",
                "status": "published",
                "expected_version": current["version"],
            },
        )
    assert saved.status_code == 200, saved.text
    await page.get_by_test_id("article-save").click()
    await expect(page.get_by_test_id("conflict")).to_be_visible()
    await expect(page.get_by_test_id("conflict-title")).to_have_text(
        "Pending withdrawals, explained"
    )
    await expect(page.get_by_test_id("article-body")).to_have_value(re.compile("waiting for us"))
    await page.screenshot(
        path=str(screenshot_dir / "console-kb-editor-conflict.png"), full_page=True
    )
    # Saving again, having seen their version, replaces it.
    await page.get_by_test_id("article-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    await expect(page.get_by_test_id("article-version")).to_have_text("Version 3")
    await page.get_by_test_id("versions-link").click()
    await expect(page.get_by_test_id("version")).to_have_count(3)
    await page.screenshot(path=str(screenshot_dir / "console-kb-versions.png"), full_page=True)
    assert console.errors == [] and console.dialogs == []
