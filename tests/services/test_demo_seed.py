from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from playerdesk.bot.pipeline import Bot
from playerdesk.db.base import Base
from playerdesk.db.models import Agent, BotChannel, BotTurn, Message, Player, Team, Ticket
from playerdesk.demo import BOT_STORIES, DEMO_EMAIL_DOMAIN, TICKETS, DemoRefused, seed_demo
from playerdesk.domain.enums import AgentRole, AuthorKind, Channel, MessageKind, TicketStatus
from playerdesk.runtime import Runtime, build_runtime
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from playerdesk.settings import Environment, Settings
from tests.conftest import RecordingBus


@pytest.fixture(autouse=True)
def _session_bot(runtime: Runtime, bot: Bot) -> None:
    """The demo tells the bot's morning with the session's model (not one trained per test)."""
    runtime.bot = bot


async def _row_counts(runtime: Runtime) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with runtime.uow() as uow:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = await uow.session.scalar(select(func.count()).select_from(table))
    return counts


async def test_demo_agents_of_every_role_can_log_in(runtime: Runtime) -> None:
    logins = await seed_demo(runtime)

    assert {login.role for login in logins} == {role.value for role in AgentRole}
    for login in logins:
        assert login.email.endswith(f"@{DEMO_EMAIL_DOMAIN}")
        assert len(login.password) >= auth.MIN_PASSWORD_LENGTH
        async with runtime.uow() as uow:
            result = await auth.login(
                uow,
                email=login.email,
                password=login.password,
                ip="127.0.0.1",
                user_agent="pytest",
                policy=runtime.policies.login,
            )
        assert result.agent.role == login.role

    async with runtime.uow() as uow:
        agents = (await uow.session.scalars(select(Agent).options(selectinload(Agent.teams)))).all()
        team_names = set((await uow.session.scalars(select(Team.name))).all())
    assert {agent.role for agent in agents} == {role.value for role in AgentRole}
    assert {code for agent in agents for code in agent.languages} == {"en", "pl", "sv"}
    assert team_names == {
        "Payments",
        "Verification/KYC",
        "Bonuses",
        "Technical",
        "VIP",
        "Responsible Gambling",
        "Complaints",
        "General",
        "Senior",
    }
    # Every team has somebody to work it.
    assert {team.name for agent in agents for team in agent.teams} == team_names


async def test_demo_players_and_tickets_look_like_a_casino_floor(runtime: Runtime) -> None:
    await seed_demo(runtime)

    async with runtime.uow() as uow:
        players = (await uow.session.scalars(select(Player))).all()
        tickets = (
            await uow.session.scalars(select(Ticket).options(selectinload(Ticket.tags)))
        ).all()
        messages = (await uow.session.scalars(select(Message))).all()
        teams = {team.id: team.name for team in (await uow.session.scalars(select(Team))).all()}

    vips = [player for player in players if player.vip_tier]
    assert {player.vip_tier for player in vips} == {"bronze", "silver", "gold", "platinum"}
    assert any(player.personal_manager_id for player in vips)
    assert {player.language for player in players} == {"en", "pl", "sv"}

    assert {ticket.language for ticket in tickets} == {"en", "pl", "sv"}
    assert len({ticket.channel for ticket in tickets}) >= 5
    assert {ticket.channel for ticket in tickets} >= {Channel.TELEGRAM, Channel.PHONE}
    assert {ticket.status for ticket in tickets} >= {
        TicketStatus.NEW,
        TicketStatus.OPEN,
        TicketStatus.PENDING,
        TicketStatus.RESOLVED,
    }
    assert {ticket.priority for ticket in tickets} == {"low", "normal", "high", "urgent"}
    assert all(ticket.tags for ticket in tickets)
    numbers = [ticket.number for ticket in tickets]
    assert len(set(numbers)) == len(numbers)

    urgent_rg = [
        ticket
        for ticket in tickets
        if ticket.priority == "urgent" and teams[ticket.team_id] == "Responsible Gambling"
    ]
    assert urgent_rg, "a responsible-gambling request must be urgent and with the RG team"

    kinds = {(message.author_kind, message.kind) for message in messages}
    assert (AuthorKind.AGENT, MessageKind.NOTE) in kinds
    assert (AuthorKind.AGENT, MessageKind.REPLY) in kinds
    # The status each ticket was left in matches its conversation: replied-to tickets have
    # a first response, new ones have none.
    replied = {m.ticket_id for m in messages if (m.author_kind, m.kind) == ("agent", "reply")}
    for ticket in tickets:
        assert (ticket.first_response_at is not None) == (ticket.id in replied)
        if ticket.status == TicketStatus.NEW:
            assert ticket.id not in replied
    # The morning is spread over hours, in the past, each ticket's messages after its opening.
    opened = sorted(ticket.created_at for ticket in tickets)
    assert len(set(opened)) == len(tickets)
    assert opened[-1] < runtime.clock.now()
    assert opened[-1] - opened[0] > timedelta(hours=6)
    opened_by_ticket = {ticket.id: ticket.created_at for ticket in tickets}
    assert all(m.created_at >= opened_by_ticket[m.ticket_id] for m in messages)
    assert len({m.created_at for m in messages}) > len(tickets)
    # The card number one player pasted into the chat is masked like any other.
    assert any(message.redacted for message in messages)
    assert not any("4111 1111 1111 1111" in message.body for message in messages)


async def test_second_seed_changes_nothing_and_returns_the_same_logins(
    runtime: Runtime, bus: RecordingBus
) -> None:
    first = await seed_demo(runtime)
    before = await _row_counts(runtime)
    published = len(bus.published)

    second = await seed_demo(runtime)

    assert second == first
    assert await _row_counts(runtime) == before
    assert len(bus.published) == published
    assert before["tickets"] > 0


async def test_demo_is_refused_in_production(settings: Settings, bus: RecordingBus) -> None:
    prod = build_runtime(settings.model_copy(update={"env": Environment.PROD}), bus=bus)
    try:
        with pytest.raises(DemoRefused):
            await seed_demo(prod)
    finally:
        await prod.close()


async def test_interrupted_seed_is_completed_without_duplicates(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create_ticket = ticket_service.create_ticket
    created = 0

    async def crash_on_sixth_ticket(*args: Any, **kwargs: Any) -> Ticket:
        nonlocal created
        created += 1
        if created == 6:
            raise RuntimeError("power cut")
        return await real_create_ticket(*args, **kwargs)

    monkeypatch.setattr(ticket_service, "create_ticket", crash_on_sixth_ticket)
    with pytest.raises(RuntimeError, match="power cut"):
        await seed_demo(runtime)
    monkeypatch.setattr(ticket_service, "create_ticket", real_create_ticket)

    logins = await seed_demo(runtime)
    after = await _row_counts(runtime)
    assert await seed_demo(runtime) == logins
    assert await _row_counts(runtime) == after

    async with runtime.uow() as uow:
        subjects = list((await uow.session.scalars(select(Ticket.subject))).all())
        agents = await uow.session.scalar(select(func.count()).select_from(Agent))
    told = [spec.subject for spec in TICKETS] + [story.said[0] for story in BOT_STORIES]
    assert sorted(subjects) == sorted(told)
    assert agents == len(logins)


async def test_the_demo_floor_has_routing_sla_and_a_rota(runtime: Runtime) -> None:
    from playerdesk.domain.permissions import Actor
    from playerdesk.services import routing_admin

    await seed_demo(runtime)
    await seed_demo(runtime)  # a second run adds nothing
    system = Actor.system()
    async with runtime.uow() as uow:
        teams = await routing_admin.list_team_routing(uow, actor=system)
        rules = await routing_admin.list_routing_rules(uow, actor=system)
        policies = await routing_admin.list_sla_policies(uow, actor=system)
        shifts = await routing_admin.list_shifts(uow, actor=system)
        rota = await routing_admin.list_schedule_entries(uow, actor=system)
    assert {team.purpose for team in teams if team.purpose} == {
        "general",
        "vip",
        "senior",
        "responsible_gambling",
    }
    assert {rule.topic for rule in rules} >= {"payments", "verification", "complaints"}
    assert len(policies) == 4  # the shipped defaults, not a second copy
    assert sorted(shift.name for shift in shifts) == [
        "Afternoon 14-22",
        "Morning 06-14",
        "Night 22-06",
    ]
    assert len(rota) == 4


async def test_the_demo_bot_answered_handed_over_and_protected(runtime: Runtime) -> None:
    await seed_demo(runtime)
    async with runtime.uow() as uow:
        turns = (await uow.session.scalars(select(BotTurn).order_by(BotTurn.id))).all()
        channels = (await uow.session.scalars(select(BotChannel))).all()
        bot_tickets = (
            await uow.session.scalars(select(Ticket).where(Ticket.bot_state.is_not(None)))
        ).all()
    assert [(row.channel, row.enabled) for row in channels] == [("web_chat", True)]
    assert {turn.outcome for turn in turns} == {"answered", "handed_off"}
    assert any(turn.rg_risk for turn in turns)
    assert {ticket.language for ticket in bot_tickets} == {"en", "pl", "sv"}
    rg = [t for t in bot_tickets if t.topic == "responsible_gambling"]
    assert rg and all(t.priority == "urgent" for t in rg)
