"""The bot in a live conversation (issue 7): first on the channels a supervisor gave it,
answering from the knowledge base and, for an identified player, from the demo back office
over real HTTP; handing over to a person with a note, a topic and routing whenever it should.
Everything goes through the services and the bot job against the test database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from playerdesk.bot.pipeline import Bot
from playerdesk.clock import FrozenClock
from playerdesk.crm.http import HttpCasinoBackend
from playerdesk.db.models import AuditEntry, BotTurn, Message, Ticket
from playerdesk.domain.enums import (
    AgentRole,
    AuthorKind,
    BotOutcome,
    BotState,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
)
from playerdesk.domain.events import TicketCreated, TicketUpdated
from playerdesk.domain.permissions import Actor
from playerdesk.jobs.bot_turns import answer_bot_turns
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, bot_admin, chat, messages, tickets
from playerdesk.services import bot as bot_service
from playerdesk.services.players import PlayerFields
from tests.casino_backoffice import closed_port_url, http_backend
from tests.conftest import AgentFactory, RecordingBus
from tests.kb_articles import seed_articles

BALANCE_PLAYER = "204117"  # James Whitfield: a welcome bonus a third wagered
HELD_WITHDRAWAL = "290677"  # Priya Shah: a withdrawal held for a source-of-funds check
SELF_EXCLUDED = "401509"  # Paweł Lewandowski
DOCUMENTS_REJECTED = "401846"  # Connor Doyle


async def start_chat(
    runtime: Runtime,
    text: str,
    *,
    external_id: str | None = None,
    language: str = "en",
    channel: Channel = Channel.WEB_CHAT,
) -> int:
    async with runtime.uow() as uow:
        ticket = await tickets.create_ticket(
            uow,
            actor=Actor.system(),
            new=tickets.NewTicket(
                channel=channel,
                subject=text[:60],
                body=text,
                player_external_id=external_id,
                player=PlayerFields(
                    name="Test Player",
                    email=None if external_id else "visitor@example.test",
                    language=language,
                ),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
        return ticket.id


async def player_says(runtime: Runtime, ticket_id: int, text: str) -> None:
    async with runtime.uow() as uow:
        await messages.post_player_message(
            uow,
            actor=Actor.system(),
            ticket_id=ticket_id,
            body=text,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def ticket_of(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def messages_of(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        return list(rows)


async def bot_says(runtime: Runtime, ticket_id: int) -> Message:
    """The bot's newest message after the job ran."""
    await answer_bot_turns(runtime)
    replies = [
        message
        for message in await messages_of(runtime, ticket_id)
        if message.author_kind == AuthorKind.BOT.value
    ]
    assert replies, "the bot did not answer"
    return replies[-1]


async def turns_of(runtime: Runtime, ticket_id: int) -> list[BotTurn]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(BotTurn).where(BotTurn.ticket_id == ticket_id).order_by(BotTurn.id)
        )
        return list(rows)


def labels(message: Message) -> list[str]:
    return [item["label"] for item in message.quick_replies or []]


# Where the bot stands in a conversation -------------------------------------------------------


async def test_without_the_bot_a_chat_is_routed_at_once(runtime: Runtime, bot: Bot) -> None:
    runtime.bot = bot
    ticket_id = await start_chat(runtime, "Hello, where is my withdrawal?")
    ticket = await ticket_of(runtime, ticket_id)
    assert ticket.bot_state is None
    assert ticket.queued_at is not None  # routed: queued, as nobody is online
    assert await turns_of(runtime, ticket_id) == []
    assert await answer_bot_turns(runtime) == {
        "answered": 0,
        "handed_off": 0,
        "skipped": 0,
        "failed": 0,
    }


async def test_the_bot_holds_a_new_chat_unrouted_and_owes_a_turn(with_bot: Runtime) -> None:
    ticket_id = await start_chat(with_bot, "hi there")
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.bot_state == BotState.ACTIVE.value
    assert (ticket.team_id, ticket.assignee_id, ticket.queued_at) == (None, None, None)
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.finished_at is None

    reply = await bot_says(with_bot, ticket_id)
    assert "support assistant" in reply.body
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.outcome == BotOutcome.ANSWERED.value
    assert turn.intent == "greeting"
    ticket = await ticket_of(with_bot, ticket_id)
    # A bot reply is not a first response: the SLA clock keeps running for a person.
    assert ticket.first_response_at is None
    assert ticket.bot_state == BotState.ACTIVE.value


async def test_email_is_not_answered_by_the_bot(with_bot: Runtime) -> None:
    ticket_id = await start_chat(with_bot, "Hello, where is my withdrawal?", channel=Channel.EMAIL)
    assert (await ticket_of(with_bot, ticket_id)).bot_state is None
    assert await turns_of(with_bot, ticket_id) == []


# Answers from the knowledge base ----------------------------------------------------------------


async def test_a_routine_question_gets_the_article_and_the_helpful_question(
    with_bot: Runtime,
) -> None:
    await seed_articles(with_bot)
    ticket_id = await start_chat(with_bot, "how long does a withdrawal take to arrive?")
    reply = await bot_says(with_bot, ticket_id)
    assert "How long does a withdrawal take?" in reply.body
    assert "/help/en/withdrawals/how-long-does-a-withdrawal-take" in reply.body
    assert labels(reply) == ["Yes, thanks", "No", "Talk to a person"]
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.status == TicketStatus.PENDING.value  # waiting on the player now
    assert ticket.bot_tries == 1

    await player_says(with_bot, ticket_id, "Yes, thanks")
    reply = await bot_says(with_bot, ticket_id)
    assert reply.body.startswith("Great")
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.status == TicketStatus.RESOLVED.value
    assert ticket.bot_tries == 0
    assert ticket.bot_state == BotState.ACTIVE.value


async def test_polish_question_is_answered_in_polish(with_bot: Runtime) -> None:
    await seed_articles(with_bot)
    ticket_id = await start_chat(with_bot, "ile trwa wypłata pieniędzy na kartę?", language="pl")
    reply = await bot_says(with_bot, ticket_id)
    assert "Ile trwa wypłata?" in reply.body
    assert "Czy to odpowiada na Twoje pytanie?" in reply.body
    assert labels(reply) == ["Tak, dzięki", "Nie", "Rozmowa z konsultantem"]


async def test_nothing_in_the_knowledge_base_hands_over(with_bot: Runtime) -> None:
    ticket_id = await start_chat(with_bot, "how long does a withdrawal take to arrive?")
    reply = await bot_says(with_bot, ticket_id)
    assert "passing this to a colleague" in reply.body
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.outcome == BotOutcome.HANDED_OFF.value
    assert turn.reasons == "no_answer"


async def test_two_answers_that_did_not_help_hand_over(with_bot: Runtime) -> None:
    await seed_articles(with_bot)
    ticket_id = await start_chat(with_bot, "how long does a withdrawal take to arrive?")
    await bot_says(with_bot, ticket_id)
    await player_says(with_bot, ticket_id, "No")
    reply = await bot_says(with_bot, ticket_id)
    assert labels(reply) == ["Talk to a person"]
    assert (await ticket_of(with_bot, ticket_id)).bot_state == BotState.ACTIVE.value

    await player_says(with_bot, ticket_id, "why is my withdrawal pending for so long")
    await bot_says(with_bot, ticket_id)
    await player_says(with_bot, ticket_id, "No")
    await answer_bot_turns(with_bot)
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.bot_state == BotState.HANDED_OFF.value
    assert (await turns_of(with_bot, ticket_id))[-1].reasons == "tries_exhausted"


# Hand-offs ---------------------------------------------------------------------------------------


async def test_asking_for_a_person_hands_over_with_a_note_and_routing(with_bot: Runtime) -> None:
    ticket_id = await start_chat(with_bot, "I want to talk to a real person please")
    reply = await bot_says(with_bot, ticket_id)
    assert "passing this to a colleague" in reply.body
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.bot_state == BotState.HANDED_OFF.value
    assert ticket.queued_at is not None  # routed to the queue (nobody is online)
    note = [m for m in await messages_of(with_bot, ticket_id) if m.kind == MessageKind.NOTE.value]
    assert len(note) == 1
    assert note[0].author_kind == AuthorKind.SYSTEM.value
    assert "Why: The player asked for a person." in note[0].body
    assert "Understood: Asks for a person" in note[0].body
    async with with_bot.uow() as uow:
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_id == str(ticket_id))
            )
        )
    assert "bot.handed_off" in actions
    assert "ticket.queued" in actions

    # People answer from now on: the player's next message leaves no turn for the bot.
    await player_says(with_bot, ticket_id, "hello?")
    assert len(await turns_of(with_bot, ticket_id)) == 1


async def test_a_risk_message_gets_care_not_a_bonus_answer(with_bot: Runtime) -> None:
    await seed_articles(with_bot)
    ticket_id = await start_chat(
        with_bot,
        "I lost my rent money tonight and I need a bonus to win it back before my wife finds out",
    )
    reply = await bot_says(with_bot, ticket_id)
    assert "responsible gambling team" in reply.body
    assert "bonus" not in reply.body.casefold()
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.topic == "responsible_gambling"
    assert ticket.priority == Priority.URGENT.value
    assert ticket.bot_state == BotState.HANDED_OFF.value
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.rg_risk is True
    assert "risk_detected" in (turn.reasons or "")
    note = next(m for m in await messages_of(with_bot, ticket_id) if m.kind == "note")
    assert "Responsible-gambling risk" in note.body
    assert "“" in note.body  # the player's own words, quoted


async def test_an_agent_who_takes_the_chat_stops_the_bot(
    with_bot: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(role=AgentRole.AGENT)
    ticket_id = await start_chat(with_bot, "hi there")
    async with with_bot.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            body="Hi, I'm Anna from support. How can I help?",
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=with_bot.policies.messages,
            routing_policy=with_bot.policies.routing,
            mail_policy=with_bot.policies.mail,
        )
    assert (await ticket_of(with_bot, ticket_id)).bot_state == BotState.HANDED_OFF.value
    # The turn written before the agent answered is skipped, not answered over the agent.
    assert (await answer_bot_turns(with_bot))["skipped"] == 1
    authors = [m.author_kind for m in await messages_of(with_bot, ticket_id)]
    assert AuthorKind.BOT.value not in authors


async def test_a_failing_turn_comes_back_and_then_goes_to_a_person(
    with_bot: Runtime, clock: FrozenClock
) -> None:
    ticket_id = await start_chat(with_bot, "hi there")
    for _attempt in range(bot_service.MAX_TURN_ATTEMPTS):
        async with with_bot.uow() as uow:
            [work] = await bot_service.claim_turns(uow)
        # ... and the worker dies here. Until the lease runs out nobody takes it again:
        async with with_bot.uow() as uow:
            assert await bot_service.claim_turns(uow) == []
        clock.advance(bot_service.TURN_LEASE + timedelta(seconds=1))
    assert work.attempts == bot_service.MAX_TURN_ATTEMPTS
    counts = await answer_bot_turns(with_bot)
    assert counts["handed_off"] == 1
    ticket = await ticket_of(with_bot, ticket_id)
    assert ticket.bot_state == BotState.HANDED_OFF.value
    assert ticket.queued_at is not None


async def test_two_quick_messages_get_one_answer(with_bot: Runtime) -> None:
    ticket_id = await start_chat(with_bot, "hello")
    await player_says(with_bot, ticket_id, "are you there?")
    await answer_bot_turns(with_bot)
    bot_messages = [
        m for m in await messages_of(with_bot, ticket_id) if m.author_kind == AuthorKind.BOT.value
    ]
    assert len(bot_messages) == 1
    assert all(turn.finished_at is not None for turn in await turns_of(with_bot, ticket_id))


# Answers from the back office --------------------------------------------------------------------


async def test_balance_from_the_back_office(with_bot: Runtime, backend: HttpCasinoBackend) -> None:
    with_bot.casino = backend
    ticket_id = await start_chat(
        with_bot, "what is my current balance?", external_id=BALANCE_PLAYER
    )
    reply = await bot_says(with_bot, ticket_id)
    assert reply.body.startswith("Your balance is £")
    assert "{{" not in reply.body
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.action == "balance"


async def test_a_held_withdrawal_is_told_in_the_approved_words_only(
    with_bot: Runtime, backend: HttpCasinoBackend
) -> None:
    with_bot.casino = backend
    ticket_id = await start_chat(
        with_bot, "where is my withdrawal? it's still not here", external_id=HELD_WITHDRAWAL
    )
    reply = await bot_says(with_bot, ticket_id)
    assert "is pending review" in reply.body
    for word in ("AML", "source-of-funds", "source of funds", "held"):
        assert word not in reply.body


async def test_missing_documents_are_listed(with_bot: Runtime, backend: HttpCasinoBackend) -> None:
    with_bot.casino = backend
    ticket_id = await start_chat(
        with_bot,
        "what documents do I still need to send for verification?",
        external_id=DOCUMENTS_REJECTED,
    )
    reply = await bot_says(with_bot, ticket_id)
    assert reply.body.startswith("To finish verifying your account we still need:")
    assert "a selfie holding your ID" in reply.body


async def test_a_self_excluded_player_asking_about_bonuses_gets_a_person(
    with_bot: Runtime, backend: HttpCasinoBackend
) -> None:
    await seed_articles(with_bot)
    with_bot.casino = backend
    ticket_id = await start_chat(
        with_bot,
        "what are the wagering requirements of the welcome bonus?",
        external_id=SELF_EXCLUDED,
    )
    reply = await bot_says(with_bot, ticket_id)
    assert "bonus" not in reply.body.casefold()
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.outcome == BotOutcome.HANDED_OFF.value
    assert "player_protected" in (turn.reasons or "")
    assert (await ticket_of(with_bot, ticket_id)).topic == "responsible_gambling"


async def test_back_office_down_hands_over(with_bot: Runtime) -> None:
    async with http_backend(closed_port_url()) as unreachable:
        with_bot.casino = unreachable
        ticket_id = await start_chat(
            with_bot, "what is my current balance?", external_id=BALANCE_PLAYER
        )
        reply = await bot_says(with_bot, ticket_id)
    assert "passing this to a colleague" in reply.body
    [turn] = await turns_of(with_bot, ticket_id)
    assert turn.reasons == "back_office_unavailable"
    assert (await ticket_of(with_bot, ticket_id)).topic == "payments"


async def test_an_agent_who_assigns_the_chat_to_themselves_stops_the_bot(
    with_bot: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(role=AgentRole.AGENT)
    ticket_id = await start_chat(with_bot, "hi there")
    async with with_bot.uow() as uow:
        await tickets.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            changes=tickets.TicketChanges(assignee_id=agent.id),
            supported_languages=["en"],
            routing_policy=with_bot.policies.routing,
        )
    assert (await ticket_of(with_bot, ticket_id)).bot_state == BotState.HANDED_OFF.value
    assert (await answer_bot_turns(with_bot))["skipped"] == 1


async def test_the_widget_offers_chat_when_the_bot_answers_it(with_bot: Runtime) -> None:
    async with with_bot.uow() as uow:
        assert await chat.agents_available(uow)  # nobody is online, but the bot answers
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.WEB_CHAT, enabled=False
        )
    async with with_bot.uow() as uow:
        assert not await chat.agents_available(uow)


async def test_consoles_learn_when_a_person_takes_over_from_the_bot(
    with_bot: Runtime, bus: RecordingBus, make_agent: AgentFactory
) -> None:
    agent = await make_agent(role=AgentRole.AGENT)
    ticket_id = await start_chat(with_bot, "hi there")
    created = [e for e in bus.published if isinstance(e, TicketCreated)]
    assert created[-1].bot_state == BotState.ACTIVE.value  # consoles stay quiet about it
    async with with_bot.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            body="Hi, how can I help?",
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=with_bot.policies.messages,
            routing_policy=with_bot.policies.routing,
            mail_policy=with_bot.policies.mail,
        )
    announced = {
        name: change
        for event in bus.published
        if isinstance(event, TicketUpdated)
        for name, change in event.changes.items()
    }
    assert announced["bot_state"] == ["active", "handed_off"]
    assert announced["assignee_id"] == [None, agent.id]  # the one who answered has it


async def test_a_message_during_the_bots_turn_is_answered_after_it_not_beside_it(
    with_bot: Runtime,
) -> None:
    ticket_id = await start_chat(with_bot, "hello")
    async with with_bot.uow() as uow:
        [first] = await bot_service.claim_turns(uow)  # a worker is answering "hello"
    await player_says(with_bot, ticket_id, "are you there?")
    async with with_bot.uow() as uow:
        assert await bot_service.claim_turns(uow) == []  # another worker leaves it alone
    async with with_bot.read_uow() as uow:
        plan = await bot_service.plan_turn(
            uow, work=first, context=bot_service.BotContext(bot=with_bot.bot, casino=None)
        )
    async with with_bot.uow() as uow:
        await bot_service.finish_turn(uow, work=first, plan=plan, policy=with_bot.policies.bot)
    async with with_bot.uow() as uow:
        [second] = await bot_service.claim_turns(uow)
    assert second.text == "are you there?"
    assert second.turn_ids != first.turn_ids
