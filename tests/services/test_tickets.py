from __future__ import annotations

from datetime import timedelta

import pytest

from playerdesk.clock import FrozenClock
from playerdesk.domain.enums import AgentRole, Channel, MessageKind, Priority, TicketStatus
from playerdesk.domain.errors import InvalidTransition, ValidationFailed
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies
from playerdesk.services import messages as message_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import AgentFactory, QueryCounter, RecordingBus


async def open_ticket(runtime: Runtime, actor, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "channel": Channel.EMAIL,
        "subject": "Where is my withdrawal?",
        "body": "I asked for 200 EUR three days ago.",
        "player_external_id": "P-100",
        "player": PlayerFields(email="anna@example.test", name="Anna"),
    }
    values.update(overrides)
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=actor,
            new=ticket_service.NewTicket(**values),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def test_create_ticket_numbers_stores_first_message_and_publishes_after_commit(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    first = await open_ticket(runtime, agent.actor)
    second = await open_ticket(
        runtime,
        agent.actor,
        subject="Bonus",
        player_external_id="P-101",
        player=PlayerFields(email="b@example.test"),
    )
    assert second.number == first.number + 1
    assert first.status == TicketStatus.NEW
    async with runtime.uow() as uow:
        messages = await message_service.list_messages(uow, actor=agent.actor, ticket_id=first.id)
    assert [(m.author_kind, m.body) for m in messages] == [
        ("player", "I asked for 200 EUR three days ago.")
    ]
    assert bus.types().count("ticket.created") == 2


async def test_rolled_back_ticket_publishes_nothing_and_leaves_no_rows(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    with pytest.raises(ValidationFailed) as caught:
        # The player is created first, then the body check fails: nothing may remain.
        await open_ticket(runtime, agent.actor, body="   ")
    assert caught.value.field == "body"
    assert "ticket.created" not in bus.types()
    async with runtime.uow() as uow:
        page = await ticket_service.list_tickets(
            uow, actor=agent.actor, filters=ticket_service.TicketFilter(), cursor=None, limit=10
        )
        from sqlalchemy import func, select

        from playerdesk.db.models import Player

        players = await uow.session.scalar(select(func.count()).select_from(Player))
    assert page.items == []
    assert players == 0


async def test_card_numbers_in_subject_and_body_are_masked(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(
        runtime,
        agent.actor,
        subject="Card 4111 1111 1111 1111 declined",
        body="My card 5555-5555-5555-4444 was charged twice",
    )
    async with runtime.uow() as uow:
        messages = await message_service.list_messages(uow, actor=agent.actor, ticket_id=ticket.id)
    assert "4111 1111 1111 1111" not in ticket.subject
    assert "••••1111" in ticket.subject
    assert messages[0].redacted is True
    assert "5555-5555-5555-4444" not in messages[0].body
    assert "••••4444" in messages[0].body


async def test_player_matched_by_external_id_then_by_email(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    first = await open_ticket(runtime, agent.actor)
    again = await open_ticket(runtime, agent.actor, player=PlayerFields())
    by_email = await open_ticket(
        runtime,
        agent.actor,
        player_external_id=None,
        player=PlayerFields(email="anna@example.test"),
    )
    assert first.player_id == again.player_id == by_email.player_id


async def test_agent_reply_opens_new_ticket_and_player_reply_reopens_resolved(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    clock.advance(timedelta(minutes=3))
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            body="Checking now",
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    async with runtime.uow() as uow:
        current = await ticket_service.get_ticket(uow, actor=agent.actor, ticket_id=ticket.id)
    assert current.status == TicketStatus.OPEN
    assert current.first_response_at == clock.now()

    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(status=TicketStatus.RESOLVED),
            supported_languages=["en"],
            routing_policy=runtime.policies.routing,
        )
    async with runtime.uow() as uow:
        await message_service.post_player_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            body="Still not there",
            client_msg_id="p-1",
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    async with runtime.uow() as uow:
        current = await ticket_service.get_ticket(uow, actor=agent.actor, ticket_id=ticket.id)
    assert current.status == TicketStatus.OPEN
    assert current.resolved_at is None
    status_changes = [
        e.changes["status"]
        for e in bus.published
        if e.type == "ticket.updated" and "status" in e.changes
    ]
    assert status_changes == [["new", "open"], ["open", "resolved"], ["resolved", "open"]]


async def test_internal_note_does_not_count_as_first_response(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            body="VIP, be careful",
            kind=MessageKind.NOTE,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    async with runtime.uow() as uow:
        current = await ticket_service.get_ticket(uow, actor=agent.actor, ticket_id=ticket.id)
    assert current.first_response_at is None
    assert current.status == TicketStatus.NEW


async def test_idempotent_message_posting_stores_one_message(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    results = []
    for _ in range(3):
        async with runtime.uow() as uow:
            results.append(
                await agent_replies.post_agent_message(
                    uow,
                    actor=agent.actor,
                    ticket_id=ticket.id,
                    body="Hello",
                    kind=MessageKind.REPLY,
                    client_msg_id="c-42",
                    attachment_ids=[],
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                    mail_policy=runtime.policies.mail,
                )
            )
    assert [r.created for r in results] == [True, False, False]
    assert len({r.message.id for r in results}) == 1
    async with runtime.uow() as uow:
        messages = await message_service.list_messages(uow, actor=agent.actor, ticket_id=ticket.id)
    assert [m.body for m in messages].count("Hello") == 1
    assert bus.types().count("message.posted") == 2  # the player's first message and this one


async def test_closed_ticket_refuses_messages_and_transitions(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    for target in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        async with runtime.uow() as uow:
            await ticket_service.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                changes=ticket_service.TicketChanges(status=target),
                supported_languages=["en"],
                routing_policy=runtime.policies.routing,
            )
    with pytest.raises(InvalidTransition):
        async with runtime.uow() as uow:
            await message_service.post_player_message(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                body="hello?",
                client_msg_id=None,
                attachment_ids=[],
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
            )
    with pytest.raises(InvalidTransition):
        async with runtime.uow() as uow:
            await ticket_service.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                changes=ticket_service.TicketChanges(status=TicketStatus.OPEN),
                supported_languages=["en"],
                routing_policy=runtime.policies.routing,
            )


async def test_update_ticket_records_changes_in_audit_and_event(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    other = await make_agent(AgentRole.SENIOR)
    ticket = await open_ticket(runtime, agent.actor)
    async with runtime.uow() as uow:
        updated = await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(
                priority=Priority.URGENT, assignee_id=other.id, tags=["KYC", "vip", "kyc"]
            ),
            supported_languages=["en"],
            routing_policy=runtime.policies.routing,
        )
    assert [tag.name for tag in updated.tags] == ["kyc", "vip"]
    event = [e for e in bus.published if e.type == "ticket.updated"][-1]
    assert event.changes["priority"] == ["normal", "urgent"]
    assert event.changes["assignee_id"] == [None, other.id]
    from sqlalchemy import select

    from playerdesk.db.models import AuditEntry

    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ticket.updated")
        )
    assert entry is not None and entry.actor_agent_id == agent.id
    assert entry.details["changes"]["tags"] == ["", "kyc,vip"]


async def test_listing_filters_and_paginates_with_a_fixed_number_of_queries(
    runtime: Runtime, make_agent: AgentFactory, count_queries: QueryCounter
) -> None:
    agent = await make_agent()
    for index in range(7):
        await open_ticket(
            runtime,
            agent.actor,
            subject=f"Question {index}",
            channel=Channel.WEB_CHAT if index % 2 else Channel.EMAIL,
            tags=["t"],
        )
    seen: list[int] = []
    cursor = None
    count_queries.reset()
    async with runtime.uow() as uow:
        while True:
            page = await ticket_service.list_tickets(
                uow,
                actor=agent.actor,
                filters=ticket_service.TicketFilter(),
                cursor=cursor,
                limit=3,
            )
            seen.extend(ticket.number for ticket in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == sorted(seen, reverse=True) and len(seen) == 7
    # Three pages, two statements each (tickets, then their tags), whatever the page size.
    assert count_queries.count == 6

    async with runtime.uow() as uow:
        chats = await ticket_service.list_tickets(
            uow,
            actor=agent.actor,
            filters=ticket_service.TicketFilter(channel=Channel.WEB_CHAT, text="question 3"),
            cursor=None,
            limit=10,
        )
    assert [t.subject for t in chats.items] == ["Question 3"]


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        # lock ticket, insert message (a replayed client_msg_id inserts nothing), update
        # ticket; the first reply also answers the waiting player: it reads the ticket's SLA
        # clocks and stops first response, and takes the unassigned ticket: the ticket again
        # with its tags, the agent, the assignment, the agent's load, the audit row, the
        # ticket's load.
        (Channel.WEB_CHAT, [12, 3, 3]),
        # ...and a reply by email reads the player and the thread, writes the outbox row and
        # the thread's record.
        (Channel.EMAIL, [16, 7, 7]),
    ],
)
async def test_posting_a_message_uses_a_fixed_number_of_queries(
    runtime: Runtime,
    make_agent: AgentFactory,
    count_queries: QueryCounter,
    clock: FrozenClock,
    channel: Channel,
    expected: list[int],
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor, channel=channel)
    counts = []
    for index in range(3):
        clock.advance(timedelta(seconds=30))
        count_queries.reset()
        async with runtime.uow() as uow:
            await agent_replies.post_agent_message(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                body=f"reply {index}",
                kind=MessageKind.REPLY,
                client_msg_id=f"m-{index}",
                attachment_ids=[],
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
                mail_policy=runtime.policies.mail,
            )
        counts.append(count_queries.count)
    assert counts == expected, count_queries.statements


async def test_unread_counts_follow_the_agents_read_mark(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    from playerdesk.services import chat

    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    other = await open_ticket(
        runtime, agent.actor, player_external_id="P-2", player=PlayerFields(email="p2@example.test")
    )
    posted = []
    for text in ("one more", "and another"):
        async with runtime.uow() as uow:
            posted.append(
                await message_service.post_player_message(
                    uow,
                    actor=agent.actor,
                    ticket_id=ticket.id,
                    body=text,
                    client_msg_id=None,
                    attachment_ids=[],
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                )
            )
    async with runtime.uow() as uow:
        counts = await ticket_service.unread_counts(
            uow, actor=agent.actor, ticket_ids=[ticket.id, other.id]
        )
    assert counts == {ticket.id: 3, other.id: 1}
    async with runtime.uow() as uow:
        await chat.record_agent_read(
            uow, actor=agent.actor, ticket_id=ticket.id, read_up_to=posted[0].message.id
        )
    async with runtime.uow() as uow:
        counts = await ticket_service.unread_counts(uow, actor=agent.actor, ticket_ids=[ticket.id])
    assert counts == {ticket.id: 1}


async def test_my_teams_view_filters_by_several_teams(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    from playerdesk.services import agents as agent_service

    boss = await make_agent(AgentRole.SUPERVISOR)
    team_ids = []
    for name in ("Payments", "VIP", "Technical"):
        async with runtime.uow() as uow:
            team_ids.append((await agent_service.create_team(uow, actor=boss.actor, name=name)).id)
    for index, team_id in enumerate(team_ids):
        await open_ticket(runtime, boss.actor, subject=f"t{index}", team_id=team_id)
    async with runtime.uow() as uow:
        page = await ticket_service.list_tickets(
            uow,
            actor=boss.actor,
            filters=ticket_service.TicketFilter(team_ids=team_ids[:2]),
            cursor=None,
            limit=10,
        )
    assert sorted(t.subject for t in page.items) == ["t0", "t1"]


async def test_inbox_order_follows_the_last_public_message(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    tickets = []
    for index in range(4):
        clock.advance(timedelta(minutes=1))
        tickets.append(
            await open_ticket(
                runtime,
                agent.actor,
                subject=f"t{index}",
                player_external_id=f"P{index}",
                player=PlayerFields(email=f"p{index}@example.test"),
            )
        )
    clock.advance(timedelta(minutes=1))
    async with runtime.uow() as uow:  # the oldest ticket comes alive again
        await message_service.post_player_message(
            uow,
            actor=agent.actor,
            ticket_id=tickets[0].id,
            body="any news?",
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    clock.advance(timedelta(minutes=1))
    async with runtime.uow() as uow:  # an internal note is not activity the inbox sorts by
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=tickets[1].id,
            body="note",
            kind=MessageKind.NOTE,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    seen: list[str] = []
    cursor = None
    async with runtime.uow() as uow:
        while True:
            page = await ticket_service.list_tickets(
                uow,
                actor=agent.actor,
                filters=ticket_service.TicketFilter(),
                cursor=cursor,
                limit=3,
                order=ticket_service.TicketOrder.ACTIVITY,
            )
            seen.extend(ticket.subject for ticket in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        newest_cursor = (
            await ticket_service.list_tickets(
                uow,
                actor=agent.actor,
                filters=ticket_service.TicketFilter(),
                cursor=None,
                limit=1,
            )
        ).next_cursor
    assert seen == ["t0", "t3", "t2", "t1"]
    with pytest.raises(ValidationFailed) as caught:  # a cursor of the other ordering
        async with runtime.uow() as uow:
            await ticket_service.list_tickets(
                uow,
                actor=agent.actor,
                filters=ticket_service.TicketFilter(),
                cursor=newest_cursor,
                limit=3,
                order=ticket_service.TicketOrder.ACTIVITY,
            )
    assert caught.value.field == "cursor"
