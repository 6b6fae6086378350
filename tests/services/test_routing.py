"""Routing on real persistence: teams by rule, agents by load and language, VIP managers,
the queue, capacity, and nothing stranded with an agent who left."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Agent, AuditEntry, Message, Player, Ticket
from playerdesk.domain.enums import AgentRole, Channel, MessageKind, Presence, TicketStatus
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.events import QueuePositionChanged
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth, chat, floor, routing, routing_admin
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import AgentFactory, AgentLogin, QueryCounter, RecordingBus
from tests.outbox_steps import agent_writes


async def standard_floor(runtime: Runtime) -> dict[str, int]:
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = await routing_admin.list_team_routing(uow, actor=Actor.system())
        return {team.name: team.id for team in teams}


async def go_online(runtime: Runtime, agent: AgentLogin) -> None:
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow,
            actor=agent.actor,
            presence=Presence.ONLINE,
            routing_policy=runtime.policies.routing,
        )


async def open_chat(
    runtime: Runtime,
    *,
    player: str,
    topic: str | None = None,
    language: str = "en",
    channel: Channel = Channel.WEB_CHAT,
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=channel,
                subject="Help",
                body="Hello?",
                player_external_id=player,
                player=PlayerFields(language=language),
                topic=topic,
                language=language,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def ticket(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.uow() as uow:
        found = await uow.session.get(Ticket, ticket_id)
        assert found is not None
        return found


async def loads(runtime: Runtime) -> dict[int, int]:
    async with runtime.uow() as uow:
        return {agent.id: agent.load_units for agent in await uow.session.scalars(select(Agent))}


async def assert_loads_match_tickets(runtime: Runtime) -> None:
    """The running counts equal a recount from the tickets."""
    async with runtime.uow() as uow:
        corrected = await routing.recount_loads(uow, policy=runtime.policies.routing)
        await uow.rollback()
    assert corrected == 0


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


async def test_a_topic_goes_to_its_team_and_the_least_loaded_member(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    teams = await standard_floor(runtime)
    payments = [await make_agent(team_ids=[teams["Payments"]]) for _ in range(2)]
    outsider = await make_agent(team_ids=[teams["Bonuses"]])
    for agent in [*payments, outsider]:
        await go_online(runtime, agent)
    first = await open_chat(runtime, player="P-1", topic="payments")
    clock.advance(timedelta(seconds=5))
    second = await open_chat(runtime, player="P-2", topic="payments")
    assert first.team_id == second.team_id == teams["Payments"]
    assert {first.assignee_id, second.assignee_id} == {payments[0].id, payments[1].id}
    assert (await loads(runtime))[outsider.id] == 0
    email = await open_chat(runtime, player="P-3", topic="payments", channel=Channel.EMAIL)
    # Both have one chat (100 units); the one idle longest (first assigned) gets the email.
    assert email.assignee_id == first.assignee_id
    assert (await loads(runtime))[first.assignee_id] == 125
    await assert_loads_match_tickets(runtime)
    async with runtime.uow() as uow:
        routed = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "ticket.routed")
            )
        ).all()
    assert len(routed) == 3


async def test_language_picks_the_speaker(runtime: Runtime, make_agent: AgentFactory) -> None:
    teams = await standard_floor(runtime)
    english = await make_agent(team_ids=[teams["General"]], languages=["en"])
    swede = await make_agent(team_ids=[teams["General"]], languages=["sv", "en"])
    await go_online(runtime, english)
    await go_online(runtime, swede)
    chat_in_swedish = await open_chat(runtime, player="P-1", language="sv")
    assert (chat_in_swedish.team_id, chat_in_swedish.assignee_id) == (teams["General"], swede.id)


async def test_a_vip_gets_their_manager_first_then_the_vip_team(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    teams = await standard_floor(runtime)
    manager = await make_agent(max_chats=1)
    vip_host = await make_agent(team_ids=[teams["VIP"]])
    await go_online(runtime, manager)
    await go_online(runtime, vip_host)
    async with runtime.uow() as uow:
        for external_id in ("VIP-1", "VIP-2"):
            uow.session.add(
                Player(
                    external_id=external_id,
                    language="en",
                    vip_tier="gold",
                    personal_manager_id=manager.id,
                    created_at=uow.clock.now(),
                    updated_at=uow.clock.now(),
                )
            )
        await uow.commit()
    first = await open_chat(runtime, player="VIP-1", topic="bonuses")
    assert first.assignee_id == manager.id  # their manager, whatever the topic's team
    second = await open_chat(runtime, player="VIP-2")
    # The manager is full (one chat): the VIP team takes it.
    assert (second.team_id, second.assignee_id) == (teams["VIP"], vip_host.id)


async def test_when_nobody_has_room_the_chat_waits_and_is_assigned_the_moment_one_frees_up(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus, clock: FrozenClock
) -> None:
    agent = await make_agent(max_chats=1)
    await go_online(runtime, agent)
    served = await open_chat(runtime, player="P-1")
    clock.advance(timedelta(seconds=10))
    waiting = await open_chat(runtime, player="P-2")
    clock.advance(timedelta(seconds=10))
    later = await open_chat(runtime, player="P-3")
    assert served.assignee_id == agent.id
    assert waiting.assignee_id is None and waiting.queued_at is not None
    positions = [event for event in bus.published if isinstance(event, QueuePositionChanged)]
    assert [(event.ticket_id, event.position) for event in positions] == [
        (waiting.id, 1),
        (later.id, 2),
    ]
    assert positions[0].estimated_wait_seconds == 240  # one agent, nothing measured yet
    assert (await loads(runtime))[agent.id] == 100

    bus.published.clear()
    await set_status(runtime, agent, served.id, TicketStatus.RESOLVED)
    assert (await ticket(runtime, waiting.id)).assignee_id == agent.id  # at once, in order
    assert (await ticket(runtime, later.id)).assignee_id is None
    moved = [event for event in bus.published if isinstance(event, QueuePositionChanged)]
    assert [(event.ticket_id, event.position) for event in moved] == [(later.id, 1)]
    assert (await loads(runtime))[agent.id] == 100
    await assert_loads_match_tickets(runtime)


async def test_who_answers_a_waiting_chat_takes_it_and_the_queue_gives_it_to_nobody_else(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent(max_chats=1)
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    await go_online(runtime, agent)
    served = await open_chat(runtime, player="P-1")
    waiting = await open_chat(runtime, player="P-2")
    assert (served.assignee_id, waiting.assignee_id) == (agent.id, None)

    bus.published.clear()
    await agent_writes(runtime, actor=supervisor.actor, ticket_id=waiting.id, body="On it")
    taken = await ticket(runtime, waiting.id)
    assert (taken.assignee_id, taken.queued_at, taken.status) == (supervisor.id, None, "open")
    assert (await loads(runtime))[supervisor.id] == 100
    assignments = [
        event.changes["assignee_id"]
        for event in bus.published
        if event.type == "ticket.updated" and "assignee_id" in event.changes
    ]
    assert assignments == [[None, supervisor.id]]
    async with runtime.uow() as uow:
        audited = (
            await uow.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "ticket.updated", AuditEntry.entity_id == str(waiting.id)
                )
            )
        ).one()
    assert audited.actor_agent_id == supervisor.id

    # The agent's room frees up: the chat the supervisor answers is no longer theirs to take.
    await set_status(runtime, agent, served.id, TicketStatus.RESOLVED)
    assert (await ticket(runtime, waiting.id)).assignee_id == supervisor.id
    assert (await loads(runtime))[agent.id] == 0
    await assert_loads_match_tickets(runtime)


async def test_a_note_takes_nothing_and_a_reply_leaves_a_colleagues_chat_with_them(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    colleague = await make_agent()
    waiting = await open_chat(runtime, player="P-1")  # nobody online: it waits
    await agent_writes(
        runtime,
        actor=colleague.actor,
        ticket_id=waiting.id,
        body="VIP, answer first",
        kind=MessageKind.NOTE,
    )
    noted = await ticket(runtime, waiting.id)
    assert noted.assignee_id is None and noted.queued_at is not None

    await go_online(runtime, agent)  # serves the queue
    assert (await ticket(runtime, waiting.id)).assignee_id == agent.id
    await agent_writes(runtime, actor=colleague.actor, ticket_id=waiting.id, body="On it")
    assert (await ticket(runtime, waiting.id)).assignee_id == agent.id
    assert (await loads(runtime))[colleague.id] == 0
    await assert_loads_match_tickets(runtime)


async def test_a_long_queue_is_counted_only_so_far_and_says_more_are_ahead(
    runtime: Runtime,
    make_agent: AgentFactory,
    bus: RecordingBus,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routing, "QUEUE_COUNTED_AHEAD", 2)
    agent = await make_agent(max_chats=1)
    await go_online(runtime, agent)
    await open_chat(runtime, player="P-0")  # the agent is full from here
    for index in range(1, 5):
        clock.advance(timedelta(seconds=10))
        await open_chat(runtime, player=f"P-{index}")
    places = [
        (event.position, event.more_ahead, event.estimated_wait_seconds)
        for event in bus.published
        if isinstance(event, QueuePositionChanged)
    ]
    # Two ahead are counted; from the third waiting on, "more than 2 ahead" and no estimate.
    assert places == [(1, False, 240), (2, False, 480), (3, True, None), (3, True, None)]


async def test_the_teams_handling_time_is_measured_once_a_minute(
    runtime: Runtime, count_queries: QueryCounter
) -> None:
    async with runtime.read_uow() as uow:
        assert await routing.recent_handling_time(uow, team_id=None) is None
        measured = count_queries.count
        assert await routing.recent_handling_time(uow, team_id=None) is None
    assert measured == 1
    assert count_queries.count == measured  # the second came from the cache


async def test_waiting_on_the_player_frees_capacity_and_their_reply_takes_it_back(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(max_chats=1)
    await go_online(runtime, agent)
    served = await open_chat(runtime, player="P-1")
    await set_status(runtime, agent, served.id, TicketStatus.PENDING)
    assert (await loads(runtime))[agent.id] == 0
    async with runtime.uow() as uow:
        await chat_reply_as_player(runtime, uow, served.id)
    reopened = await ticket(runtime, served.id)
    assert reopened.status == TicketStatus.OPEN and reopened.assignee_id == agent.id
    assert (await loads(runtime))[agent.id] == 100
    await assert_loads_match_tickets(runtime)


async def chat_reply_as_player(runtime: Runtime, uow: object, ticket_id: int) -> None:
    from playerdesk.services import messages

    assert hasattr(uow, "session")
    await messages.post_player_message(
        uow,  # type: ignore[arg-type]
        actor=Actor.system(),
        ticket_id=ticket_id,
        body="I am back",
        client_msg_id=None,
        attachment_ids=[],
        limits=runtime.policies.messages,
        routing_policy=runtime.policies.routing,
    )


async def test_an_agent_coming_online_serves_the_queue(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    waiting = await open_chat(runtime, player="P-1")
    assert waiting.assignee_id is None
    agent = await make_agent()
    await go_online(runtime, agent)
    assert (await ticket(runtime, waiting.id)).assignee_id == agent.id


async def test_signing_out_hands_live_chats_to_a_colleague(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    leaving = await make_agent(password="correct horse battery")
    await go_online(runtime, leaving)
    served = await open_chat(runtime, player="P-1")
    assert served.assignee_id == leaving.id
    colleague = await make_agent()
    await go_online(runtime, colleague)
    async with runtime.uow() as uow:
        signed = await auth.login(
            uow,
            email=leaving.email,
            password="correct horse battery",
            ip="127.0.0.1",
            user_agent="tests",
            policy=runtime.policies.login,
        )
    async with runtime.uow() as uow:
        await auth.logout(
            uow, token=signed.session_token, ip="127.0.0.1", routing_policy=runtime.policies.routing
        )
    moved = await ticket(runtime, served.id)
    assert moved.assignee_id == colleague.id
    async with runtime.uow() as uow:
        gone = await uow.session.get_one(Agent, leaving.id)
        released = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ticket.released")
        )
    assert gone.presence == Presence.OFFLINE and gone.load_units == 0
    assert released is not None and released.details["reason"] == "logout"
    await assert_loads_match_tickets(runtime)


async def test_a_silent_console_or_the_end_of_a_shift_releases_chats_on_the_next_tick(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    night = await make_agent()
    day = await make_agent()
    async with runtime.uow() as uow:
        shift = await routing_admin.create_shift(
            uow,
            actor=admin.actor,
            shift=routing_admin.ShiftInput(
                name="Morning", start_minute=6 * 60, end_minute=14 * 60, weekdays=list(range(7))
            ),
        )
    async with runtime.uow() as uow:
        await routing_admin.add_schedule_entry(
            uow, actor=admin.actor, agent_id=day.id, shift_id=shift.id, starts_on=date(2026, 1, 1)
        )
    clock.set(clock.now().replace(hour=13, minute=50))
    await go_online(runtime, day)
    served = await open_chat(runtime, player="P-1")
    assert served.assignee_id == day.id
    clock.advance(timedelta(minutes=15))  # 14:05: the morning shift is over
    await go_online(runtime, night)  # unscheduled: always available
    async with runtime.uow() as uow:  # the day agent keeps the console open (heartbeat)
        await chat.set_presence(
            uow, actor=day.actor, presence=None, routing_policy=runtime.policies.routing
        )
    async with runtime.uow() as uow:
        result = await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )
    assert result.released == 1
    assert (await ticket(runtime, served.id)).assignee_id == night.id

    # The night agent's console goes silent: past the presence window the chat moves on.
    again = await make_agent()
    await go_online(runtime, again)
    clock.advance(routing.PRESENCE_STALE_AFTER + timedelta(seconds=1))
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow, actor=again.actor, presence=None, routing_policy=runtime.policies.routing
        )
    async with runtime.uow() as uow:
        await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )
    assert (await ticket(runtime, served.id)).assignee_id == again.id
    await assert_loads_match_tickets(runtime)


async def test_transfer_to_a_colleague_or_a_team_with_a_note(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    teams = await standard_floor(runtime)
    first = await make_agent(team_ids=[teams["General"]])
    await go_online(runtime, first)
    served = await open_chat(runtime, player="P-1")
    assert served.assignee_id == first.id
    expert = await make_agent(team_ids=[teams["Payments"]])
    await go_online(runtime, expert)
    async with runtime.uow() as uow:
        moved = await ticket_service.transfer_ticket(
            uow,
            actor=first.actor,
            ticket_id=served.id,
            to_agent_id=None,
            to_team_id=teams["Payments"],
            note="Withdrawal stuck in processing, needs payments",
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    assert (moved.team_id, moved.assignee_id) == (teams["Payments"], expert.id)
    async with runtime.uow() as uow:
        note = await uow.session.scalar(
            select(Message).where(Message.ticket_id == served.id, Message.kind == MessageKind.NOTE)
        )
    assert note is not None and note.body.startswith("Withdrawal stuck")
    assert (await loads(runtime))[first.id] == 0
    with pytest.raises(ValidationFailed) as refused:
        async with runtime.uow() as uow:
            await ticket_service.transfer_ticket(
                uow,
                actor=expert.actor,
                ticket_id=served.id,
                to_agent_id=first.id,
                to_team_id=None,
                note="   ",
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
            )
    assert refused.value.field == "note"
    await assert_loads_match_tickets(runtime)


async def test_no_teams_at_all_is_one_floor_and_no_rule_never_crashes(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    teams = await standard_floor(runtime)
    general_agent = await make_agent(team_ids=[teams["General"]])
    await go_online(runtime, general_agent)
    odd = await open_chat(runtime, player="P-1", topic="something-nobody-routes")
    assert (odd.team_id, odd.assignee_id) == (teams["General"], general_agent.id)


async def test_capacity_is_never_exceeded_by_concurrent_assignment(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agents = [await make_agent(max_chats=2) for _ in range(2)]
    for agent in agents:
        await go_online(runtime, agent)
    created = await asyncio.gather(
        *(open_chat(runtime, player=f"P-{index}") for index in range(10)),
        return_exceptions=True,
    )
    tickets = [item for item in created if isinstance(item, Ticket)]
    assert len(tickets) == 10, [item for item in created if not isinstance(item, Ticket)]
    assigned = [item for item in tickets if item.assignee_id is not None]
    assert len(assigned) == 4
    assert all(units <= 200 for units in (await loads(runtime)).values())
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        )
        per_agent = {int(agent_id): int(count) for agent_id, count in rows}
    assert per_agent == {agents[0].id: 2, agents[1].id: 2}
    await assert_loads_match_tickets(runtime)


async def test_chats_swapped_between_two_agents_at_once_all_move(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    """Moving chats A -> B and B -> A at the same time: each move changes both agents'
    loads, and on PostgreSQL two moves taking the agents in opposite orders deadlocked."""
    first, second = [await make_agent(max_chats=6) for _ in range(2)]
    supervisor = await make_agent(role=AgentRole.SUPERVISOR)
    for agent in (first, second):
        await go_online(runtime, agent)
    chats = [await open_chat(runtime, player=f"P-{index}") for index in range(8)]
    other = {first.id: second.id, second.id: first.id}

    async def move(conversation: Ticket) -> Ticket:
        assert conversation.assignee_id is not None
        async with runtime.uow() as uow:
            return await ticket_service.update_ticket(
                uow,
                actor=supervisor.actor,
                ticket_id=conversation.id,
                changes=ticket_service.TicketChanges(assignee_id=other[conversation.assignee_id]),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )

    before = {item.id: item.assignee_id for item in chats}
    assert set(before.values()) == {first.id, second.id}
    moved = await asyncio.gather(*(move(item) for item in chats), return_exceptions=True)
    failures = [item for item in moved if not isinstance(item, Ticket)]
    assert failures == []
    for item in chats:
        assert (await ticket(runtime, item.id)).assignee_id == other[before[item.id]]
    await assert_loads_match_tickets(runtime)


async def test_concurrent_queue_drains_never_push_an_agent_past_capacity(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    """Several workers serving the same queue at once claim capacity with a conditional
    UPDATE on the agent row: the sum never passes the limit (on PostgreSQL these drains
    really run in parallel; SKIP LOCKED gives each different tickets)."""
    from playerdesk.services import agents as agent_service

    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=Actor.system(), name="Night desk")
    async with runtime.uow() as uow:
        other = await agent_service.create_team(uow, actor=Actor.system(), name="Elsewhere")
    agents = [await make_agent(max_chats=2, team_ids=[other.id]) for _ in range(2)]
    for agent in agents:
        await go_online(runtime, agent)
    for index in range(12):
        async with runtime.uow() as uow:
            await ticket_service.create_ticket(
                uow,
                actor=Actor.system(),
                new=ticket_service.NewTicket(
                    channel=Channel.WEB_CHAT,
                    subject="Help",
                    body="Hello?",
                    player_external_id=f"P-{index}",
                    team_id=team.id,
                ),
                player_policy=runtime.policies.players,
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
            )
    for agent in agents:  # they join the team; nothing is drained by that alone
        async with runtime.uow() as uow:
            await agent_service.update_agent(
                uow,
                actor=Actor.system(),
                agent_id=agent.id,
                changes=agent_service.AgentChanges(team_ids=[team.id]),
                supported_languages=runtime.policies.players.languages,
            )

    async def drain() -> int:
        async with runtime.uow() as uow:
            assigned = await routing.drain_queues(
                uow, team_ids=[team.id], policy=runtime.policies.routing, batch=3
            )
            await uow.commit()
            return assigned

    results = await asyncio.gather(*(drain() for _ in range(6)))
    assert sum(results) == 4
    assert sorted((await loads(runtime)).values()) == [200, 200]
    async with runtime.uow() as uow:
        waiting = await uow.session.scalar(
            select(func.count()).where(Ticket.queued_at.is_not(None))
        )
    assert waiting == 8
    await assert_loads_match_tickets(runtime)


async def test_the_widget_offers_a_message_when_only_off_shift_agents_are_online(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    day = await make_agent()
    async with runtime.uow() as uow:
        shift = await routing_admin.create_shift(
            uow,
            actor=admin.actor,
            shift=routing_admin.ShiftInput(name="Day", start_minute=8 * 60, end_minute=16 * 60),
        )
    async with runtime.uow() as uow:
        await routing_admin.add_schedule_entry(
            uow, actor=admin.actor, agent_id=day.id, shift_id=shift.id, starts_on=date(2026, 1, 1)
        )
    clock.set(clock.now().replace(hour=17))
    await go_online(runtime, day)
    async with runtime.uow() as uow:
        assert not await chat.agents_available(uow)
    clock.set(clock.now().replace(hour=8, minute=30) + timedelta(days=1))
    await go_online(runtime, day)
    async with runtime.uow() as uow:
        assert await chat.agents_available(uow)
