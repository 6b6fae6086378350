"""SLA clocks on real tickets with a frozen clock: policies, pause and resume, warnings and
breaches recorded by the floor tick, escalation, business calendars."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Escalation, OutboxItem, Player, SlaEventRow, Ticket
from playerdesk.domain.calendar import WorkingInterval
from playerdesk.domain.enums import (
    AgentRole,
    AuthorKind,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
)
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.events import SlaAlert, TicketEscalated
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, escalation, floor, routing_admin, sla
from playerdesk.services import messages as message_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import PG_URL, AgentFactory, AgentLogin, RecordingBus


async def open_ticket(
    runtime: Runtime,
    *,
    channel: Channel = Channel.WEB_CHAT,
    player: str = "P-1",
    topic: str | None = None,
    team_id: int | None = None,
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=channel,
                subject="Where is my withdrawal?",
                body="It has been three days",
                player_external_id=player,
                player=PlayerFields(),
                topic=topic,
                team_id=team_id,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def summary(runtime: Runtime, ticket_id: int) -> sla.TicketSla:
    async with runtime.uow() as uow:
        ticket = await uow.session.get_one(Ticket, ticket_id)
        return (await sla.ticket_slas(uow, tickets=[ticket]))[ticket_id]


def clock_of(summary: sla.TicketSla, metric: str) -> sla.ClockView:
    [found] = [clock for clock in summary.clocks if clock.metric == metric]
    return found


async def reply(runtime: Runtime, agent: AgentLogin, ticket_id: int, body: str = "On it") -> None:
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            body=body,
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )


async def player_says(runtime: Runtime, ticket_id: int, body: str = "Any news?") -> None:
    async with runtime.uow() as uow:
        await message_service.post_player_message(
            uow,
            actor=Actor.system(),
            ticket_id=ticket_id,
            body=body,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def set_status(
    runtime: Runtime, agent: AgentLogin, ticket_id: int, status: TicketStatus
) -> None:
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            changes=ticket_service.TicketChanges(status=status),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )


async def tick(runtime: Runtime) -> floor.TickResult:
    async with runtime.uow() as uow:
        return await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )


async def test_shipped_policies_set_chat_email_and_vip_targets(
    runtime: Runtime, clock: FrozenClock
) -> None:
    start = clock.now()
    chat = await summary(runtime, (await open_ticket(runtime)).id)
    assert clock_of(chat, "first_response").due_at == start + timedelta(minutes=5)
    assert clock_of(chat, "resolution").due_at == start + timedelta(minutes=15)
    assert clock_of(chat, "first_response").warn_at == start + timedelta(minutes=4)
    assert chat.state == "running" and chat.next_due_at == start + timedelta(minutes=5)
    email = await summary(runtime, (await open_ticket(runtime, channel=Channel.EMAIL)).id)
    assert clock_of(email, "first_response").due_at == start + timedelta(hours=2)
    telegram = await summary(runtime, (await open_ticket(runtime, channel=Channel.TELEGRAM)).id)
    assert clock_of(telegram, "first_response").due_at == start + timedelta(minutes=5)
    async with runtime.uow() as uow:
        uow.session.add(
            Player(
                external_id="VIP-1",
                language="en",
                vip_tier="silver",
                created_at=start,
                updated_at=start,
            )
        )
        await uow.commit()
    vip = await summary(runtime, (await open_ticket(runtime, player="VIP-1")).id)
    assert clock_of(vip, "first_response").due_at == start + timedelta(minutes=1)


async def test_a_bot_reply_leaves_the_clock_running_and_an_agent_reply_meets_it(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime)
    clock.advance(timedelta(minutes=1))
    async with runtime.uow() as uow:
        locked = await uow.session.get_one(Ticket, ticket.id)
        await message_service.add_message(
            uow,
            ticket=locked,
            author_kind=AuthorKind.BOT,
            author=None,
            kind=MessageKind.REPLY,
            body="Let me check that for you",
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
        await uow.commit()
    assert clock_of(await summary(runtime, ticket.id), "first_response").state == "running"
    clock.advance(timedelta(minutes=2))
    await reply(runtime, agent, ticket.id)
    first = clock_of(await summary(runtime, ticket.id), "first_response")
    assert (first.state, first.stopped_at) == ("met", clock.now())


async def test_each_player_message_waiting_starts_the_next_response_clock(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime)
    await reply(runtime, agent, ticket.id)
    clock.advance(timedelta(minutes=1))
    asked_at = clock.now()
    await player_says(runtime, ticket.id)
    clock.advance(timedelta(minutes=1))
    await player_says(runtime, ticket.id, "Hello??")  # still the same wait
    following = clock_of(await summary(runtime, ticket.id), "next_response")
    assert (following.state, following.due_at) == ("running", asked_at + timedelta(minutes=5))
    await reply(runtime, agent, ticket.id)
    assert clock_of(await summary(runtime, ticket.id), "next_response").state == "met"


async def test_pending_on_the_player_pauses_and_resuming_never_shortens_the_deadline(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    start = clock.now()
    ticket = await open_ticket(runtime, channel=Channel.EMAIL)
    clock.advance(timedelta(hours=1))
    await set_status(runtime, agent, ticket.id, TicketStatus.PENDING)
    paused = await summary(runtime, ticket.id)
    assert paused.state == "paused" and clock_of(paused, "resolution").due_at is None
    clock.advance(timedelta(hours=5))
    await set_status(runtime, agent, ticket.id, TicketStatus.OPEN)
    resumed = await summary(runtime, ticket.id)
    # 23 h of business time were left on the 24 h resolution target.
    assert clock_of(resumed, "resolution").due_at == clock.now() + timedelta(hours=23)
    assert clock_of(resumed, "resolution").due_at > start + timedelta(hours=24)
    await set_status(runtime, agent, ticket.id, TicketStatus.RESOLVED)
    done = await summary(runtime, ticket.id)
    assert clock_of(done, "resolution").state == "met"
    assert clock_of(done, "first_response").state == "cancelled"


async def test_warning_then_breach_are_recorded_once_with_their_times_and_escalate(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock, bus: RecordingBus
) -> None:
    start = clock.now()
    ticket = await open_ticket(runtime)
    clock.advance(timedelta(minutes=4, seconds=3))
    await tick(runtime)
    clock.advance(timedelta(minutes=2))  # 6:03 in: first response breached at 5:00
    await tick(runtime)
    await tick(runtime)  # nothing new the second time
    async with runtime.uow() as uow:
        events = (
            await uow.session.scalars(
                select(SlaEventRow)
                .where(SlaEventRow.ticket_id == ticket.id)
                .order_by(SlaEventRow.id)
            )
        ).all()
        escalations = (
            await uow.session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id))
        ).all()
        current = await uow.session.get_one(Ticket, ticket.id)
    assert [(e.metric, e.kind, e.occurred_at) for e in events] == [
        ("first_response", "warning", start + timedelta(minutes=4)),
        ("first_response", "breach", start + timedelta(minutes=5)),
    ]
    assert events[0].detected_at == start + timedelta(minutes=4, seconds=3)
    alerts = [event for event in bus.published if isinstance(event, SlaAlert)]
    assert [(alert.kind, alert.metric) for alert in alerts] == [
        ("warning", "first_response"),
        ("breach", "first_response"),
    ]
    # The shipped rule "First response breached": one level up, priority raised, supervisors told.
    assert [(item.trigger, item.level) for item in escalations] == [("sla_breach", 1)]
    assert (current.priority, current.escalation_level) == (Priority.HIGH, 1)
    told = [event for event in bus.published if isinstance(event, TicketEscalated)]
    assert len(told) == 1 and told[0].notify_supervisors
    assert (await summary(runtime, ticket.id)).state == "breached"


async def test_a_team_calendar_moves_deadlines_out_of_closed_hours(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    async with runtime.uow() as uow:
        office = await routing_admin.create_calendar(
            uow,
            actor=admin.actor,
            calendar=routing_admin.CalendarInput(
                name="Warsaw office",
                time_zone="Europe/Warsaw",
                intervals=[
                    WorkingInterval(weekday=day, start_minute=9 * 60, end_minute=17 * 60)
                    for day in range(5)
                ],
            ),
        )
    from playerdesk.services import agents as agent_service

    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=admin.actor, name="Complaints desk")
    async with runtime.uow() as uow:
        await routing_admin.set_team_routing(
            uow, actor=admin.actor, team_id=team.id, calendar_id=office.id
        )
    clock.set(datetime(2026, 11, 6, 15, 30, tzinfo=UTC))  # Friday 16:30 in Warsaw
    ticket = await open_ticket(runtime, channel=Channel.EMAIL, team_id=team.id)
    first = clock_of(await summary(runtime, ticket.id), "first_response")
    # 30 minutes on Friday, 90 on Monday from 09:00 Warsaw (08:00 UTC).
    assert first.due_at == datetime(2026, 11, 9, 9, 30, tzinfo=UTC)


async def test_a_complex_case_unresolved_for_an_hour_goes_to_the_senior_team(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = {
            t.name: t.id for t in await routing_admin.list_team_routing(uow, actor=Actor.system())
        }
    agent = await make_agent(team_ids=[teams["Complaints"]])
    ticket = await open_ticket(runtime, channel=Channel.EMAIL, topic="complaints")
    await reply(runtime, agent, ticket.id)  # answered, but not resolved
    clock.advance(timedelta(minutes=59))
    await tick(runtime)
    assert (await summary(runtime, ticket.id)).policy_id is not None
    async with runtime.uow() as uow:
        assert (await uow.session.get_one(Ticket, ticket.id)).escalation_level == 0
    clock.advance(timedelta(minutes=2))
    await tick(runtime)
    async with runtime.uow() as uow:
        moved = await uow.session.get_one(Ticket, ticket.id)
        history = await escalation.escalation_history(uow, actor=agent.actor, ticket_id=ticket.id)
    assert moved.team_id == teams["Senior"] and moved.priority == Priority.HIGH
    assert [(item.trigger, item.to_team_id) for item in history] == [
        ("unresolved", teams["Senior"])
    ]
    assert moved.escalation_check_at is None  # that rule fired; it does not fire again


async def test_an_agent_escalates_by_hand_with_a_reason(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime)
    with pytest.raises(ValidationFailed) as refused:
        async with runtime.uow() as uow:
            await escalation.escalate_ticket(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                reason="  ",
                policy=runtime.policies.routing,
                mail_policy=runtime.policies.mail,
            )
    assert refused.value.field == "reason"
    async with runtime.uow() as uow:
        made = await escalation.escalate_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            reason="Player threatens a regulator complaint",
            policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    assert (made.level, made.trigger, made.agent_id) == (1, "manual", agent.id)
    assert (made.from_priority, made.to_priority) == ("normal", "high")
    assert any(isinstance(event, TicketEscalated) for event in bus.published)


async def test_escalation_mails_the_supervisors_of_the_team_it_lands_in(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = {
            t.name: t.id for t in await routing_admin.list_team_routing(uow, actor=Actor.system())
        }
    senior_lead = await make_agent(
        AgentRole.SUPERVISOR, team_ids=[teams["Senior"]], languages=["pl", "en"]
    )
    await make_agent(AgentRole.SUPERVISOR, team_ids=[teams["Payments"]])
    agent = await make_agent()
    ticket = await open_ticket(runtime)
    async with runtime.uow() as uow:
        await escalation.escalate_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            reason="Player threatens a regulator complaint",
            policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    async with runtime.read_uow() as uow:
        [mail] = (await uow.session.scalars(select(OutboxItem))).all()
    # The Senior team's supervisor only, in her first language; the player hears nothing.
    assert (mail.purpose, mail.recipient) == ("escalation", senior_lead.email)
    assert mail.payload["subject"].startswith(f"Eskalacja: #{ticket.number}")
    assert "Player threatens a regulator complaint" in mail.payload["text"]
    assert mail.payload["auto_submitted"] is True


async def test_deadlines_live_in_the_database_across_restarts(
    runtime: Runtime, settings: object, clock: FrozenClock, bus: RecordingBus
) -> None:
    """A breach that fell due while no process ran is found by the first tick after."""
    from playerdesk.runtime import Runtime as RuntimeClass

    ticket = await open_ticket(runtime)
    clock.advance(timedelta(hours=1))
    fresh = RuntimeClass(
        settings=runtime.settings,
        engine=runtime.engine,
        session_factory=runtime.session_factory,
        bus=runtime.bus,
        clock=runtime.clock,
        attachments=runtime.attachments,
    )
    result = await tick(fresh)
    assert result.sla_events == 4  # warning and breach of first response and of resolution
    async with runtime.uow() as uow:
        kinds = (
            await uow.session.scalars(
                select(SlaEventRow.kind).where(SlaEventRow.ticket_id == ticket.id)
            )
        ).all()
    assert sorted(kinds) == ["breach", "breach", "warning", "warning"]


@pytest.mark.skipif(not PG_URL, reason="row locks: runs in the PostgreSQL + Redis suite")
async def test_a_tick_leaves_a_ticket_someone_holds_for_the_next_pass(
    runtime: Runtime, clock: FrozenClock
) -> None:
    """An agent's transaction locks a ticket and then its clocks. A tick that took those
    clocks and then waited for the ticket would close a deadlock (seen under load)."""
    busy = await open_ticket(runtime, player="P-busy")
    free = await open_ticket(runtime, player="P-free")
    clock.advance(timedelta(minutes=20))
    async with runtime.uow() as agent_uow:
        await agent_uow.session.scalar(select(Ticket).where(Ticket.id == busy.id).with_for_update())
        # Only a guard against hanging: a tick that waits for the ticket never returns.
        first = await asyncio.wait_for(tick(runtime), timeout=60)
    second = await tick(runtime)
    async with runtime.uow() as uow:
        recorded = (await uow.session.scalars(select(SlaEventRow.ticket_id))).all()
    assert first.sla_events == second.sla_events == 4  # first response, resolution: warn, breach
    assert sorted(recorded) == sorted([busy.id] * 4 + [free.id] * 4)


async def test_two_workers_ticking_at_once_record_each_event_once(
    runtime: Runtime, clock: FrozenClock
) -> None:
    """With PostgreSQL the ticks really overlap: SKIP LOCKED gives each a different share
    of the tickets, and a clock whose ticket another tick holds waits for the next pass."""
    for index in range(30):
        await open_ticket(runtime, player=f"P-{index}")
    clock.advance(timedelta(minutes=20))  # every clock of every ticket is past due
    results = await asyncio.gather(tick(runtime), tick(runtime), tick(runtime))
    results.append(await tick(runtime))
    async with runtime.uow() as uow:
        rows = (
            await uow.session.execute(
                select(SlaEventRow.ticket_id, SlaEventRow.metric, SlaEventRow.kind)
            )
        ).all()
        escalations = (await uow.session.scalars(select(Escalation))).all()
    assert len(rows) == len(set(rows)) == 30 * 4  # first response and resolution: warn, breach
    assert sum(result.sla_events for result in results) == 120
    # The shipped rule escalates each first-response breach exactly once.
    assert sorted(item.ticket_id for item in escalations) == sorted({row[0] for row in rows})
