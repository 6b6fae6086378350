"""A call reported by the PBX pops the caller's context on the agent's console."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from playerdesk.domain.enums import AgentRole
from tests.browser.test_console import PASSWORD, sign_in
from tests.conftest import AgentFactory, LiveServer


async def test_a_ringing_call_pops_up_for_its_agent_and_is_dismissed(
    browser: Any, live_server: LiveServer, make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, email="sara@example.test")
    pbx = await make_agent(AgentRole.ADMIN)
    console = await sign_in(browser, live_server, agent, locale="en-GB")
    page = console.page
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=pbx.headers) as http:
        put = await http.put(
            "/api/v1/players/P-7",
            json={"name": "Anna Lind", "phone": "+44 7911 123456", "vip_tier": "gold"},
        )
        assert put.status_code in (200, 201), put.text
        response = await http.post(
            "/api/v1/cti/events",
            json={
                "event": "newCall",
                "call_id": "pbx-1",
                "direction": "inbound",
                "from": "+44 7911 123456",
                "to": "+442079460958",
                "queue": "vip",
                "agent": "sara@example.test",
            },
        )
        assert response.status_code == 202, response.text

    popup = page.get_by_test_id("call-popup")
    await expect(popup).to_be_visible()
    await expect(popup).to_have_attribute("role", "dialog")
    await expect(popup).to_contain_text("Incoming call")
    await expect(popup).to_contain_text("Anna Lind")
    await expect(popup).to_contain_text("+447911123456")
    await expect(popup).to_contain_text("gold")
    await expect(popup).to_contain_text("Queue: vip")
    await popup.get_by_role("button", name="Dismiss").click()
    await expect(popup).to_have_count(0)
    assert console.errors == []
