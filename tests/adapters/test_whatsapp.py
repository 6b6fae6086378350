"""The WhatsApp adapter: recorded real-shaped notifications parsed strictly, replies
delivered by the outbox job to a local Graph API server over real HTTP (text, reply
buttons, refusals dead-lettered, outages retried), statuses that report a failure after the
send, and the 24-hour customer-service window."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.whatsapp import (
    InboundButton,
    InboundIgnored,
    InboundStatus,
    InboundText,
    MalformedNotification,
    WhatsAppApi,
    message_bodies,
    parse_notification,
    reply_buttons,
    take_notification,
    whatsapp_sender,
)
from playerdesk.clock import FrozenClock
from playerdesk.db.models import ChannelIdentity, Ticket
from playerdesk.domain.enums import Channel, MessageKind
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.mail import OutboxStatus
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import outbound
from playerdesk.services.messengers import MessengerOutcome
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings
from tests.casino_backoffice import closed_port_url
from tests.conftest import AgentFactory
from tests.outbox_steps import agent_replies, outbox_rows
from tests.whatsapp_api import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    WA_ID,
    FakeGraphApi,
    fake_graph_api,
    fixture,
    status,
    text_message,
    whatsapp_settings,
)


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, graph_api: FakeGraphApi) -> Settings:
    return whatsapp_settings(
        database_url=database_url, tmp_path=tmp_path, api_base=graph_api.base_url
    )


def raw(notification: dict[str, object]) -> bytes:
    return json.dumps(notification).encode()


# --- parsing -------------------------------------------------------------------------


def test_a_text_message_names_its_sender_and_key() -> None:
    [inbound] = parse_notification(raw(fixture("text_message")))
    assert isinstance(inbound, InboundText)
    assert inbound.text == "Cześć, moja wypłata jeszcze nie dotarła"
    assert inbound.key == "whatsapp:wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTdDRDBGQjg3RjI1QjQ4QzZCQQA="
    assert inbound.sender.channel is Channel.WHATSAPP
    assert (inbound.sender.address, inbound.sender.name) == (WA_ID, "Agnieszka Nowak")


def test_a_pressed_reply_button_carries_its_id() -> None:
    [inbound] = parse_notification(raw(fixture("button_reply")))
    assert isinstance(inbound, InboundButton)
    assert inbound.button_id == "helpful_yes"
    assert inbound.sender.address == WA_ID


def test_statuses_carry_the_message_id_and_the_error() -> None:
    [failed] = parse_notification(raw(fixture("status_failed")))
    assert isinstance(failed, InboundStatus)
    assert failed.status == "failed"
    assert failed.error == (
        "WhatsApp 131047: Re-engagement message: Message failed to send because more than "
        "24 hours have passed since the customer last replied to this number."
    )
    [delivered] = parse_notification(raw(fixture("status_delivered")))
    assert isinstance(delivered, InboundStatus)
    assert (delivered.status, delivered.error) == ("delivered", None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("image", "message_image"), ("account_update", "field_account_update")],
)
def test_what_we_do_not_take_is_recognised(name: str, kind: str) -> None:
    [inbound] = parse_notification(raw(fixture(name)))
    assert isinstance(inbound, InboundIgnored)
    assert inbound.kind == kind


def test_another_phone_number_of_the_account_is_not_ours() -> None:
    [inbound] = parse_notification(raw(fixture("text_message")), phone_number_id="999")
    assert isinstance(inbound, InboundIgnored)
    assert parse_notification(raw(fixture("text_message")), phone_number_id=PHONE_NUMBER_ID)


def test_malformed_notifications_are_refused_with_their_ids() -> None:
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(b"not json")
    assert (caught.value.entry_ids, caught.value.message_ids) == ([], [])
    broken = fixture("text_message")
    message = broken["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = 1793609600  # a number where WhatsApp sends a string
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(raw(broken))
    assert caught.value.entry_ids == ["102290129340398"]
    assert caught.value.message_ids == [message["id"]]
    with pytest.raises(MalformedNotification):
        parse_notification(b'{"object": "whatsapp_business_account"}')


# --- rendering -----------------------------------------------------------------------


def test_quick_replies_become_at_most_three_short_reply_buttons() -> None:
    buttons = reply_buttons(
        [
            {"id": "helpful_yes", "label": "Yes, thanks"},
            {"id": "", "label": "no id"},
            {"id": "agent", "label": "Talk to a person, please"},
            {"id": "helpful_no", "label": "No"},
            {"id": "fourth", "label": "One too many"},
        ]
    )
    assert buttons == [
        {"type": "reply", "reply": {"id": "helpful_yes", "title": "Yes, thanks"}},
        {"type": "reply", "reply": {"id": "agent", "title": "Talk to a person, p…"}},
        {"type": "reply", "reply": {"id": "helpful_no", "title": "No"}},
    ]
    assert all(len(button["reply"]["title"]) <= 20 for button in buttons)


def test_a_long_text_with_buttons_keeps_the_interactive_body_short() -> None:
    text = " ".join(f"word{number}" for number in range(1500))  # ~10 000 characters
    bodies = message_bodies(
        to=WA_ID, text=text, quick_replies=[{"id": "agent", "label": "Talk to a person"}]
    )
    assert [body["type"] for body in bodies[:-1]] == ["text"] * (len(bodies) - 1)
    assert all(len(body["text"]["body"]) <= 4096 for body in bodies[:-1])
    last = bodies[-1]["interactive"]
    assert last["type"] == "button" and len(last["body"]["text"]) <= 1024
    words = [body["text"]["body"] for body in bodies[:-1]] + [last["body"]["text"]]
    assert " ".join(words) == text


# --- delivering through the outbox ----------------------------------------------------


async def player_writes(runtime: Runtime, text: str, *, message_id: str = "wamid.IN1") -> int:
    taken = await take_notification(runtime, raw=raw(text_message(text, message_id=message_id)))
    [ticket_id] = taken.ticket_ids
    return ticket_id


async def test_an_agent_reply_reaches_the_players_chat(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "My withdrawal has not arrived")
    await agent_replies(runtime, agent, ticket_id, "It was sent today; allow 1-3 banking days.")
    await agent_replies(runtime, agent, ticket_id, "VIP, be quick", kind=MessageKind.NOTE)
    [row] = await outbox_rows(runtime)  # the internal note never goes out
    assert (row.channel, row.recipient, row.status) == ("whatsapp", WA_ID, "pending")

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert graph_api.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {"preview_url": False, "body": "It was sent today; allow 1-3 banking days."},
        }
    ]
    [row] = await outbox_rows(runtime)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT.value, "wamid.FAKE000001")


async def test_a_failed_status_dead_letters_the_reply_and_delivered_is_only_logged(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi, how can I help?")
    assert (await deliver_outbox(runtime))["sent"] == 1

    delivered = await take_notification(runtime, raw=raw(status("wamid.FAKE000001", "delivered")))
    assert delivered.outcomes == ["status_logged"]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value

    failed = await take_notification(runtime, raw=raw(status("wamid.FAKE000001", "failed")))
    assert failed.outcomes == ["status_failed"]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.DEAD.value
    assert row.last_error is not None and row.last_error.startswith("WhatsApp 131047")
    unknown = await take_notification(runtime, raw=raw(status("wamid.NOT-OURS", "failed")))
    assert unknown.outcomes == ["status_unknown"]


async def test_a_refused_message_is_dead_lettered_and_an_undeliverable_number_marked(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    graph_api.failures = [(400, 131026, "Message undeliverable")]
    await agent_replies(runtime, agent, ticket_id, "First answer")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    [row] = await outbox_rows(runtime)
    assert row.last_error == "WhatsApp 400/131026: Message undeliverable"
    async with runtime.uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "whatsapp")
        )
        assert identity is not None and identity.delivery_failed_at is not None


@pytest.mark.parametrize(
    ("failure"),
    [(500, 1, "An unknown error occurred"), (429, 130429, "Rate limit hit")],
)
async def test_an_outage_or_rate_limit_is_retried(
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
    failure: tuple[int, int, str],
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    graph_api.failures = [failure]
    await agent_replies(runtime, agent, ticket_id, "We are on it.")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 1, "dead": 0}
    clock.advance(timedelta(seconds=runtime.settings.outbox_retry_seconds + 1))
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert [body["text"]["body"] for body in graph_api.sent] == ["We are on it."] * 2


async def test_an_unreachable_api_is_temporary_and_the_token_is_never_in_the_error() -> None:
    sender = whatsapp_sender(
        WhatsAppApi(
            base_url=closed_port_url(), access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID
        )
    )
    delivery = Delivery(
        id=1,
        channel="whatsapp",
        recipient=WA_ID,
        idempotency_key="whatsapp:message:1",
        payload={"chat_id": WA_ID, "text": "Hello", "quick_replies": []},
        attempts=1,
        resumed=False,
    )
    with pytest.raises(DeliveryFailed) as caught:
        await sender(delivery)
    assert caught.value.permanent is False
    assert ACCESS_TOKEN not in str(caught.value)


async def test_a_wrong_token_waits_for_the_admin(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    sender = whatsapp_sender(
        WhatsAppApi(
            base_url=graph_api.base_url, access_token="wrong", phone_number_id=PHONE_NUMBER_ID
        )
    )
    assert await deliver_outbox(runtime, senders={"whatsapp": sender}) == {
        "sent": 0,
        "retry": 1,
        "dead": 0,
    }


# --- the 24-hour customer-service window ------------------------------------------------


async def test_an_agent_reply_outside_the_24_hour_window_is_refused(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        closes_at = await outbound.whatsapp_window_closes_at(uow, ticket=ticket)
    assert closes_at == clock.now() + timedelta(hours=24)

    clock.advance(timedelta(hours=23, minutes=59))
    await agent_replies(runtime, agent, ticket_id, "Still in time")
    clock.advance(timedelta(minutes=2))
    with pytest.raises(ValidationFailed) as caught:
        await agent_replies(runtime, agent, ticket_id, "Too late")
    assert caught.value.field == "body"
    assert "template" in str(caught.value)
    assert len(await outbox_rows(runtime)) == 1  # the refused reply was not stored or queued

    # The player writes again: the window opens for another 24 hours.
    await player_writes(runtime, "Are you there?", message_id="wamid.IN2")
    await agent_replies(runtime, agent, ticket_id, "Yes, here")
    assert len(await outbox_rows(runtime)) == 2


async def test_a_message_and_its_retry_open_one_ticket(runtime: Runtime) -> None:
    notification = raw(text_message("Where is my bonus?", message_id="wamid.RETRY"))
    first = await take_notification(runtime, raw=notification)
    again = await take_notification(runtime, raw=notification)
    assert first.outcomes == [MessengerOutcome.CREATED.value]
    assert again.outcomes == [MessengerOutcome.DUPLICATE.value]
    async with runtime.uow() as uow:
        tickets = list((await uow.session.scalars(select(Ticket))).all())
    assert [(ticket.channel, ticket.subject) for ticket in tickets] == [
        ("whatsapp", "Where is my bonus?")
    ]
