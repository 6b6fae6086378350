"""The administration pages in real Chromium: an admin adds a routing rule and a calendar,
and an impossible calendar is refused next to its form with the input kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.async_api import Page, expect
from sqlalchemy import select

from playerdesk.db.models import BusinessCalendarRow, RoutingRuleRow
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import auth
from tests.conftest import AgentFactory, LiveServer

PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1440, "height": 1000}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def sign_in(browser: Any, server: LiveServer, email: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page: Page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{server.base_url}/console/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(f"{server.base_url}/console")
    return page, errors


async def test_admin_adds_a_routing_rule_and_a_calendar_and_sees_an_impossible_one_refused(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    admin = await make_agent(AgentRole.ADMIN, password=PASSWORD)
    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=Actor.system(), name="Payments")
    page, errors = await sign_in(browser, live_server, admin.email)

    # The inbox links to the administration pages for an admin.
    await page.get_by_test_id("nav-admin").click()
    await page.wait_for_url(f"{live_server.base_url}/console/admin/routing")
    await expect(page.get_by_test_id("no-rules")).to_be_visible()

    # A routing rule: Polish payments questions to the Payments team.
    form = page.get_by_test_id("rule-form")
    await form.get_by_test_id("rule-name").fill("Polish payments")
    await form.get_by_test_id("rule-team").select_option(str(team.id))
    await form.get_by_test_id("rule-topic").fill("payments")
    await form.get_by_test_id("rule-language").select_option("pl")
    await form.get_by_test_id("rule-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    row = page.get_by_test_id("rule-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Polish payments")
    await expect(row).to_contain_text("Payments")
    await page.screenshot(path=str(screenshot_dir / "admin-routing.png"), full_page=True)

    # A calendar: Warsaw office hours with a holiday.
    await page.get_by_role("link", name="Calendars").click()
    await page.wait_for_url(f"{live_server.base_url}/console/admin/calendars")
    form = page.get_by_test_id("calendar-form")
    await form.get_by_test_id("calendar-name").fill("Warsaw office")
    await form.get_by_test_id("calendar-time-zone").select_option("Europe/Warsaw")
    await form.get_by_test_id("calendar-day-0").fill("08:00-12:00, 13:00-17:00")
    await form.get_by_test_id("calendar-holidays").fill("2026-12-24\n2026-12-25")
    await form.get_by_test_id("calendar-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    calendar_row = page.get_by_test_id("calendar-row")
    await expect(calendar_row).to_have_count(1)
    await expect(calendar_row).to_contain_text("Europe/Warsaw")
    await expect(calendar_row).to_contain_text("08:00–12:00")
    await expect(calendar_row).to_contain_text("2026-12-25")

    # An impossible calendar: no working time on any day. Refused next to the form, with
    # the field named and everything typed still there.
    form = page.get_by_test_id("calendar-form")
    await form.get_by_test_id("calendar-name").fill("Closed shop")
    await form.get_by_test_id("calendar-time-zone").select_option("Europe/Stockholm")
    for day in range(7):
        await form.get_by_test_id(f"calendar-day-{day}").fill("")
    await form.get_by_test_id("calendar-holidays").fill("2026-06-19")
    await form.get_by_test_id("calendar-save").click()
    error = page.get_by_test_id("form-error")
    await expect(error).to_be_visible()
    await expect(error).to_have_attribute("data-field", "intervals")
    await expect(error).to_contain_text("A calendar needs working time")
    await expect(page.get_by_test_id("field-error-intervals")).to_be_visible()
    await expect(page.get_by_test_id("calendar-name")).to_have_value("Closed shop")
    await expect(page.get_by_test_id("calendar-time-zone")).to_have_value("Europe/Stockholm")
    await expect(page.get_by_test_id("calendar-holidays")).to_have_value("2026-06-19")
    await expect(page.get_by_test_id("calendar-row")).to_have_count(1)
    await page.screenshot(path=str(screenshot_dir / "admin-calendar-refused.png"), full_page=True)

    # Overlapping hours are refused too.
    await page.get_by_test_id("calendar-day-2").fill("09:00-13:00, 12:00-15:00")
    await page.get_by_test_id("calendar-save").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("overlap")

    async with runtime.uow() as uow:
        rules = list((await uow.session.scalars(select(RoutingRuleRow))).all())
        calendars = list((await uow.session.scalars(select(BusinessCalendarRow))).all())
    assert [(rule.topic, rule.language, rule.team_id) for rule in rules] == [
        ("payments", "pl", team.id)
    ]
    assert [(row.name, row.time_zone, row.intervals) for row in calendars] == [
        # Monday as typed; Tuesday to Friday kept the form's 09:00-17:00.
        (
            "Warsaw office",
            "Europe/Warsaw",
            [[0, 480, 720], [0, 780, 1020]] + [[day, 540, 1020] for day in range(1, 5)],
        )
    ]
    assert calendars[0].holidays == ["2026-12-24", "2026-12-25"]
    assert errors == []


async def test_shifts_page_shows_the_coverage_grid_to_a_supervisor(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory, screenshot_dir: Path
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    page, errors = await sign_in(browser, live_server, supervisor.email)
    await page.goto(f"{live_server.base_url}/console/admin")
    await page.wait_for_url(f"{live_server.base_url}/console/admin/shifts")

    form = page.get_by_test_id("shift-form")
    await form.get_by_label("Name").fill("Night")
    await form.get_by_label("Starts", exact=True).fill("22:00")
    await form.get_by_label("Ends (before the start: the next day)").fill("06:00")
    await form.get_by_role("button", name="Add the shift").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    await page.get_by_test_id("schedule-form").get_by_role("button").click()
    await expect(page.get_by_test_id("schedules-table")).to_contain_text("Night")

    # Tonight 22:00-24:00 UTC is covered in English; every hour has some gap (no Polish).
    await expect(page.get_by_test_id("coverage-gap")).to_have_count(7 * 24)
    await expect(page.get_by_test_id("coverage-gap").first).to_contain_text("PL")
    rows = page.get_by_test_id("coverage").locator("tbody tr")
    await expect(rows.nth(22).locator("td").first).not_to_contain_text("EN")
    await expect(rows.nth(21).locator("td").first).to_contain_text("EN")

    # In Warsaw's time (UTC+1 in November) the same night starts at 23:00.
    await (
        page.get_by_test_id("coverage-zone")
        .get_by_label("Time zone")
        .select_option("Europe/Warsaw")
    )
    await page.get_by_test_id("coverage-zone").get_by_role("button", name="Show").click()
    await expect(page.get_by_test_id("coverage-zone").get_by_label("Time zone")).to_have_value(
        "Europe/Warsaw"
    )
    await expect(page.get_by_text("Hours (Europe/Warsaw)")).to_be_visible()
    await expect(rows.nth(23).locator("td").first).not_to_contain_text("EN")
    await expect(rows.nth(22).locator("td").first).to_contain_text("EN")
    # Supervisors read routing but may not change it: no forms there.
    await page.get_by_role("link", name="Routing").click()
    await expect(page.get_by_test_id("rule-form")).to_have_count(0)
    await page.get_by_role("link", name="Shifts").click()
    await page.screenshot(path=str(screenshot_dir / "admin-shifts.png"), full_page=True)
    assert errors == []
