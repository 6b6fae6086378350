"""`POST /webhooks/viber` over real HTTP: the signature, bad and unknown callbacks, every
event kind, a chat becoming a ticket with its player, Viber's retries, a picture stored as
the player's attachment, a deep link answered with a welcome message in the response, the
receipts moving under the reply, and the bot answering in the chat with a keyboard whose
buttons the player presses (a local REST API and media server records the calls)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from playerdesk.bot.pipeline import Bot
from playerdesk.db.models import Attachment, ChannelIdentity, Message, OutboxItem, Player, Ticket
from playerdesk.domain.enums import AuthorKind, BotState, Channel, TicketStatus
from playerdesk.domain.mail import OutboxStatus
from playerdesk.domain.permissions import Actor
from playerdesk.i18n import translations
from playerdesk.jobs.bot_turns import answer_bot_turns
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import bot_admin, player_links
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, LiveServer
from tests.kb_articles import seed_articles
from tests.outbox_steps import agent_replies
from tests.viber_api import (
    LINK_SECRET,
    USER,
    FakeViber,
    event_callback,
    fake_viber,
    fixture,
    media_callback,
    sign,
    text_callback,
    viber_settings,
)

SIGNED = object()


@pytest.fixture
async def viber_api() -> AsyncIterator[FakeViber]:
    async with fake_viber() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, viber_api: FakeViber) -> Settings:
    return viber_settings(database_url=database_url, tmp_path=tmp_path, api_base=viber_api.base_url)


@pytest.fixture
async def webhook(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        yield client


async def deliver(
    webhook: httpx.AsyncClient, body: Any, *, signature: object = SIGNED
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is SIGNED:
        headers["X-Viber-Content-Signature"] = sign(content)
    elif isinstance(signature, str):
        headers["X-Viber-Content-Signature"] = signature
    return await webhook.post("/webhooks/viber", content=content, headers=headers)


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def messages_of(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        return list(rows)


async def only_ticket(runtime: Runtime) -> Ticket:
    async with runtime.uow() as uow:
        [ticket] = (await uow.session.scalars(select(Ticket))).all()
        return ticket


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        (None, 401),
        ("", 401),
        ("0" * 64, 403),
        (sign(b"another body"), 403),
        (sign(json.dumps(text_callback("Hello", message_token=1)).encode(), token="x"), 403),
    ],
)
async def test_without_the_right_signature_nothing_is_taken(
    webhook: httpx.AsyncClient, runtime: Runtime, signature: str | None, status: int
) -> None:
    body = text_callback("Hello", message_token=1)
    response = await deliver(webhook, body, signature=signature)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0


async def test_a_malformed_callback_is_refused_and_logged_with_its_token(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    broken = {"event": "message", "timestamp": 1, "message_token": 5741311803571729999}
    with capture_logs() as logs:
        response = await deliver(webhook, broken)
        not_json = await deliver(webhook, b"{not json")
    assert (response.status_code, not_json.status_code) == (400, 400)
    malformed = [entry for entry in logs if entry["event"] == "viber_callback_malformed"]
    assert [entry["message_token"] for entry in malformed] == [5741311803571729999, None]
    assert await count(runtime, Ticket) == 0


@pytest.mark.parametrize(
    "name",
    [
        "webhook",
        "subscribed",
        "unsubscribed",
        "delivered",
        "seen",
        "failed",
        "client_status",
    ],
)
async def test_events_without_a_message_are_acknowledged(
    webhook: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    response = await deliver(webhook, fixture(name))
    assert response.status_code == 200
    assert response.json() == {}
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0


async def test_a_new_chat_opens_a_ticket_and_later_messages_and_retries_join_it(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = text_callback("Cześć, moja wypłata jeszcze nie dotarła", message_token=52)
    assert (await deliver(webhook, first)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.channel == Channel.VIBER.value
    assert ticket.subject == "Cześć, moja wypłata jeszcze nie dotarła"
    assert ticket.language == "pl"
    assert ticket.status == TicketStatus.NEW.value
    async with runtime.uow() as uow:
        player = await uow.session.get(Player, ticket.player_id)
        assert player is not None
        assert (player.name, player.language, player.external_id) == ("Agnieszka Nowak", "pl", None)
        identities = (await uow.session.scalars(select(ChannelIdentity))).all()
        assert [(row.channel, row.address, row.player_id) for row in identities] == [
            ("viber", USER, player.id)
        ]

    second = text_callback("Wysłałam ją we wtorek", message_token=53)
    assert (await deliver(webhook, second)).status_code == 200
    # Viber did not hear our answer in time and sends the same callback again.
    assert (await deliver(webhook, second)).status_code == 200
    assert (await deliver(webhook, first)).status_code == 200

    assert await count(runtime, Ticket) == 1
    assert await count(runtime, Player) == 1
    bodies = [message.body for message in await messages_of(runtime, ticket.id)]
    assert bodies == ["Cześć, moja wypłata jeszcze nie dotarła", "Wysłałam ją we wtorek"]


async def test_a_picture_becomes_the_players_message_with_its_file(
    webhook: httpx.AsyncClient, runtime: Runtime, viber_api: FakeViber
) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
    viber_api.media["screenshot.jpg"] = jpeg
    picture = media_callback(
        "picture", media=viber_api.media_url("screenshot.jpg"), text="Mój dowód wpłaty"
    )
    assert (await deliver(webhook, picture)).status_code == 200
    assert (await deliver(webhook, picture)).status_code == 200  # a retry: downloaded once
    assert len(viber_api.downloads) == 1
    ticket = await only_ticket(runtime)
    [message] = await messages_of(runtime, ticket.id)
    assert message.body == "Mój dowód wpłaty"
    async with runtime.uow() as uow:
        [attachment] = (await uow.session.scalars(select(Attachment))).all()
    assert (attachment.message_id, attachment.content_type) == (message.id, "image/jpeg")
    assert await runtime.attachments.get(attachment.sha256) == jpeg


async def test_a_deep_link_is_answered_with_a_welcome_message(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    started = fixture("conversation_started_deep_link")
    started["user"]["language"] = "en"
    started["context"] = player_links.deep_link_token(
        external_id="PL-7731",
        secret=LINK_SECRET,
        expires_at=runtime.clock.now() + timedelta(minutes=30),
    )
    response = await deliver(webhook, started)
    assert response.status_code == 200
    assert response.json() == {
        "sender": {"name": "Casino Support"},
        "type": "text",
        "text": "Hello! This chat is now connected to your casino account. Write your "
        "question here and our support team will answer.",
    }
    async with runtime.uow() as uow:
        player = await uow.session.scalar(
            select(Player).join(ChannelIdentity).where(ChannelIdentity.address == USER)
        )
        assert player is not None and player.external_id == "PL-7731"
    # A plain first visit gets a greeting; nothing becomes a ticket.
    plain = await deliver(webhook, fixture("conversation_started"))
    assert plain.json()["text"] == translations("pl").gettext(
        "Hello! Write your question here and our support team will answer."
    )
    assert await count(runtime, Ticket) == 0


async def test_delivered_and_seen_move_the_receipts_under_the_reply(
    webhook: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    assert (await deliver(webhook, text_callback("Hello?"))).status_code == 200
    ticket = await only_ticket(runtime)
    await agent_replies(runtime, agent, ticket.id, "Hi! How can I help?")
    assert (await deliver_outbox(runtime))["sent"] == 1
    async with runtime.uow() as uow:
        row = await uow.session.scalar(select(OutboxItem))
        assert row is not None and row.provider_message_id is not None
        token, reply_id = int(row.provider_message_id), row.message_id
    await deliver(webhook, event_callback("delivered", message_token=token))
    delivered = await only_ticket(runtime)
    assert (delivered.player_delivered_up_to, delivered.player_read_up_to) == (reply_id, None)
    await deliver(webhook, event_callback("seen", message_token=token))
    seen = await only_ticket(runtime)
    assert (seen.player_delivered_up_to, seen.player_read_up_to) == (reply_id, reply_id)


async def test_another_user_is_another_player(webhook: httpx.AsyncClient, runtime: Runtime) -> None:
    await deliver(webhook, text_callback("Hi"))
    other = text_callback(
        "Hej, hur tar jag ut pengar?", user_id="9f8e7d6c5b4a3A==", name="Sven", language="sv"
    )
    await deliver(webhook, other)
    async with runtime.uow() as uow:
        players = (await uow.session.scalars(select(Player).order_by(Player.id))).all()
        assert [(player.name, player.language) for player in players] == [
            ("Agnieszka Nowak", "pl"),
            ("Sven", "sv"),
        ]
    assert await count(runtime, Ticket) == 2


async def test_unsubscribed_then_a_reply_waits_and_failed_shows_on_it(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    await deliver(webhook, text_callback("Hello"))
    assert (await deliver(webhook, fixture("unsubscribed"))).status_code == 200
    async with runtime.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
        assert identity is not None
        assert identity.delivery_failure == "Viber: the player unsubscribed from the bot"
    assert (await deliver(webhook, fixture("subscribed"))).status_code == 200
    async with runtime.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
        assert identity is not None and identity.delivery_failed_at is None


async def test_the_bot_answers_with_a_keyboard_and_a_pressed_button_is_its_label(
    webhook: httpx.AsyncClient, runtime: Runtime, bot: Bot, viber_api: FakeViber
) -> None:
    runtime.bot = bot
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.VIBER, enabled=True
        )
    await seed_articles(runtime)
    question = text_callback("how long does a withdrawal take to arrive?", language="en")
    assert (await deliver(webhook, question)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.bot_state == BotState.ACTIVE.value

    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    [answer] = viber_api.of("send_message")
    assert (answer["receiver"], answer["type"]) == (USER, "text")
    assert answer["sender"] == {"name": "Casino Support"}
    assert "How long does a withdrawal take?" in answer["text"]
    assert answer["keyboard"]["Type"] == "keyboard"
    assert [
        (button["ActionType"], button["ActionBody"], button["Text"])
        for button in answer["keyboard"]["Buttons"]
    ] == [
        ("reply", "helpful_yes", "Yes, thanks"),
        ("reply", "helpful_no", "No"),
        ("reply", "agent", "Talk to a person"),
    ]

    # Viber sends a pressed reply button as a text message saying its ActionBody.
    pressed = text_callback("helpful_yes", language="en", message_token=5741311803571739999)
    assert (await deliver(webhook, pressed)).status_code == 200
    assert (await deliver(webhook, pressed)).status_code == 200  # a retry: taken once
    player_said = [
        message.body
        for message in await messages_of(runtime, ticket.id)
        if message.author_kind == AuthorKind.PLAYER.value
    ]
    assert player_said == ["how long does a withdrawal take to arrive?", "Yes, thanks"]

    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    thanks = viber_api.of("send_message")[-1]
    assert thanks["text"].startswith("Great")
    assert "keyboard" not in thanks
    assert (await only_ticket(runtime)).status == TicketStatus.RESOLVED.value

    # Viber could not deliver the thanks after all: the reply shows it.
    async with runtime.uow() as uow:
        row = await uow.session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()))
        assert row is not None and row.provider_message_id is not None
        token = int(row.provider_message_id)
    failed = event_callback("failed", message_token=token, desc="receiver is offline too long")
    assert (await deliver(webhook, failed)).status_code == 200
    async with runtime.uow() as uow:
        row = await uow.session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()))
        assert row is not None
        assert (row.status, row.last_error) == (
            OutboxStatus.DEAD.value,
            "Viber could not deliver it: receiver is offline too long",
        )
