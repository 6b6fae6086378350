"""The WhatsApp template composer in real Chromium: once the 24-hour window has closed, the
reply box gives way to the approved templates in the conversation's language; the agent
fills the values, sees the preview, sends, and the template reaches the (local) Graph API.
Internal notes are still written in the text box."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from playerdesk.adapters.whatsapp import take_notification
from playerdesk.clock import FrozenClock
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.browser.test_console_channels import PASSWORD, cheap_password_hashing, sign_in
from tests.conftest import AgentFactory, LiveServer
from tests.whatsapp_api import (
    FakeGraphApi,
    fake_graph_api,
    fixture,
    text_message,
    whatsapp_settings,
)

__all__ = ["cheap_password_hashing"]


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        fake.templates = fixture("message_templates")["data"]
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, graph_api: FakeGraphApi) -> Settings:
    return whatsapp_settings(
        database_url=database_url, tmp_path=tmp_path, api_base=graph_api.base_url
    )


async def test_an_agent_sends_a_template_once_the_window_has_closed(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
    screenshot_dir: Path,
) -> None:
    notification = text_message("Where is my withdrawal?", message_id="wamid.B1")
    [ticket_id] = (
        await take_notification(runtime, raw=json.dumps(notification).encode())
    ).ticket_ids
    clock.advance(timedelta(hours=26))
    agent = await make_agent(password=PASSWORD)
    page: Page
    page, errors = await sign_in(browser, live_server, agent.email)
    await page.goto(f"{live_server.base_url}/console/tickets/{ticket_id}")
    pane = page.locator(f"#pane-{ticket_id}")

    await expect(pane.get_by_test_id("whatsapp-window")).to_be_visible()
    templates = pane.get_by_test_id("whatsapp-templates")
    await expect(templates).to_be_visible()
    await expect(pane.get_by_test_id("composer-input")).to_be_hidden()
    await expect(pane.get_by_test_id("composer-send")).to_be_hidden()
    select = templates.get_by_test_id("whatsapp-template-select")
    # The conversation is in English: the English templates, not the Polish one.
    await expect(select.locator("option")).to_have_text(
        ["account_review · en_US", "ticket_update · en_US"]
    )
    await expect(templates.get_by_test_id("whatsapp-template-other-languages")).to_be_hidden()

    await select.select_option(label="ticket_update · en_US")
    values = templates.get_by_test_id("whatsapp-template-value")
    await expect(values).to_have_count(2)
    await expect(values.nth(0)).to_have_attribute("placeholder", "Anna")
    preview = templates.get_by_test_id("whatsapp-template-preview")
    await expect(preview).to_contain_text("Hello {{1}}, we have answered your request #{{2}}.")
    await expect(preview).to_contain_text("Yes, please")

    # A value missing: not sent, the agent is told.
    await values.nth(0).fill("Anna")
    await templates.get_by_test_id("whatsapp-template-send").click()
    await expect(templates.get_by_test_id("whatsapp-template-error")).to_be_visible()
    await expect(values.nth(1)).to_have_attribute("aria-invalid", "")
    await values.nth(1).fill("1042")
    await expect(values.nth(1)).not_to_have_attribute("aria-invalid", "")
    await expect(templates.get_by_test_id("whatsapp-template-error")).to_be_hidden()
    await expect(preview).to_contain_text("Hello Anna, we have answered your request #1042.")
    await page.screenshot(
        path=str(screenshot_dir / "console-whatsapp-template.png"), full_page=True
    )
    await templates.get_by_test_id("whatsapp-template-send").click()

    sent = pane.get_by_test_id("conversation-message").filter(
        has_text="Hello Anna, we have answered your request #1042."
    )
    await expect(sent).to_have_count(1)
    await expect(sent).to_have_attribute("data-author", "agent")
    await expect(values.nth(0)).to_have_value("")
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    [request] = graph_api.sent
    assert request["template"]["name"] == "ticket_update"
    assert [item["text"] for item in request["template"]["components"][0]["parameters"]] == [
        "Anna",
        "1042",
    ]

    # An internal note is written as ever.
    await pane.get_by_test_id("composer-mode-note").check(force=True)
    await expect(templates).to_be_hidden()
    await expect(pane.get_by_test_id("composer-input")).to_be_visible()
    await pane.get_by_test_id("composer-mode-reply").check(force=True)
    await expect(templates).to_be_visible()
    assert errors == []
