"""The Viber adapter: recorded real-shaped callbacks parsed strictly, the signature check,
and replies delivered by the outbox job to a local REST API server over real HTTP (split
to Viber's limit, quick replies as a keyboard, refused receivers dead-lettered, outages
retried, a later `failed` callback shown on the reply)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.viber import (
    MalformedCallback,
    ViberApi,
    ViberConversationStarted,
    ViberDeliveryEvent,
    ViberEnvelope,
    ViberMessageEvent,
    ViberSubscribed,
    ViberUnsubscribed,
    parse_callback,
    reply_keyboard,
    sender_of,
    signature_matches,
    take_callback,
    viber_sender,
)
from playerdesk.clock import FrozenClock
from playerdesk.db.models import ChannelIdentity, Message, Ticket
from playerdesk.domain.enums import Channel, MessageKind
from playerdesk.domain.mail import OutboxStatus
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services.messengers import MessengerOutcome
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings
from tests.casino_backoffice import closed_port_url
from tests.conftest import AgentFactory
from tests.outbox_steps import agent_replies, outbox_rows
from tests.viber_api import (
    TOKEN,
    USER,
    FakeViber,
    event_callback,
    fake_viber,
    fixture,
    sign,
    text_callback,
    viber_settings,
)


@pytest.fixture
async def viber_api() -> AsyncIterator[FakeViber]:
    async with fake_viber() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, viber_api: FakeViber) -> Settings:
    return viber_settings(database_url=database_url, tmp_path=tmp_path, api_base=viber_api.base_url)


def raw(callback: dict[str, object]) -> bytes:
    return json.dumps(callback).encode()


# --- parsing and the signature --------------------------------------------------------


def test_a_text_message_names_its_sender_and_language() -> None:
    callback = parse_callback(raw(fixture("text_message")))
    assert isinstance(callback, ViberMessageEvent)
    assert callback.message_token == 5741311803571721087
    assert callback.message.type == "text"
    assert callback.message.text == "Cześć, moja wypłata jeszcze nie dotarła"
    sender = sender_of(callback.sender)
    assert sender.channel is Channel.VIBER
    assert (sender.address, sender.name, sender.language_tag) == (USER, "Agnieszka Nowak", "pl")


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("subscribed", ViberSubscribed),
        ("unsubscribed", ViberUnsubscribed),
        ("conversation_started", ViberConversationStarted),
        ("delivered", ViberDeliveryEvent),
        ("seen", ViberDeliveryEvent),
        ("failed", ViberDeliveryEvent),
        ("webhook", ViberEnvelope),
        ("client_status", ViberEnvelope),  # an event we do not know: its envelope only
        ("picture_message", ViberMessageEvent),
    ],
)
def test_each_event_is_read_in_its_shape(name: str, shape: type[ViberEnvelope]) -> None:
    assert type(parse_callback(raw(fixture(name)))) is shape


@pytest.mark.parametrize(
    ("body", "message_token"),
    [
        (b"not json at all", None),
        (b"[1, 2]", None),
        (b'{"event": "message", "timestamp": "soon", "message_token": 7}', 7),
        # a message without its sender
        (
            b'{"event": "message", "timestamp": 1, "message_token": 8, '
            b'"message": {"type": "text", "text": "hi"}}',
            8,
        ),
        # a user id that is a number, not Viber's string
        (b'{"event": "unsubscribed", "timestamp": 1, "message_token": 9, "user_id": 12}', 9),
        (b'{"event": "failed", "timestamp": 1, "user_id": "u"}', None),  # no message_token
        (b'{"timestamp": 1, "message_token": 10}', 10),  # no event
    ],
)
def test_malformed_callbacks_are_refused_with_their_message_token(
    body: bytes, message_token: int | None
) -> None:
    with pytest.raises(MalformedCallback) as caught:
        parse_callback(body)
    assert caught.value.message_token == message_token


def test_the_signature_is_the_bodys_hmac_with_the_auth_token(settings: Settings) -> None:
    body = raw(fixture("text_message"))
    assert signature_matches(settings, raw=body, presented=sign(body))
    assert signature_matches(settings, raw=body, presented=sign(body).upper())
    assert not signature_matches(settings, raw=body + b" ", presented=sign(body))
    assert not signature_matches(settings, raw=body, presented=sign(body, token="other"))
    assert not signature_matches(settings, raw=body, presented=None)
    assert not signature_matches(settings, raw=body, presented="")
    unconfigured = settings.model_copy(update={"viber_auth_token": None})
    assert not signature_matches(unconfigured, raw=body, presented=sign(body))


# --- rendering -----------------------------------------------------------------------


def test_quick_replies_become_a_reply_keyboard() -> None:
    keyboard = reply_keyboard(
        [
            {"id": "helpful_yes", "label": "Yes, thanks"},
            {"id": "not an id", "label": "an id with spaces cannot come back as one"},
            {"id": "agent", "label": "Talk to a person"},
            {"id": "nolabel", "label": ""},
        ]
    )
    assert keyboard == {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": "helpful_yes",
                "Text": "Yes, thanks",
            },
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": "agent",
                "Text": "Talk to a person",
            },
        ],
    }
    assert reply_keyboard([]) is None


# --- taking callbacks ------------------------------------------------------------------


async def player_writes(runtime: Runtime, text: str, *, message_token: int | None = None) -> int:
    taken = await take_callback(runtime, raw=raw(text_callback(text, message_token=message_token)))
    assert taken.ticket_id is not None
    return taken.ticket_id


async def messages_of(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        return list(rows)


async def identity(runtime: Runtime) -> ChannelIdentity:
    async with runtime.uow() as uow:
        found = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "viber")
        )
        assert found is not None
        return found


async def test_a_message_and_its_retry_open_one_ticket(runtime: Runtime) -> None:
    callback = raw(text_callback("Where is my bonus?", message_token=70))
    first = await take_callback(runtime, raw=callback)
    again = await take_callback(runtime, raw=callback)
    assert first.outcome is MessengerOutcome.CREATED
    assert again.outcome is MessengerOutcome.DUPLICATE
    async with runtime.uow() as uow:
        tickets = list((await uow.session.scalars(select(Ticket))).all())
    assert [(ticket.channel, ticket.subject) for ticket in tickets] == [
        ("viber", "Where is my bonus?")
    ]
    [message] = await messages_of(runtime, tickets[0].id)
    assert message.client_msg_id == "viber:70"


async def test_a_word_that_is_no_offered_button_is_the_players_message(runtime: Runtime) -> None:
    ticket_id = await player_writes(runtime, "Hello")
    taken = await take_callback(runtime, raw=raw(text_callback("helpful_yes")))
    assert (taken.event, taken.outcome) == ("message", MessengerOutcome.APPENDED)
    assert [message.body for message in await messages_of(runtime, ticket_id)] == [
        "Hello",
        "helpful_yes",
    ]


@pytest.mark.parametrize("name", ["picture_message", "conversation_started", "delivered", "seen"])
async def test_events_without_a_message_for_the_desk_change_nothing(
    runtime: Runtime, name: str
) -> None:
    taken = await take_callback(runtime, raw=raw(fixture(name)))
    assert taken.outcome is MessengerOutcome.IGNORED
    async with runtime.uow() as uow:
        assert list((await uow.session.scalars(select(Ticket))).all()) == []


async def test_unsubscribing_marks_the_chat_unreachable_and_subscribing_clears_it(
    runtime: Runtime,
) -> None:
    await player_writes(runtime, "Hello")
    await take_callback(runtime, raw=raw(fixture("unsubscribed")))
    marked = await identity(runtime)
    assert marked.delivery_failed_at is not None
    assert marked.delivery_failure == "Viber: the player unsubscribed from the bot"

    await take_callback(runtime, raw=raw(fixture("subscribed")))
    assert (await identity(runtime)).delivery_failed_at is None

    await take_callback(runtime, raw=raw(fixture("unsubscribed")))
    # Writing again also makes the chat reachable (as on Telegram).
    await player_writes(runtime, "I am back")
    assert (await identity(runtime)).delivery_failed_at is None


# --- delivering through the outbox ----------------------------------------------------


async def test_an_agent_reply_reaches_the_players_chat(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "My withdrawal has not arrived")
    await agent_replies(runtime, agent, ticket_id, "It was sent today; allow 1-3 banking days.")
    await agent_replies(runtime, agent, ticket_id, "VIP, be quick", kind=MessageKind.NOTE)
    [row] = await outbox_rows(runtime)  # the internal note never goes out
    assert (row.channel, row.recipient, row.status) == ("viber", USER, "pending")

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert viber_api.of("send_message") == [
        {
            "receiver": USER,
            "type": "text",
            "text": "It was sent today; allow 1-3 banking days.",
            "sender": {"name": "Casino Support"},
        }
    ]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value
    assert row.provider_message_id == "5741311803571800000"


async def test_a_long_reply_goes_in_parts(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Tell me everything about bonuses")
    body = "\n".join(f"Rule {number}: wager the bonus before withdrawing." for number in range(400))
    assert len(body) == 18_289
    await agent_replies(runtime, agent, ticket_id, body)
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    texts = [call["text"] for call in viber_api.of("send_message")]
    assert [len(text) <= 7000 for text in texts] == [True, True, True]
    assert "\n".join(texts) == body
    [row] = await outbox_rows(runtime)
    assert row.provider_message_id == ",".join(
        str(5741311803571800000 + index) for index in range(3)
    )


async def test_a_failed_callback_dead_letters_the_reply_with_vibers_reason(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    body = "Part one. " * 800  # two parts: the failing one is the second
    await agent_replies(runtime, agent, ticket_id, body)
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    [row] = await outbox_rows(runtime)
    second_token = int(str(row.provider_message_id).split(",")[1])

    await take_callback(runtime, raw=raw(event_callback("delivered", message_token=second_token)))
    await take_callback(runtime, raw=raw(event_callback("seen", message_token=second_token)))
    assert (await outbox_rows(runtime))[0].status == OutboxStatus.SENT.value

    await take_callback(runtime, raw=raw(event_callback("failed", message_token=123)))  # not ours
    assert (await outbox_rows(runtime))[0].status == OutboxStatus.SENT.value
    failed = event_callback("failed", message_token=second_token, desc="receiver has no device")
    await take_callback(runtime, raw=raw(failed))
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.DEAD.value
    assert row.dead_at is not None
    assert row.last_error == "Viber could not deliver it: receiver has no device"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (5, "receiverNotRegistered"),
        (6, "receiverNotSubscribed"),
        (11, "receiverNoSuitableDevice"),
    ],
)
async def test_a_refused_receiver_is_dead_lettered_and_marked_failing(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber, status: int, message: str
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(status, message)]
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    [row] = await outbox_rows(runtime)
    assert row.last_error == f"Viber {status} {message}: {message}"
    marked = await identity(runtime)
    assert marked.delivery_failure == row.last_error


async def test_bad_data_is_refused_for_good_without_blaming_the_chat(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(3, "badData")]
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    assert (await identity(runtime)).delivery_failed_at is None


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (12, "tooManyRequests", "Viber 12 tooManyRequests: tooManyRequests"),
        (10, "webhookNotSet", "Viber 10 webhookNotSet: webhookNotSet"),
        (24, "noBalance", "Viber 24: noBalance"),
        (502, "Bad Gateway", "Viber no status: HTTP 502 Bad Gateway"),
    ],
)
async def test_an_outage_or_an_account_problem_is_retried(
    runtime: Runtime,
    make_agent: AgentFactory,
    viber_api: FakeViber,
    clock: FrozenClock,
    status: int,
    message: str,
    error: str,
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(status, message)]
    await agent_replies(runtime, agent, ticket_id, "We are on it.")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 1, "dead": 0}
    [row] = await outbox_rows(runtime)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING.value, 1, error)

    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 0}  # not yet due
    clock.advance(timedelta(seconds=runtime.settings.outbox_retry_seconds + 1))
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert [call["text"] for call in viber_api.of("send_message")] == ["We are on it."] * 2
    assert (await identity(runtime)).delivery_failed_at is None


async def test_a_wrong_token_waits_for_the_admin_and_is_never_kept(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    wrong = ViberApi(base_url=viber_api.base_url, token="wrong-token", sender_name="Support")
    assert await deliver_outbox(runtime, senders={"viber": viber_sender(wrong)}) == {
        "sent": 0,
        "retry": 1,
        "dead": 0,
    }
    [row] = await outbox_rows(runtime)
    assert row.last_error == "Viber 2 invalidAuthToken: invalidAuthToken"


async def test_an_unreachable_api_is_temporary_and_the_token_is_never_in_the_error() -> None:
    sender = viber_sender(ViberApi(base_url=closed_port_url(), token=TOKEN, sender_name="S"))
    delivery = Delivery(
        id=1,
        channel="viber",
        recipient=USER,
        idempotency_key="viber:message:1",
        payload={"chat_id": USER, "text": "Hello", "quick_replies": []},
        attempts=1,
        resumed=False,
    )
    with pytest.raises(DeliveryFailed) as caught:
        await sender(delivery)
    assert caught.value.permanent is False
    assert TOKEN not in str(caught.value)
    assert "unreachable" in str(caught.value)


async def test_replies_wait_in_the_outbox_until_viber_is_configured(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    runtime.settings = runtime.settings.model_copy(update={"viber_auth_token": None})
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 0}
    assert viber_api.calls == []
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.PENDING.value
