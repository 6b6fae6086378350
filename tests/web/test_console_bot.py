"""The console's bot page without a browser: who may see it, CSRF-checked switches, a refused
switch shown on the page, the period chosen in the query string, and escaped output."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from playerdesk.db.models import BotTurn
from playerdesk.domain.enums import AgentRole, BotOutcome
from playerdesk.runtime import Runtime
from playerdesk.services import auth, floor_config
from tests.conftest import START, AgentFactory, AgentLogin
from tests.services.test_bot_admin import audit_actions, finished_turn
from tests.web.test_console import PASSWORD, csrf_from, submit_login

PAGE = "/console/admin/bot"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def sign_in(
    client: httpx.AsyncClient, make_agent: AgentFactory, role: AgentRole
) -> AgentLogin:
    agent = await make_agent(role, password=PASSWORD)
    response = await submit_login(client, email=agent.email, password=PASSWORD)
    assert response.status_code == 303
    return agent


async def enabled_channels(runtime: Runtime) -> frozenset[str]:
    async with runtime.uow() as uow:
        return (await floor_config.floor_config(uow)).bot_channels


async def test_signed_out_visitors_go_to_the_login(client: httpx.AsyncClient) -> None:
    response = await client.get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SENIOR])
async def test_agents_are_shown_the_door(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, role: AgentRole
) -> None:
    await sign_in(client, make_agent, role)
    page = await client.get(PAGE)
    assert page.status_code == 403
    assert 'data-testid="forbidden"' in page.text
    assert 'data-testid="nav-bot"' not in page.text
    csrf = csrf_from(page.text)
    posted = await client.post(
        f"{PAGE}/channels/web_chat", data={"csrf_token": csrf, "enabled": "1"}
    )
    assert posted.status_code == 403
    assert await enabled_channels(runtime) == frozenset()


async def test_a_supervisor_switches_a_channel_with_the_pages_token_only(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    supervisor = await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert page.text.count('role="switch"') == 4
    assert 'aria-checked="true"' not in page.text

    forged = await client.post(f"{PAGE}/channels/web_chat", data={"enabled": "1"})
    assert forged.status_code == 403
    assert "Your session expired" in forged.text
    assert await enabled_channels(runtime) == frozenset()

    csrf = csrf_from(page.text)
    switched = await client.post(
        f"{PAGE}/channels/web_chat?days=30", data={"csrf_token": csrf, "enabled": "1"}
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"{PAGE}?days=30&saved=1"
    assert await enabled_channels(runtime) == {"web_chat"}
    assert await audit_actions(runtime) == [("bot.channel_enabled", "web_chat", supervisor.id)]

    after = await client.get(switched.headers["location"])
    assert 'data-testid="saved"' in after.text
    assert after.text.count('aria-checked="true"') == 1
    assert '<option value="30" selected>' in after.text

    off = await client.post(f"{PAGE}/channels/web_chat", data={"csrf_token": csrf, "enabled": "0"})
    assert off.status_code == 303
    assert await enabled_channels(runtime) == frozenset()


async def test_a_channel_the_bot_does_not_answer_is_refused_on_the_page(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    csrf = csrf_from((await client.get(PAGE)).text)
    refused = await client.post(f"{PAGE}/channels/email", data={"csrf_token": csrf, "enabled": "1"})
    assert refused.status_code == 422
    assert 'data-testid="form-error" data-field="channel"' in refused.text
    assert "The bot answers chat and messenger channels only" in refused.text
    assert await enabled_channels(runtime) == frozenset()
    assert await audit_actions(runtime) == []


async def test_the_report_period_and_escaped_values(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    handed = await finished_turn(
        runtime, outcome=BotOutcome.HANDED_OFF, finished_at=START - timedelta(days=10)
    )
    # A value the console has no label for (a newer bot) shows as it is, as text.
    async with runtime.uow() as uow:
        await uow.session.execute(
            update(BotTurn)
            .where(BotTurn.ticket_id == handed.id)
            .values(intent="<b>new</b>", reasons="<i>why</i>")
        )
        await uow.commit()
        assert await uow.session.scalar(select(BotTurn.intent)) == "<b>new</b>"
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)

    week = await client.get(PAGE)
    assert 'data-testid="no-bot-handoffs"' in week.text
    # An unknown period falls back to the default week.
    assert 'data-testid="no-bot-handoffs"' in (await client.get(f"{PAGE}?days=abc")).text

    month = await client.get(f"{PAGE}?days=30")
    assert month.status_code == 200
    assert f'href="/console/tickets/{handed.id}"' in month.text
    assert "<b>new</b>" not in month.text and "&lt;b&gt;new&lt;/b&gt;" in month.text
    assert "<i>why</i>" not in month.text and "&lt;i&gt;why&lt;/i&gt;" in month.text
