from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry, Message, OutboxItem, Player, Ticket
from playerdesk.domain.enums import Channel, MessageKind, Presence, TicketStatus
from playerdesk.domain.errors import NotFound, PermissionDenied
from playerdesk.domain.events import MessagePosted, ReadReceipt
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, chat, routing
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import AgentFactory, QueryCounter, RecordingBus

VISITOR = chat.WidgetIdentity(visitor_id="v-3f9c")


async def say(runtime: Runtime, identity: chat.WidgetIdentity, body: str, **kw):  # type: ignore[no-untyped-def]
    async with runtime.uow() as uow:
        return await chat.post_widget_message(
            uow,
            identity=identity,
            body=body,
            client_msg_id=kw.get("client_msg_id"),
            attachment_ids=[],
            claimed_ticket_id=kw.get("claimed_ticket_id"),
            fields=PlayerFields(language=kw.get("language", "pl")),
            policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def test_first_message_opens_a_chat_and_later_ones_join_it(
    runtime: Runtime, bus: RecordingBus
) -> None:
    first = await say(runtime, VISITOR, "Cześć, gdzie jest moja wypłata?\nDziękuję")
    second = await say(runtime, VISITOR, "Halo?", client_msg_id="c-2")
    replay = await say(runtime, VISITOR, "Halo?", client_msg_id="c-2")
    assert first.ticket.id == second.ticket.id == replay.ticket.id
    assert first.ticket.channel == Channel.WEB_CHAT
    assert first.ticket.subject == "Cześć, gdzie jest moja wypłata?"
    assert first.ticket.language == "pl"
    assert not replay.posted.created and replay.posted.message.id == second.posted.message.id
    posted = [event for event in bus.published if event.type == "message.posted"]
    assert [event.body for event in posted] == [  # type: ignore[union-attr]
        "Cześć, gdzie jest moja wypłata?\nDziękuję",
        "Halo?",
    ]


async def test_history_shows_replies_not_notes_and_resumes_after_an_id(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    first = await say(runtime, VISITOR, "Hello")
    for kind, body in ((MessageKind.REPLY, "Hi, checking"), (MessageKind.NOTE, "VIP? check")):
        async with runtime.uow() as uow:
            await agent_replies.post_agent_message(
                uow,
                actor=agent.actor,
                ticket_id=first.ticket.id,
                body=body,
                kind=kind,
                client_msg_id=None,
                attachment_ids=[],
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
                mail_policy=runtime.policies.mail,
            )
    async with runtime.uow() as uow:
        conversation, messages = await chat.conversation_history(uow, identity=VISITOR, after_id=0)
    assert conversation.ticket is not None and conversation.ticket.id == first.ticket.id
    assert [m.body for m in messages] == ["Hello", "Hi, checking"]
    async with runtime.uow() as uow:
        _, later = await chat.conversation_history(uow, identity=VISITOR, after_id=messages[0].id)
    assert [m.body for m in later] == ["Hi, checking"]
    async with runtime.uow() as uow:
        nobody, none = await chat.conversation_history(
            uow, identity=chat.WidgetIdentity(visitor_id="v-other"), after_id=0
        )
    assert nobody.ticket is None and none == []


async def test_a_closed_chat_is_not_continued(runtime: Runtime, make_agent: AgentFactory) -> None:
    agent = await make_agent()
    first = await say(runtime, VISITOR, "Hello")
    for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        async with runtime.uow() as uow:
            await ticket_service.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=first.ticket.id,
                changes=ticket_service.TicketChanges(status=status),
                supported_languages=["en"],
                routing_policy=runtime.policies.routing,
            )
    again = await say(runtime, VISITOR, "Hello again")
    assert again.ticket.id != first.ticket.id
    assert again.ticket.player_id == first.ticket.player_id


async def test_a_message_aimed_at_someone_elses_ticket_is_refused_and_audited(
    runtime: Runtime,
) -> None:
    victim = await say(runtime, chat.WidgetIdentity(visitor_id="v-victim"), "my secret")
    with pytest.raises(PermissionDenied):
        await say(runtime, VISITOR, "let me in", claimed_ticket_id=victim.ticket.id)
    async with runtime.uow() as uow:
        entries = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "widget.foreign_ticket_refused")
            )
        ).all()
        attacker_players = (await uow.session.scalars(select(Player.id))).all()
    assert [entry.entity_id for entry in entries] == [str(victim.ticket.id)]
    assert len(attacker_players) == 1  # the refused message created nothing


async def test_a_message_aimed_at_ones_own_closed_chat_starts_a_new_one(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    first = await say(runtime, VISITOR, "Hello")
    for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        async with runtime.uow() as uow:
            await ticket_service.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=first.ticket.id,
                changes=ticket_service.TicketChanges(status=status),
                supported_languages=["en"],
                routing_policy=runtime.policies.routing,
            )
    again = await say(runtime, VISITOR, "Still there?", claimed_ticket_id=first.ticket.id)
    assert again.ticket.id != first.ticket.id
    async with runtime.uow() as uow:
        refused = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "widget.foreign_ticket_refused")
            )
        ).all()
    assert refused == []


async def test_history_after_a_long_absence_ends_with_the_newest_messages(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat, "HISTORY_LIMIT", 3)
    for index in range(5):
        await say(runtime, VISITOR, f"m{index}")
    async with runtime.uow() as uow:
        _, messages = await chat.conversation_history(uow, identity=VISITOR, after_id=0)
    assert [m.body for m in messages] == ["m2", "m3", "m4"]


async def test_receipts_only_move_forward(runtime: Runtime, bus: RecordingBus) -> None:
    first = await say(runtime, VISITOR, "Hello")
    for delivered, read in ((5, None), (3, 2), (7, 7)):
        async with runtime.uow() as uow:
            await chat.record_player_receipt(
                uow, identity=VISITOR, delivered_up_to=delivered, read_up_to=read
            )
    async with runtime.uow() as uow:
        ticket = await uow.session.get_one(Ticket, first.ticket.id)
    assert (ticket.player_delivered_up_to, ticket.player_read_up_to) == (7, 7)
    receipts = [e for e in bus.published if e.type == "receipt.updated"]
    assert [(e.delivered_up_to, e.read_up_to) for e in receipts] == [  # type: ignore[union-attr]
        (5, None),
        (5, 2),
        (7, 7),
    ]


async def test_availability_needs_an_online_agent_with_a_live_console(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock, bus: RecordingBus
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        assert not await chat.agents_available(uow)
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow,
            actor=agent.actor,
            presence=Presence.ONLINE,
            routing_policy=runtime.policies.routing,
        )
    async with runtime.uow() as uow:
        assert await chat.agents_available(uow)
    clock.advance(routing.PRESENCE_STALE_AFTER + timedelta(seconds=1))
    async with runtime.uow() as uow:
        assert not await chat.agents_available(uow)  # the console went quiet
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow, actor=agent.actor, presence=Presence.AWAY, routing_policy=runtime.policies.routing
        )
    async with runtime.uow() as uow:
        assert not await chat.agents_available(uow)
    changes = [e.presence for e in bus.published if e.type == "presence.changed"]  # type: ignore[union-attr]
    assert changes == ["online", "away"]


async def test_offline_message_becomes_an_email_ticket(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        ticket = await chat.leave_offline_message(
            uow,
            identity=VISITOR,
            email="Ola@Example.PL",
            name="Ola",
            body="Nie mogę się zalogować",
            policy=runtime.policies.players,
            limits=runtime.policies.messages,
            language="pl",
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    async with runtime.uow() as uow:
        player = await uow.session.get_one(Player, ticket.player_id)
    assert ticket.channel == Channel.EMAIL and ticket.language == "pl"
    assert player.email == "Ola@example.pl"
    # The player is told the number and when to expect the answer, in Polish.
    async with runtime.read_uow() as uow:
        [ack] = (await uow.session.scalars(select(OutboxItem))).all()
    assert (ack.purpose, ack.recipient) == ("acknowledgement", "Ola@example.pl")
    assert f"numer #{ticket.number}" in ack.payload["text"]
    # The same visitor chatting later is the same player.
    later = await say(runtime, VISITOR, "Już działa")
    assert later.ticket.player_id == player.id


async def test_the_chat_hot_path_uses_a_fixed_number_of_statements(
    runtime: Runtime,
    make_agent: AgentFactory,
    bus: RecordingBus,
    clock: FrozenClock,
    count_queries: QueryCounter,
) -> None:
    agent = await make_agent()
    first = await say(runtime, VISITOR, "Hello")  # the first message also creates the chat
    ticket_id = first.ticket.id
    counts = []
    for index in range(3):
        clock.advance(timedelta(seconds=10))
        count_queries.reset()
        post = await say(
            runtime,
            VISITOR,
            f"card 4111 1111 1111 1111, try {index}",
            client_msg_id=f"c-{index}",
            claimed_ticket_id=ticket_id,
        )
        counts.append(count_queries.count)
        assert post.posted.created and post.ticket.id == ticket_id
    # the player's open chat (joined on the widget identity, locked), insert, update ticket
    assert counts == [3, 3, 3]

    count_queries.reset()
    replay = await say(runtime, VISITOR, "again", client_msg_id="c-1", claimed_ticket_id=ticket_id)
    assert not replay.posted.created and replay.posted.message.body == "card [card ••••1111], try 1"
    # the chat, an insert that inserts nothing, the stored message and its attachments
    assert count_queries.count == 4

    async with runtime.uow() as uow:
        stored = (
            await uow.session.scalars(
                select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
            )
        ).all()
        ticket = await uow.session.get_one(Ticket, ticket_id)
    redacted = [f"card [card ••••1111], try {index}" for index in range(3)]
    assert [m.body for m in stored] == ["Hello", *redacted]
    assert all(m.redacted for m in stored[1:])
    assert ticket.last_message_at == clock.now() and ticket.updated_at == clock.now()
    posted = [e for e in bus.published if isinstance(e, MessagePosted)]
    assert [e.message_id for e in posted] == [m.id for m in stored]  # none for the replay
    assert [e.client_msg_id for e in posted[1:]] == ["c-0", "c-1", "c-2"]

    count_queries.reset()
    async with runtime.uow() as uow:
        await chat.record_player_receipt(
            uow, identity=VISITOR, delivered_up_to=stored[-1].id, read_up_to=stored[-2].id
        )
    assert count_queries.count == 1  # one UPDATE ... RETURNING
    count_queries.reset()
    async with runtime.uow() as uow:
        await chat.record_agent_read(
            uow, actor=agent.actor, ticket_id=ticket_id, read_up_to=stored[-1].id
        )
    assert count_queries.count == 1
    receipts = [e for e in bus.published if isinstance(e, ReadReceipt)]
    assert [(e.side, e.delivered_up_to, e.read_up_to) for e in receipts] == [
        ("player", stored[-1].id, stored[-2].id),
        ("agent", None, stored[-1].id),
    ]


async def test_a_verified_players_messages_join_their_open_chat(runtime: Runtime) -> None:
    player = chat.WidgetIdentity(external_id="casino-42")
    first = await say(runtime, player, "Hello")
    second = await say(runtime, player, "Anyone?", claimed_ticket_id=first.ticket.id)
    other = await say(runtime, chat.WidgetIdentity(external_id="casino-43"), "Hi")
    assert second.ticket.id == first.ticket.id != other.ticket.id
    with pytest.raises(PermissionDenied):
        await say(runtime, player, "peek", claimed_ticket_id=other.ticket.id)


async def test_receipts_without_a_chat_or_without_progress_change_nothing(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        await chat.record_player_receipt(uow, identity=VISITOR, delivered_up_to=3, read_up_to=3)
    first = await say(runtime, VISITOR, "Hello")
    for _ in range(2):
        async with runtime.uow() as uow:
            await chat.record_player_receipt(
                uow, identity=VISITOR, delivered_up_to=None, read_up_to=4
            )
        async with runtime.uow() as uow:
            await chat.record_agent_read(
                uow, actor=agent.actor, ticket_id=first.ticket.id, read_up_to=9
            )
    async with runtime.uow() as uow:
        await chat.record_agent_read(
            uow, actor=agent.actor, ticket_id=first.ticket.id, read_up_to=8
        )
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await chat.record_agent_read(
                uow, actor=agent.actor, ticket_id=first.ticket.id + 100, read_up_to=1
            )
    async with runtime.uow() as uow:
        ticket = await uow.session.get_one(Ticket, first.ticket.id)
    assert (ticket.player_delivered_up_to, ticket.player_read_up_to) == (4, 4)
    assert ticket.agent_read_up_to == 9
    receipts = [e for e in bus.published if isinstance(e, ReadReceipt)]
    assert [(e.side, e.delivered_up_to, e.read_up_to) for e in receipts] == [
        ("player", 4, 4),
        ("agent", None, 9),
    ]
