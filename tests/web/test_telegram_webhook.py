"""`POST /webhooks/telegram` over real HTTP: the secret header, bad and unknown updates,
a chat becoming a ticket with its player, Telegram's retries, and the bot answering in the
chat with buttons the player presses (a local Bot API server records the calls)."""

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
from playerdesk.db.models import Attachment, Callback, ChannelIdentity, Message, Player, Ticket
from playerdesk.domain.enums import AuthorKind, BotState, Channel, TicketStatus
from playerdesk.domain.permissions import Actor
from playerdesk.jobs.bot_turns import answer_bot_turns
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import bot_admin, player_links
from playerdesk.settings import Settings
from tests.conftest import LiveServer
from tests.kb_articles import seed_articles
from tests.telegram_api import (
    PHOTO_FILE_ID,
    SECRET,
    FakeTelegram,
    button_update,
    command_update,
    contact_update,
    fake_telegram,
    file_update,
    fixture,
    telegram_settings,
    text_update,
)

CHAT = 5123908871
LINK_SECRET = "test-link-secret-0123456789abcdef"


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, telegram_api: FakeTelegram) -> Settings:
    return telegram_settings(
        database_url=database_url,
        tmp_path=tmp_path,
        api_base=telegram_api.base_url,
        messenger_link_secret=LINK_SECRET,
    )


@pytest.fixture
async def webhook(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        yield client


async def deliver(
    webhook: httpx.AsyncClient, body: Any, *, secret: str | None = SECRET
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await webhook.post("/webhooks/telegram", content=content, headers=headers)


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


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_without_the_right_secret_nothing_is_taken(
    webhook: httpx.AsyncClient, runtime: Runtime, secret: str | None
) -> None:
    response = await deliver(webhook, text_update("Hello"), secret=secret)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0


async def test_a_malformed_update_is_refused_and_logged_with_its_id(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    broken = {"update_id": 734118299, "message": {"message_id": 1, "date": 0, "text": "hi"}}
    with capture_logs() as logs:
        response = await deliver(webhook, broken)
        not_json = await deliver(webhook, b"{not json")
    assert (response.status_code, not_json.status_code) == (400, 400)
    malformed = [entry for entry in logs if entry["event"] == "telegram_update_malformed"]
    assert [entry["update_id"] for entry in malformed] == [734118299, None]
    assert await count(runtime, Ticket) == 0


@pytest.mark.parametrize("name", ["my_chat_member", "group_message"])
async def test_updates_we_do_not_take_are_acknowledged_and_ignored(
    webhook: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    response = await deliver(webhook, fixture(name))
    assert response.status_code == 200
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0


async def test_a_new_chat_opens_a_ticket_and_later_messages_and_retries_join_it(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = text_update("Cześć, moja wypłata jeszcze nie dotarła", message_id=52)
    assert (await deliver(webhook, first)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.channel == Channel.TELEGRAM.value
    assert ticket.subject == "Cześć, moja wypłata jeszcze nie dotarła"
    assert ticket.language == "pl"
    assert ticket.status == TicketStatus.NEW.value
    async with runtime.uow() as uow:
        player = await uow.session.get(Player, ticket.player_id)
        assert player is not None
        assert (player.name, player.language, player.external_id) == ("Agnieszka Nowak", "pl", None)
        identities = (await uow.session.scalars(select(ChannelIdentity))).all()
        assert [(row.channel, row.address, row.player_id) for row in identities] == [
            ("telegram", str(CHAT), player.id)
        ]

    second = text_update("Wysłałam ją we wtorek", message_id=53)
    assert (await deliver(webhook, second)).status_code == 200
    # Telegram did not hear our answer in time and sends the same update again.
    assert (await deliver(webhook, second)).status_code == 200
    assert (await deliver(webhook, first)).status_code == 200

    assert await count(runtime, Ticket) == 1
    assert await count(runtime, Player) == 1
    bodies = [message.body for message in await messages_of(runtime, ticket.id)]
    assert bodies == ["Cześć, moja wypłata jeszcze nie dotarła", "Wysłałam ją we wtorek"]


async def test_another_chat_is_another_player(webhook: httpx.AsyncClient, runtime: Runtime) -> None:
    await deliver(webhook, text_update("Hi"))
    other = text_update(
        "Hej, hur tar jag ut pengar?",
        chat_id=6000000001,
        first_name="Sven",
        last_name=None,
        language_code="sv",
    )
    await deliver(webhook, other)
    async with runtime.uow() as uow:
        players = (await uow.session.scalars(select(Player).order_by(Player.id))).all()
        assert [(player.name, player.language) for player in players] == [
            ("Agnieszka Nowak", "pl"),
            ("Sven", "sv"),
        ]
    assert await count(runtime, Ticket) == 2


async def test_the_bot_answers_in_the_chat_and_a_pressed_button_is_its_label(
    webhook: httpx.AsyncClient, runtime: Runtime, bot: Bot, telegram_api: FakeTelegram
) -> None:
    runtime.bot = bot
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.TELEGRAM, enabled=True
        )
    await seed_articles(runtime)
    question = text_update("how long does a withdrawal take to arrive?", language_code="en")
    assert (await deliver(webhook, question)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.bot_state == BotState.ACTIVE.value

    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    [answer] = telegram_api.of("sendMessage")
    assert answer["chat_id"] == CHAT
    assert "How long does a withdrawal take?" in answer["text"]
    assert answer["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes, thanks", "callback_data": "helpful_yes"}],
            [{"text": "No", "callback_data": "helpful_no"}],
            [{"text": "Talk to a person", "callback_data": "agent"}],
        ]
    }

    pressed = button_update("helpful_yes", query_id="4392017758315690999")
    assert (await deliver(webhook, pressed)).status_code == 200
    assert (await deliver(webhook, pressed)).status_code == 200  # a retry: taken once
    answered = await telegram_api.wait_for("answerCallbackQuery", count=2)
    assert answered[0] == {"callback_query_id": "4392017758315690999"}
    player_said = [
        message.body
        for message in await messages_of(runtime, ticket.id)
        if message.author_kind == AuthorKind.PLAYER.value
    ]
    assert player_said == ["how long does a withdrawal take to arrive?", "Yes, thanks"]

    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    thanks = telegram_api.of("sendMessage")[-1]
    assert thanks["text"].startswith("Great")
    assert "reply_markup" not in thanks
    assert (await only_ticket(runtime)).status == TicketStatus.RESOLVED.value


async def test_a_button_nobody_offered_is_acknowledged_and_ignored(
    webhook: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    await deliver(webhook, text_update("Hello"))
    ticket = await only_ticket(runtime)
    assert (await deliver(webhook, button_update("helpful_yes"))).status_code == 200
    assert len(await telegram_api.wait_for("answerCallbackQuery")) == 1
    assert [message.body for message in await messages_of(runtime, ticket.id)] == ["Hello"]


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def test_a_photo_becomes_an_attachment_of_the_players_message(
    webhook: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    telegram_api.files[PHOTO_FILE_ID] = ("photos/file_12.png", PNG)
    update = file_update(photo=PNG, caption="Tak wygląda błąd")
    assert (await deliver(webhook, update)).status_code == 200
    assert (await deliver(webhook, update)).status_code == 200  # Telegram's retry
    assert telegram_api.downloads == ["photos/file_12.png"]
    ticket = await only_ticket(runtime)
    [message] = await messages_of(runtime, ticket.id)
    assert message.body == "Tak wygląda błąd"
    async with runtime.uow() as uow:
        [attachment] = (await uow.session.scalars(select(Attachment))).all()
    assert (attachment.message_id, attachment.ticket_id) == (message.id, ticket.id)
    assert (attachment.content_type, attachment.size) == ("image/png", len(PNG))
    assert await runtime.attachments.get(attachment.sha256) == PNG


async def test_a_document_too_large_is_acknowledged_logged_and_noted(
    webhook: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    size = 15 * 1024 * 1024
    update = file_update(document=("wyciagi-2026.pdf", "application/pdf", size), caption="Wyciągi")
    with capture_logs() as logs:
        response = await deliver(webhook, update)
    assert response.status_code == 200
    assert telegram_api.of("getFile") == []
    assert [entry["event"] for entry in logs if entry["event"] == "telegram_file_refused"] == [
        "telegram_file_refused"
    ]
    ticket = await only_ticket(runtime)
    [message] = await messages_of(runtime, ticket.id)
    assert message.author_kind == AuthorKind.PLAYER.value
    assert message.body == (
        "[a file that could not be accepted: wyciagi-2026.pdf, too large (15.0 MB; the limit "
        "is 10.0 MB)]\n\nWyciągi"
    )
    assert await count(runtime, Attachment) == 0


# --- what the desk answers in the chat itself ----------------------------------------------


async def test_a_deep_link_links_the_chat_and_the_player_is_told(
    webhook: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    token = player_links.deep_link_token(
        external_id="casino-0042",
        secret=LINK_SECRET,
        expires_at=runtime.clock.now() + timedelta(hours=1),
    )
    start = command_update(f"/start {token}", language_code="en")
    assert (await deliver(webhook, start)).status_code == 200
    assert (await deliver(webhook, start)).status_code == 200  # Telegram's retry
    assert await count(runtime, Ticket) == 0
    async with runtime.uow() as uow:
        player = await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.address == str(CHAT))
        )
        assert player is not None and player.external_id == "casino-0042"
    assert (await deliver_outbox(runtime))["sent"] == 1
    [confirmation] = telegram_api.of("sendMessage")
    assert confirmation["chat_id"] == CHAT
    assert confirmation["text"].startswith("Thank you, this chat is now linked")


async def test_an_edit_shows_the_agent_what_the_player_changed(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    await deliver(webhook, text_update("Cześć, moja wypłata jeszcze nie dotarła", message_id=52))
    edit = fixture("edited_message")
    assert (await deliver(webhook, edit)).status_code == 200
    assert (await deliver(webhook, edit)).status_code == 200  # Telegram's retry
    ticket = await only_ticket(runtime)
    assert [message.body for message in await messages_of(runtime, ticket.id)] == [
        "Cześć, moja wypłata jeszcze nie dotarła",
        '[edited message; it said: "Cześć, moja wypłata jeszcze nie dotarła"]\n'
        "Cześć, moja wypłata jeszcze nie dotarła (od wtorku)",
    ]


async def test_call_me_back_from_the_chat(
    webhook: httpx.AsyncClient, runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    """The whole exchange through the webhook: /callback, the button that shares the
    player's number, the window they choose, each answered in the chat."""
    assert (
        await deliver(webhook, command_update("/callback", language_code="en"))
    ).status_code == 200
    assert (await deliver_outbox(runtime))["sent"] == 1
    [asked] = telegram_api.of("sendMessage")
    assert asked["reply_markup"]["keyboard"] == [
        [{"text": "Share my phone number", "request_contact": True}]
    ]
    shared = contact_update("48601234567")
    shared["message"]["from"]["language_code"] = "en"
    assert (await deliver(webhook, shared)).status_code == 200
    assert (await deliver_outbox(runtime))["sent"] == 1
    thanks, question = telegram_api.of("sendMessage")[1:]
    assert thanks["reply_markup"] == {"remove_keyboard": True}
    windows = question["reply_markup"]["inline_keyboard"]
    tomorrow_evening = windows[-1][0]
    assert tomorrow_evening["text"].startswith("Tomorrow, ")

    pressed = button_update(tomorrow_evening["callback_data"], query_id="4392017758315691000")
    assert (await deliver(webhook, pressed)).status_code == 200
    answered = await telegram_api.wait_for("answerCallbackQuery")
    assert answered == [{"callback_query_id": "4392017758315691000"}]
    async with runtime.uow() as uow:
        [callback] = (await uow.session.scalars(select(Callback))).all()
    assert callback.phone == "+48601234567"
    assert callback.window_from == runtime.clock.now().replace(hour=17) + timedelta(days=1)
    assert (await deliver_outbox(runtime))["sent"] == 1
    assert telegram_api.of("sendMessage")[-1]["text"].startswith("We will call you on ")
    assert await count(runtime, Ticket) == 0
