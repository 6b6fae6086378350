"""The bot through the REST API: channels switched on and off by supervisors and admins,
refusals with the field at fault, and the report of the bot's turns."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from playerdesk.bot.intents import Intent
from playerdesk.bot.policy import HandoffReason
from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry
from playerdesk.domain.enums import AgentRole, BotOutcome
from playerdesk.runtime import Runtime
from playerdesk.services import floor_config
from tests.conftest import START, AgentFactory
from tests.services.test_bot_admin import finished_turn

API = "/api/v1/bot"
PROBLEM = "application/problem+json"


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


async def test_the_bot_needs_a_token(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(f"{API}/channels"),
        await client.put(f"{API}/channels/web_chat", json={"enabled": True}),
        await client.get(f"{API}/report"),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SENIOR])
async def test_agents_may_not_see_or_switch_the_bot(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, role: AgentRole
) -> None:
    agent = await make_agent(role)
    h = agent.headers
    assert (await client.get(f"{API}/channels", headers=h)).status_code == 403
    switched = await client.put(f"{API}/channels/web_chat", json={"enabled": True}, headers=h)
    assert switched.status_code == 403
    # The role is checked before the channel: no hint of what exists.
    other = await client.put(f"{API}/channels/email", json={"enabled": True}, headers=h)
    assert other.status_code == 403
    assert (await client.get(f"{API}/report", headers=h)).status_code == 403
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == frozenset()


async def test_a_supervisor_switches_the_bot_on_a_channel(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    h = supervisor.headers

    listed = await client.get(f"{API}/channels", headers=h)
    assert listed.status_code == 200
    assert listed.json() == [
        {"channel": channel, "enabled": False, "updated_at": None, "updated_by": None}
        for channel in ("web_chat", "telegram", "whatsapp", "viber")
    ]

    switched = await client.put(f"{API}/channels/telegram", json={"enabled": True}, headers=h)
    assert switched.status_code == 200, switched.text
    assert switched.json()["channel"] == "telegram"
    assert switched.json()["enabled"] is True
    assert switched.json()["updated_at"] == START.isoformat().replace("+00:00", "Z")

    listed = await client.get(f"{API}/channels", headers=h)
    telegram = {item["channel"]: item for item in listed.json()}["telegram"]
    assert telegram["enabled"] is True
    assert telegram["updated_by"] == "Supervisor 1"
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == {"telegram"}
        entries = list(
            await uow.session.execute(
                select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.actor_agent_id).where(
                    AuditEntry.entity_type == "bot_channel"
                )
            )
        )
    assert [tuple(entry) for entry in entries] == [
        ("bot.channel_enabled", "telegram", supervisor.id)
    ]

    off = await client.put(f"{API}/channels/telegram", json={"enabled": False}, headers=h)
    assert off.status_code == 200
    assert off.json()["enabled"] is False
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == frozenset()


@pytest.mark.parametrize(
    ("channel", "body", "field"),
    [
        ("email", {"enabled": True}, "channel"),
        ("phone", {"enabled": True}, "channel"),
        ("carrier-pigeon", {"enabled": True}, "channel"),
        ("web_chat", {"enabled": "yes"}, "enabled"),
        ("web_chat", {"enabled": 1}, "enabled"),
        ("web_chat", {}, "enabled"),
        ("web_chat", {"enabled": True, "team": 3}, "team"),
        ("x" * 21, {"enabled": True}, "channel"),
    ],
)
async def test_a_bad_switch_is_refused_with_its_field(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    channel: str,
    body: dict[str, object],
    field: str,
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    response = await client.put(f"{API}/channels/{channel}", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert problem_fields(response) == [field]
    async with runtime.uow() as uow:
        assert (
            await uow.session.scalar(
                select(AuditEntry.id).where(AuditEntry.entity_type == "bot_channel")
            )
            is None
        )


async def test_the_report_of_the_last_days(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    await finished_turn(
        runtime,
        outcome=BotOutcome.ANSWERED,
        finished_at=START - timedelta(hours=3),
        intent=Intent.WITHDRAWAL_STATUS,
        confidence=0.9,
    )
    handed = await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(hours=2),
        intent=Intent.COMPLAINT,
        confidence=0.82,
        language="sv",
        reasons=[HandoffReason.SENSITIVE_INTENT],
    )
    await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(days=3),
        intent=Intent.HUMAN_AGENT,
        confidence=0.97,
        reasons=[HandoffReason.ASKED_FOR_AGENT],
    )

    week = await client.get(f"{API}/report", headers=supervisor.headers)
    assert week.status_code == 200, week.text
    body = week.json()
    assert body["since"] == (START - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert (body["turns"], body["answered"], body["handed_off"], body["skipped"]) == (3, 1, 2, 0)
    assert body["reasons"] == {"asked_for_agent": 1, "sensitive_intent": 1}
    assert body["intents"] == {"complaint": 1, "human_agent": 1, "withdrawal_status": 1}
    assert len(body["recent_handoffs"]) == 2
    assert body["recent_handoffs"][0] == {
        "ticket_id": handed.id,
        "ticket_number": handed.number,
        "at": (START - timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "language": "sv",
        "intent": "complaint",
        "confidence": pytest.approx(0.82),
        "rg_risk": False,
        "reasons": ["sensitive_intent"],
    }

    day = await client.get(f"{API}/report", params={"days": 1}, headers=supervisor.headers)
    assert (day.json()["turns"], day.json()["handed_off"]) == (2, 1)
    # The period follows the clock.
    clock.advance(timedelta(days=1))
    later = await client.get(f"{API}/report", params={"days": 1}, headers=supervisor.headers)
    assert later.json()["turns"] == 0
    assert later.json()["recent_handoffs"] == []


@pytest.mark.parametrize("days", ["0", "91", "-1", "week", "1.5"])
async def test_the_report_period_is_1_to_90_days(
    client: httpx.AsyncClient, make_agent: AgentFactory, days: str
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    response = await client.get(f"{API}/report", params={"days": days}, headers=admin.headers)
    assert response.status_code == 422
    assert problem_fields(response) == ["days"]
