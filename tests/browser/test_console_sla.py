"""SLA timers, the At risk view, escalate / transfer and the floor page in real Chromium, with
players on the widget websocket and the test's frozen clock moved by hand (the floor tick is
called directly instead of waiting for its job)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Agent, Ticket
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import floor, routing_admin
from tests.browser.test_console import (
    PASSWORD,
    LateAnswer,
    Player,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    inbox_item,
    pane,
    player_socket,
    sign_in,
    until_true,
)
from tests.conftest import AgentFactory, LiveServer

# Where the lead looks at them; PLAYERDESK_SLA_SHOTS moves them.
SHOTS = Path(os.environ.get("PLAYERDESK_SLA_SHOTS", "/tmp/pd-console-shots"))  # noqa: S108
COUNTDOWN = re.compile(r"^\d+:\d\d$")
LIVE_FIRST_RESPONSE = timedelta(minutes=5)  # the shipped live chat SLA policy


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def standard_floor(runtime: Runtime) -> dict[str, int]:
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = await routing_admin.list_team_routing(uow, actor=Actor.system())
        return {team.name: team.id for team in teams}


async def floor_tick(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )


async def first_reply_warning_falls_due(runtime: Runtime, clock: FrozenClock) -> None:
    """Nine tenths of a chat's first-reply time (past the warning at 80 %, short of the
    breach), and the floor's tick."""
    clock.advance(LIVE_FIRST_RESPONSE * 0.9)
    await floor_tick(runtime)


@asynccontextmanager
async def an_empty_at_risk_view(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> AsyncIterator[Page]:
    """An agent's console on the At risk view, nothing in it yet; no script error by the end."""
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    await page.get_by_test_id("view-at_risk").click()
    await expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    yield page
    assert console.errors == []
    await page.context.close()


async def stored(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def sla_of(page: Page, ticket_id: int) -> Any:
    return inbox_item(page, ticket_id).get_by_test_id("inbox-sla")


async def test_countdown_ticks_and_a_breach_reaches_the_supervisor_live(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
    shots: Path,
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD)
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    agent_console = await sign_in(browser, live_server, agent, locale="en-GB")
    boss_console = await sign_in(browser, live_server, supervisor, locale="en-GB")
    page, boss = agent_console.page, boss_console.page

    async with await player_socket(live_server) as socket:
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("My deposit has not arrived."))["ticket_id"]
        await player.say("It was 200 EUR by card.")

        # A new chat shows a countdown to its first-response deadline, ticking in the page.
        badge = sla_of(page, ticket_id)
        await expect(badge).to_have_attribute("data-sla-state", "running")
        await expect(badge.locator(".sla-label")).to_have_text("On track")
        time = badge.locator(".sla-time")
        await expect(time).to_have_text(COUNTDOWN)
        first = await time.inner_text()
        row = f'[data-ticket-id="{ticket_id}"] .sla-time'
        await until_true(page, f"document.querySelector({row!r}).textContent !== {first!r}")
        assert (
            await badge.get_attribute("data-due-at")
            == ((await stored(runtime, ticket_id)).created_at + LIVE_FIRST_RESPONSE).isoformat()
        )
        await page.screenshot(path=str(shots / "inbox-timers.png"))

        # Past the warning point: the row turns amber when the floor tick records it.
        clock.advance(timedelta(minutes=4, seconds=20))
        await floor_tick(runtime)
        await expect(badge).to_have_attribute("data-sla-state", "warning")
        await expect(badge.locator(".sla-label")).to_have_text("At risk")

        # Past the deadline: breached everywhere, and the supervisor is told at once.
        clock.advance(timedelta(minutes=1))
        await floor_tick(runtime)
        await expect(badge).to_have_attribute("data-sla-state", "breached")
        await expect(badge.locator(".sla-time")).to_have_text(re.compile(r"^\+\d+:\d\d$"))
        number = (await stored(runtime, ticket_id)).number
        toasts = boss.get_by_test_id("toast")
        await expect(toasts.filter(has_text=f"SLA breached on #{number}")).to_have_count(1)
        await expect(toasts.filter(has_text=f"#{number} was escalated: SLA breach")).to_have_count(
            1
        )
        await until_true(boss, "window.__notifications.length >= 1")
        titles = [item["title"] for item in await boss.evaluate("window.__notifications")]
        assert f"SLA breached on #{number}" in titles

        # The supervisor's At risk view has it, breached; the agent's too.
        await boss.get_by_test_id("view-at_risk").click()
        await expect(boss.get_by_test_id("view-at_risk")).to_have_attribute("aria-current", "page")
        row = inbox_item(boss, ticket_id)
        await expect(row).to_be_visible()
        await expect(sla_of(boss, ticket_id)).to_have_attribute("data-sla-state", "breached")
        await boss.screenshot(path=str(shots / "at-risk-view.png"))

    assert agent_console.errors == [] and boss_console.errors == []
    assert agent_console.dialogs == [] and boss_console.dialogs == []
    await page.context.close()
    await boss.context.close()


async def test_a_warning_brings_a_conversation_into_an_open_at_risk_view(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
) -> None:
    async with (
        an_empty_at_risk_view(browser, live_server, make_agent) as page,
        await player_socket(live_server) as socket,
    ):
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("Hello?"))["ticket_id"]
        await expect(inbox_item(page, ticket_id)).to_have_count(0)  # not at risk yet

        await first_reply_warning_falls_due(runtime, clock)

        await expect(inbox_item(page, ticket_id)).to_be_visible()
        await expect(sla_of(page, ticket_id)).to_have_attribute("data-sla-state", "warning")


async def test_a_warning_during_an_older_row_fetch_still_brings_the_row(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
) -> None:
    """On a busy server the row the At risk view fetches for a new message can be answered
    (on track, so left out) after the SLA warning arrives: the warning must still bring the
    conversation in, not be dropped because a fetch of that row was under way."""
    async with an_empty_at_risk_view(browser, live_server, make_agent) as page:
        late = LateAnswer()
        await page.route("**/console/tickets/*/summary", late.route)
        async with await player_socket(live_server) as socket:
            player = Player(socket)
            await player.receive("welcome")
            ticket_id = (await player.say("Hello?"))["ticket_id"]
            await late.answered()  # the row is fetched on track, and held back

            await first_reply_warning_falls_due(runtime, clock)
            number = (await stored(runtime, ticket_id)).number
            warned = page.get_by_test_id("toast").filter(
                has_text=f"SLA deadline close on #{number}"
            )
            await expect(warned).to_have_count(1)  # the warning's frame has arrived
            late.release()

            await expect(inbox_item(page, ticket_id)).to_be_visible()
            await expect(sla_of(page, ticket_id)).to_have_attribute("data-sla-state", "warning")


async def test_an_agent_escalates_with_a_reason_and_transfers_with_a_note(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    shots: Path,
) -> None:
    teams = await standard_floor(runtime)
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, team_ids=[teams["General"]])
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page

    async with await player_socket(live_server) as socket:
        player = Player(socket)
        await player.receive("welcome")
        ticket_id = (await player.say("I want to complain to the regulator!"))["ticket_id"]
        await inbox_item(page, ticket_id).locator("a").click()
        conversation = pane(page, ticket_id)
        await expect(conversation.get_by_test_id("conversation-subject")).to_be_visible()
        await expect(conversation.get_by_test_id("escalations")).to_contain_text("Not escalated.")

        # "!" asks for a reason; an empty one is refused in the dialog.
        await conversation.get_by_test_id("composer-input").focus()
        await page.keyboard.press("Escape")
        await page.keyboard.press("!")
        dialog = page.get_by_test_id("escalate-dialog")
        await expect(dialog).to_be_visible()
        await expect(page.get_by_test_id("escalate-reason")).to_be_focused()
        await page.get_by_test_id("escalate-submit").click()
        await expect(dialog.locator("[data-dialog-error]")).to_have_text(
            "Say why the conversation is escalated."
        )
        await page.get_by_test_id("escalate-reason").fill("Threatens to go to the regulator")
        await page.get_by_test_id("escalate-submit").click()
        await expect(dialog).to_be_hidden()

        # It moved to the Senior team, one priority up; the side panel tells the story.
        history = conversation.get_by_test_id("escalation")
        await expect(history).to_have_count(1)
        await expect(history.first).to_contain_text("Threatens to go to the regulator")
        await expect(history.first).to_contain_text("Escalated, level 1")
        await expect(history.first).to_contain_text(await agent_name(runtime, agent.id))
        await expect(history.first).to_contain_text("Team: General → Senior")
        await expect(conversation.get_by_test_id("conversation-escalation-level")).to_have_text(
            "Escalated, level 1"
        )
        escalated = await stored(runtime, ticket_id)
        assert escalated.team_id == teams["Senior"]
        assert escalated.escalation_level == 1
        await expect(conversation.get_by_test_id("team-select")).to_have_value(str(teams["Senior"]))
        await expect(sla_of(page, ticket_id)).to_be_visible()
        await expect(conversation.get_by_test_id("conversation-sla")).to_be_visible()
        await page.screenshot(path=str(shots / "conversation-escalated.png"))

        # "t": to the Payments team, with a note for them.
        await page.keyboard.press("t")
        transfer = page.get_by_test_id("transfer-dialog")
        await expect(transfer).to_be_visible()
        await page.get_by_test_id("transfer-team").select_option(str(teams["Payments"]))
        await page.get_by_test_id("transfer-submit").click()
        await expect(transfer.locator("[data-dialog-error]")).to_have_text(
            "Write a note for whoever takes over."
        )
        await page.get_by_test_id("transfer-note").fill("Card deposit missing, PSP ref 123")
        await page.get_by_test_id("transfer-submit").click()
        await expect(transfer).to_be_hidden()
        await expect(conversation.get_by_test_id("team-select")).to_have_value(
            str(teams["Payments"])
        )
        assert (await stored(runtime, ticket_id)).team_id == teams["Payments"]
        note = conversation.get_by_test_id("conversation-message").last
        await expect(note).to_contain_text("Card deposit missing, PSP ref 123")
        await expect(note).to_contain_text("Internal note")

    assert console.errors == [] and console.dialogs == []
    await page.context.close()


async def agent_name(runtime: Runtime, agent_id: int) -> str:
    async with runtime.uow() as uow:
        agent = await uow.session.get(Agent, agent_id)
        assert agent is not None
        return agent.name


async def test_the_floor_page_shows_queues_agents_and_risks_and_keeps_up(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    clock: FrozenClock,
    shots: Path,
) -> None:
    teams = await standard_floor(runtime)
    await make_agent(AgentRole.AGENT, password=PASSWORD, languages=["pl", "en"], max_chats=3)
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    console = await sign_in(browser, live_server, supervisor, locale="en-GB")
    page = console.page

    async with (
        await player_socket(live_server) as first_socket,
        await player_socket(live_server, "pl") as second_socket,
    ):
        first, second = Player(first_socket), Player(second_socket)
        await first.receive("welcome")
        await second.receive("welcome")
        waiting_id = (await first.say("<b>Where</b> is my withdrawal?"))["ticket_id"]
        await first_reply_warning_falls_due(runtime, clock)

        await page.get_by_test_id("nav-floor").click()
        await page.wait_for_url(f"{live_server.base_url}/console/floor")
        queue = page.locator(f'[data-testid="floor-queue"][data-team-id="{teams["General"]}"]')
        await expect(queue).to_be_visible()
        await expect(queue.get_by_test_id("floor-queue-waiting")).to_have_text("1")
        await expect(queue).to_contain_text("Nobody to answer")
        risk = page.locator(f'[data-testid="floor-risk"][data-ticket-id="{waiting_id}"]')
        await expect(risk).to_contain_text("<b>Where</b> is my withdrawal?")
        await expect(risk.get_by_test_id("floor-sla")).to_have_attribute(
            "data-sla-state", "warning"
        )
        await expect(page.get_by_test_id("floor-agents")).to_contain_text("Supervisor 2")
        assert await page.locator("[data-testid=floor-risk] b").count() == 0
        await page.screenshot(path=str(shots / "floor.png"), full_page=True)

        # A second chat joins the queue: the page catches up by itself.
        await second.say("Dzień dobry")
        await expect(queue.get_by_test_id("floor-queue-waiting")).to_have_text("2", timeout=15_000)

        # The at-risk link opens the conversation in the workspace.
        await risk.locator("a").click()
        await page.wait_for_url(f"{live_server.base_url}/console/tickets/{waiting_id}")
        await expect(pane(page, waiting_id)).to_be_visible()

    assert console.errors == []
    await page.context.close()
