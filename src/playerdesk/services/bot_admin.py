"""What supervisors decide and see of the bot (issue 7): on which channels it answers
first, and what it did there: answered, handed over and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from playerdesk.db.models import Agent, BotChannel, BotTurn, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import BOT_CHANNELS, BotOutcome, Channel
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit, floor_config

RECENT_HANDOFFS = 50


@dataclass(frozen=True, kw_only=True)
class BotChannelView:
    channel: Channel
    enabled: bool
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True, kw_only=True)
class HandoffView:
    ticket_id: int
    ticket_number: int
    at: datetime
    language: str | None
    intent: str | None
    confidence: float | None
    rg_risk: bool
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class BotReport:
    since: datetime
    turns: int
    answered: int
    handed_off: int
    skipped: int
    reasons: dict[str, int]  # hand-off reason -> turns, most frequent first
    intents: dict[str, int]  # intent -> turns, most frequent first
    recent_handoffs: list[HandoffView]


def _channel(value: Channel | str) -> Channel:
    try:
        channel = Channel(value)
    except ValueError:
        raise ValidationFailed(f"unknown channel {value!r}", field="channel") from None
    if channel not in BOT_CHANNELS:
        raise ValidationFailed("the bot answers chat and messenger channels only", field="channel")
    return channel


async def list_bot_channels(uow: UnitOfWork, *, actor: Actor) -> list[BotChannelView]:
    actor.require(Permission.BOT_MANAGE)
    rows = {
        row.channel: (row, name)
        for row, name in await uow.session.execute(
            select(BotChannel, Agent.name).outerjoin(
                Agent, Agent.id == BotChannel.updated_by_agent_id
            )
        )
    }
    views = []
    for channel in BOT_CHANNELS:
        row, name = rows.get(channel.value, (None, None))
        views.append(
            BotChannelView(
                channel=channel,
                enabled=bool(row and row.enabled),
                updated_at=row.updated_at if row else None,
                updated_by=name,
            )
        )
    return views


async def set_bot_channel(
    uow: UnitOfWork, *, actor: Actor, channel: Channel | str, enabled: bool
) -> BotChannelView:
    """Turn the bot on or off for new conversations on a channel. Conversations the bot is
    already in stay with it until it hands over."""
    actor.require(Permission.BOT_MANAGE)
    chosen = _channel(channel)
    now = uow.clock.now()
    row = await uow.session.get(BotChannel, chosen.value, with_for_update=True)
    if row is None:
        row = BotChannel(channel=chosen.value, enabled=enabled)
        uow.session.add(row)
    row.enabled = enabled
    row.updated_at = now
    row.updated_by_agent_id = actor.agent_id
    audit.record(
        uow,
        actor=actor,
        action="bot.channel_enabled" if enabled else "bot.channel_disabled",
        entity_type="bot_channel",
        entity_id=chosen.value,
    )
    await floor_config.commit_change(uow)
    return BotChannelView(channel=chosen, enabled=enabled, updated_at=now, updated_by=actor.name)


def _most_frequent_first(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


async def bot_report(uow: UnitOfWork, *, actor: Actor, since: datetime) -> BotReport:
    """The bot's finished turns since `since`: outcomes, hand-off reasons and intents, and
    the latest hand-offs for a supervisor to read."""
    actor.require(Permission.BOT_MANAGE)
    rows = list(
        await uow.session.execute(
            select(BotTurn, Ticket.number)
            .join(Ticket, Ticket.id == BotTurn.ticket_id)
            .where(BotTurn.finished_at.is_not(None), BotTurn.finished_at >= since)
            .order_by(BotTurn.finished_at.desc(), BotTurn.id.desc())
        )
    )
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    handoffs: list[HandoffView] = []
    for turn, number in rows:
        outcomes[turn.outcome or ""] += 1
        if turn.intent:
            intents[turn.intent] += 1
        if turn.outcome != BotOutcome.HANDED_OFF.value:
            continue
        turn_reasons = [reason for reason in (turn.reasons or "").split(",") if reason]
        reasons.update(turn_reasons)
        if len(handoffs) < RECENT_HANDOFFS:
            assert turn.finished_at is not None
            handoffs.append(
                HandoffView(
                    ticket_id=turn.ticket_id,
                    ticket_number=number,
                    at=turn.finished_at,
                    language=turn.language,
                    intent=turn.intent,
                    confidence=turn.confidence,
                    rg_risk=bool(turn.rg_risk),
                    reasons=turn_reasons,
                )
            )
    return BotReport(
        since=since,
        turns=len(rows),
        answered=outcomes[BotOutcome.ANSWERED.value],
        handed_off=outcomes[BotOutcome.HANDED_OFF.value],
        skipped=outcomes[BotOutcome.SKIPPED.value],
        reasons=_most_frequent_first(reasons),
        intents=_most_frequent_first(intents),
        recent_handoffs=handoffs,
    )
