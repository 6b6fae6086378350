"""The bot's administration: switching it per channel (permissions, audit, the floor
configuration's cache) and the report of its turns (outcomes, reasons, intents, the latest
hand-overs)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from playerdesk.bot.intents import Intent
from playerdesk.bot.policy import HandoffReason
from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry, BotChannel, BotTurn, Message, Ticket
from playerdesk.domain.enums import AgentRole, BotOutcome, Channel
from playerdesk.domain.errors import PermissionDenied, ValidationFailed
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import bot_admin, floor_config
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import START, AgentFactory

_players = itertools.count(1)


async def chat_ticket(runtime: Runtime, *, name: str = "Priya Shah") -> Ticket:
    """A live chat opened while the bot is off on it: no turn of its own is queued."""
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT,
                subject="Chat",
                body="Where is my withdrawal?",
                player=PlayerFields(
                    name=name, email=f"player{next(_players)}@example.test", language="en"
                ),
                language="en",
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def finished_turn(
    runtime: Runtime,
    *,
    outcome: BotOutcome,
    finished_at: datetime,
    intent: Intent | None = None,
    confidence: float | None = None,
    language: str | None = "en",
    rg_risk: bool = False,
    reasons: Sequence[HandoffReason] = (),
) -> Ticket:
    """A bot turn as the bot job leaves it, on a chat of its own (a turn is one message)."""
    ticket = await chat_ticket(runtime)
    async with runtime.uow() as uow:
        message_id = await uow.session.scalar(
            select(Message.id).where(Message.ticket_id == ticket.id)
        )
        assert message_id is not None
        uow.session.add(
            BotTurn(
                ticket_id=ticket.id,
                message_id=message_id,
                created_at=finished_at - timedelta(seconds=2),
                due_at=finished_at - timedelta(seconds=2),
                attempts=1,
                finished_at=finished_at,
                outcome=outcome.value,
                language=language,
                intent=intent.value if intent else None,
                confidence=confidence,
                rg_risk=rg_risk,
                reasons=",".join(reason.value for reason in reasons) or None,
            )
        )
        await uow.commit()
    return ticket


async def audit_actions(runtime: Runtime) -> list[tuple[str, str | None, int | None]]:
    """The bot switches in the audit log: action, channel, who."""
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.actor_agent_id)
            .where(AuditEntry.entity_type == "bot_channel")
            .order_by(AuditEntry.id)
        )
        return [(action, entity_id, agent_id) for action, entity_id, agent_id in rows]


async def test_every_bot_channel_is_listed_and_off_until_switched_on(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    async with runtime.uow() as uow:
        views = await bot_admin.list_bot_channels(uow, actor=supervisor.actor)
    assert [view.channel for view in views] == [
        Channel.WEB_CHAT,
        Channel.TELEGRAM,
        Channel.WHATSAPP,
        Channel.VIBER,
    ]
    assert all(not view.enabled and view.updated_at is None for view in views)


async def test_a_supervisor_switches_the_bot_on_and_off_audited_and_seen_by_the_hot_path(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    async with runtime.uow() as uow:
        # Loaded (and cached) before the change: the change must not wait for the cache.
        assert (await floor_config.floor_config(uow)).bot_channels == frozenset()

    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=supervisor.actor, channel=Channel.WEB_CHAT, enabled=True
        )
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == {"web_chat"}
        views = {
            view.channel: view
            for view in await bot_admin.list_bot_channels(uow, actor=supervisor.actor)
        }
    web_chat = views[Channel.WEB_CHAT]
    assert web_chat.enabled and web_chat.updated_at == START
    assert web_chat.updated_by == "Supervisor 1"
    assert not views[Channel.TELEGRAM].enabled

    clock.advance(timedelta(minutes=5))
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=supervisor.actor, channel="telegram", enabled=True
        )
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=supervisor.actor, channel="web_chat", enabled=False
        )
    async with runtime.uow() as uow:
        assert (await floor_config.floor_config(uow)).bot_channels == {"telegram"}
        row = await uow.session.get(BotChannel, "web_chat")
    assert row is not None and not row.enabled
    assert row.updated_at == START + timedelta(minutes=5)

    assert await audit_actions(runtime) == [
        ("bot.channel_enabled", "web_chat", supervisor.id),
        ("bot.channel_enabled", "telegram", supervisor.id),
        ("bot.channel_disabled", "web_chat", supervisor.id),
    ]


async def test_a_new_chat_on_a_switched_on_channel_goes_to_the_bot(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    before = await chat_ticket(runtime)
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(uow, actor=admin.actor, channel="web_chat", enabled=True)
    after = await chat_ticket(runtime, name="Jan Kowalski")
    assert before.bot_state is None
    assert after.bot_state == "active"


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SENIOR])
async def test_agents_and_seniors_may_not_manage_the_bot(
    runtime: Runtime, make_agent: AgentFactory, role: AgentRole
) -> None:
    agent = await make_agent(role)
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await bot_admin.list_bot_channels(uow, actor=agent.actor)
        with pytest.raises(PermissionDenied):
            await bot_admin.set_bot_channel(
                uow, actor=agent.actor, channel="web_chat", enabled=True
            )
        with pytest.raises(PermissionDenied):
            await bot_admin.bot_report(uow, actor=agent.actor, since=START - timedelta(days=7))
    assert await audit_actions(runtime) == []
    async with runtime.uow() as uow:
        assert await uow.session.scalar(select(BotChannel)) is None


@pytest.mark.parametrize("channel", ["email", "form", "phone", "fax", ""])
async def test_the_bot_answers_chat_and_messenger_channels_only(
    runtime: Runtime, make_agent: AgentFactory, channel: str
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed) as refused:
            await bot_admin.set_bot_channel(uow, actor=admin.actor, channel=channel, enabled=True)
    assert refused.value.field == "channel"
    assert await audit_actions(runtime) == []


async def test_the_report_counts_outcomes_reasons_and_intents_of_the_period(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    an_hour_ago = START - timedelta(hours=1)
    await finished_turn(
        runtime,
        outcome=BotOutcome.ANSWERED,
        finished_at=an_hour_ago,
        intent=Intent.BALANCE,
        confidence=0.93,
    )
    await finished_turn(
        runtime,
        outcome=BotOutcome.ANSWERED,
        finished_at=an_hour_ago,
        intent=Intent.BALANCE,
        confidence=0.88,
    )
    risky = await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(minutes=10),
        intent=Intent.RESPONSIBLE_GAMBLING,
        confidence=0.71,
        language="pl",
        rg_risk=True,
        reasons=[HandoffReason.RISK_DETECTED, HandoffReason.SENSITIVE_INTENT],
    )
    unsure = await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(days=2),
        intent=Intent.WITHDRAWAL_STATUS,
        confidence=0.41,
        reasons=[HandoffReason.LOW_CONFIDENCE],
    )
    await finished_turn(runtime, outcome=BotOutcome.SKIPPED, finished_at=an_hour_ago)
    # Outside the period: eight days ago.
    await finished_turn(
        runtime,
        outcome=BotOutcome.HANDED_OFF,
        finished_at=START - timedelta(days=8),
        intent=Intent.COMPLAINT,
        reasons=[HandoffReason.SENSITIVE_INTENT],
    )

    async with runtime.uow() as uow:
        week = await bot_admin.bot_report(
            uow, actor=supervisor.actor, since=START - timedelta(days=7)
        )
        day = await bot_admin.bot_report(
            uow, actor=supervisor.actor, since=START - timedelta(days=1)
        )
    assert (week.turns, week.answered, week.handed_off, week.skipped) == (5, 2, 2, 1)
    assert week.reasons == {"low_confidence": 1, "risk_detected": 1, "sensitive_intent": 1}
    assert week.intents == {"balance": 2, "responsible_gambling": 1, "withdrawal_status": 1}
    assert [item.ticket_number for item in week.recent_handoffs] == [risky.number, unsure.number]
    latest = week.recent_handoffs[0]
    assert (latest.ticket_id, latest.language, latest.intent, latest.rg_risk) == (
        risky.id,
        "pl",
        "responsible_gambling",
        True,
    )
    assert latest.confidence == pytest.approx(0.71)
    assert latest.reasons == ["risk_detected", "sensitive_intent"]

    assert (day.turns, day.handed_off) == (4, 1)
    assert [item.ticket_id for item in day.recent_handoffs] == [risky.id]
