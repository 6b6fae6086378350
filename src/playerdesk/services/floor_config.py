"""Routing, SLA, escalation and bot configuration as the hot path reads it: policies, team
calendars and purposes, routing and escalation rules, the channels the bot answers, loaded
together and kept for a few seconds per process and database.

Every new conversation and many messages need this configuration, and an admin changes it
a few times a day: a short cache saves several queries per message. A change made in this
process is seen at once (`forget` runs after the admin's commit); other processes see it
within CACHE_SECONDS.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from playerdesk.db.models import (
    BotChannel,
    BusinessCalendarRow,
    EscalationRuleRow,
    RoutingRuleRow,
    SlaPolicyRow,
    Team,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import BusinessCalendar, WorkingInterval
from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.routing import RoutingRule, TeamPurpose
from playerdesk.domain.sla import SlaConditions, SlaPolicyRule, SlaTargets

CACHE_SECONDS = 10.0


def calendar_of(row: BusinessCalendarRow) -> BusinessCalendar:
    return BusinessCalendar(
        time_zone=row.time_zone,
        intervals=tuple(
            WorkingInterval(weekday=weekday, start_minute=start, end_minute=end)
            for weekday, start, end in row.intervals
        ),
        holidays=frozenset(date.fromisoformat(day) for day in row.holidays),
    )


def policy_of(row: SlaPolicyRow) -> SlaPolicyRule:
    def minutes(value: int | None) -> timedelta | None:
        return timedelta(minutes=value) if value is not None else None

    return SlaPolicyRule(
        name=row.name,
        conditions=SlaConditions(
            channels=frozenset(Channel(name) for name in row.channels),
            priorities=frozenset(Priority(name) for name in row.priorities),
            vip=VipMatch(row.vip),
            vip_tiers=frozenset(row.vip_tiers),
            team_ids=frozenset(row.team_ids),
        ),
        targets=SlaTargets(
            first_response=minutes(row.first_response_minutes),
            next_response=minutes(row.next_response_minutes),
            resolution=minutes(row.resolution_minutes),
        ),
        warning_ratio=row.warning_percent / 100,
    )


def rule_of(row: RoutingRuleRow) -> RoutingRule:
    return RoutingRule(
        rule_id=row.id,
        team_id=row.team_id,
        topic=row.topic,
        language=row.language,
        channel=Channel(row.channel) if row.channel else None,
        vip=VipMatch(row.vip),
    )


@dataclass(frozen=True, kw_only=True)
class UnresolvedLimit:
    """An escalation rule that fires when a ticket of its topics stays unresolved."""

    rule_id: int
    topics: frozenset[str]  # empty: every topic
    after: timedelta

    def applies_to(self, topic: str | None) -> bool:
        return not self.topics or topic in self.topics


@dataclass(frozen=True, kw_only=True)
class FloorConfig:
    loaded_at: float
    sla_policies: list[tuple[int, SlaPolicyRule]]  # ordered, active only
    calendars: dict[int, BusinessCalendar]  # by team id; teams without one run 24/7
    purposes: dict[TeamPurpose, int]
    routing_rules: list[RoutingRule]  # ordered, active only
    unresolved_limits: list[UnresolvedLimit]
    bot_channels: frozenset[str]  # channels the bot answers first

    def calendar_for(self, team_id: int | None) -> BusinessCalendar:
        if team_id is None:
            return BusinessCalendar.around_the_clock()
        return self.calendars.get(team_id) or BusinessCalendar.around_the_clock()

    def sla_policy(self, policy_id: int | None) -> SlaPolicyRule | None:
        return next((rule for pid, rule in self.sla_policies if pid == policy_id), None)


# Per database engine: a process serving one database has one entry; tests make many.
_cache: weakref.WeakKeyDictionary[object, FloorConfig] = weakref.WeakKeyDictionary()


def forget() -> None:
    """Drop what is cached (after an admin changed the configuration)."""
    _cache.clear()


async def commit_change(uow: UnitOfWork) -> None:
    """Commit a configuration change; this process's cached copy is dropped right after."""

    async def forget_after_commit() -> None:
        forget()

    uow.on_commit(forget_after_commit)
    await uow.commit()


async def floor_config(uow: UnitOfWork) -> FloorConfig:
    engine = uow.session.get_bind()
    cached = _cache.get(engine)
    if cached is not None and time.monotonic() - cached.loaded_at < CACHE_SECONDS:
        return cached
    session = uow.session
    policies = [
        (row.id, policy_of(row))
        for row in await session.scalars(
            select(SlaPolicyRow)
            .where(SlaPolicyRow.is_active.is_(True))
            .order_by(SlaPolicyRow.position, SlaPolicyRow.id)
        )
    ]
    calendars: dict[int, BusinessCalendar] = {}
    purposes: dict[TeamPurpose, int] = {}
    for team, calendar in await session.execute(
        select(Team, BusinessCalendarRow).outerjoin(
            BusinessCalendarRow, BusinessCalendarRow.id == Team.calendar_id
        )
    ):
        if calendar is not None:
            calendars[team.id] = calendar_of(calendar)
        if team.purpose:
            purposes[TeamPurpose(team.purpose)] = team.id
    rules = [
        rule_of(row)
        for row in await session.scalars(
            select(RoutingRuleRow)
            .where(RoutingRuleRow.is_active.is_(True))
            .order_by(RoutingRuleRow.position, RoutingRuleRow.id)
        )
    ]
    limits = [
        UnresolvedLimit(
            rule_id=row.id,
            topics=frozenset(row.topics),
            after=timedelta(minutes=row.after_minutes or 0),
        )
        for row in await session.scalars(
            select(EscalationRuleRow)
            .where(
                EscalationRuleRow.is_active.is_(True),
                EscalationRuleRow.trigger == "unresolved",
                EscalationRuleRow.after_minutes.is_not(None),
            )
            .order_by(EscalationRuleRow.position, EscalationRuleRow.id)
        )
    ]
    bot_channels = frozenset(
        await session.scalars(select(BotChannel.channel).where(BotChannel.enabled.is_(True)))
    )
    config = FloorConfig(
        loaded_at=time.monotonic(),
        bot_channels=bot_channels,
        sla_policies=policies,
        calendars=calendars,
        purposes=purposes,
        routing_rules=rules,
        unresolved_limits=limits,
    )
    _cache[engine] = config
    return config
