"""What a Telegram chat asks of the desk besides messages: /start (a greeting, or a deep
link that links the chat to a casino account), "call me back" (/callback, the player's own
number shared with a request_contact button, a time window chosen with inline buttons) and
edits of earlier messages. Real-shaped updates, real persistence, and the answers delivered
by the outbox job to a local Bot API server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from playerdesk.adapters.telegram import (
    MAX_CALLBACK_DATA_BYTES,
    TelegramCommand,
    TelegramEdit,
    TelegramIgnored,
    TelegramSharedContact,
    TelegramTaken,
    TelegramText,
    command_of,
    parse_update,
    take_update,
)
from playerdesk.clock import FrozenClock
from playerdesk.db.models import Callback, ChannelIdentity, Message, OutboxItem, Player, Ticket
from playerdesk.domain.enums import AuthorKind, TicketStatus
from playerdesk.domain.phone import CallbackSource, CallbackStatus
from playerdesk.i18n import translations
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import player_links, tickets
from playerdesk.services.messenger_chats import edited_body
from playerdesk.services.messengers import MessengerOutcome
from playerdesk.services.outbound import Purpose
from playerdesk.settings import Settings
from tests.conftest import AgentFactory
from tests.telegram_api import (
    FakeTelegram,
    button_update,
    command_update,
    contact_update,
    edited_update,
    fake_telegram,
    fixture,
    telegram_settings,
    text_update,
)

CHAT = 5123908871
OTHER_CHAT = 6000000001
LINK_SECRET = "test-link-secret-0123456789abcdef"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the tests' frozen clock: a Monday


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


async def take(runtime: Runtime, update: dict[str, Any]) -> TelegramTaken:
    return await take_update(runtime, raw=json.dumps(update).encode())


def raw(update: dict[str, Any]) -> bytes:
    return json.dumps(update).encode()


async def notices(runtime: Runtime) -> list[OutboxItem]:
    async with runtime.read_uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxItem).where(OutboxItem.purpose == Purpose.NOTICE).order_by(OutboxItem.id)
        )
        return list(rows)


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.read_uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def player_of_chat(runtime: Runtime, chat_id: int = CHAT) -> Player | None:
    async with runtime.read_uow() as uow:
        return await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.channel == "telegram", ChannelIdentity.address == str(chat_id))
        )


async def callbacks_of(runtime: Runtime) -> list[Callback]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(Callback).order_by(Callback.id))).all())


async def sent_after_delivery(runtime: Runtime, telegram_api: FakeTelegram) -> list[dict[str, Any]]:
    """Deliver the outbox; the sendMessage calls made for it."""
    before = len(telegram_api.of("sendMessage"))
    await deliver_outbox(runtime)
    return telegram_api.of("sendMessage")[before:]


def gettext(language: str, msgid: str) -> str:
    return translations(language).gettext(msgid)


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ("start", "")),
        ("/start AQBpJdX8AGNhc2luby0wMDQy", ("start", "AQBpJdX8AGNhc2luby0wMDQy")),
        ("/start@casino_support_bot abc-_9", ("start", "abc-_9")),
        ("/HELP", ("help", "")),
        ("  /callback please, tomorrow ", ("callback", "please, tomorrow")),
        ("/withdraw 100", None),
        ("start", None),
        ("I typed /start by mistake", None),
    ],
)
def test_the_commands_the_desk_answers_itself(text: str, expected: tuple[str, str] | None) -> None:
    assert command_of(text) == expected


def test_a_deep_link_start_is_a_command_with_its_payload() -> None:
    inbound = parse_update(raw(fixture("start_command")))
    assert isinstance(inbound, TelegramCommand)
    assert (inbound.command, inbound.payload) == (
        "start",
        "AQBpJdX8AGNhc2luby0wMDQy3qVyW2sV3ZlPfHbp",
    )
    assert inbound.key == f"telegram:{CHAT}:80"
    other = parse_update(raw(text_update("/withdraw 100")))
    assert isinstance(other, TelegramText)


@pytest.mark.parametrize(("user_id", "own"), [(CHAT, True), (OTHER_CHAT, False), (None, False)])
def test_a_shared_contact_is_own_only_when_its_user_is_the_sender(
    user_id: int | None, own: bool
) -> None:
    inbound = parse_update(raw(contact_update("48601234567", user_id=user_id)))
    assert isinstance(inbound, TelegramSharedContact)
    assert (inbound.phone_number, inbound.own) == ("48601234567", own)


def test_an_edit_names_the_message_and_each_edit_is_its_own() -> None:
    inbound = parse_update(raw(fixture("edited_message")))
    assert isinstance(inbound, TelegramEdit)
    assert inbound.text == "Cześć, moja wypłata jeszcze nie dotarła (od wtorku)"
    assert inbound.original_key == f"telegram:{CHAT}:52"
    assert inbound.key == f"telegram:{CHAT}:52:edit:1793609490"
    caption = parse_update(raw(edited_update("Mój dowód wpłaty", message_id=54, caption=True)))
    assert isinstance(caption, TelegramEdit)
    assert (caption.text, caption.original_key) == ("Mój dowód wpłaty", f"telegram:{CHAT}:54")
    command = parse_update(raw(edited_update("/start")))
    assert isinstance(command, TelegramIgnored)
    assert command.kind == "edited_message_without_text"
    group = edited_update("hej")
    group["edited_message"]["chat"]["type"] = "group"
    assert isinstance(parse_update(raw(group)), TelegramIgnored)


# --- /start --------------------------------------------------------------------------------


async def test_a_bare_start_is_greeted_and_opens_no_ticket(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    update = command_update("/start", language_code="en")
    taken = await take(runtime, update)
    assert (taken.kind, taken.answered, taken.ticket_id) == ("command_start", True, None)
    again = await take(runtime, update)  # Telegram's retry
    assert (again.outcome, again.answered) == (MessengerOutcome.DUPLICATE, False)
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0
    [greeting] = await sent_after_delivery(runtime, telegram_api)
    assert greeting["chat_id"] == CHAT
    assert greeting["text"] == (
        "Hello! Write your question here and our support team will answer you in this chat. "
        "To have us call you back, send /callback."
    )
    [row] = await notices(runtime)
    assert (row.status, row.ticket_id, row.recipient) == ("sent", None, str(CHAT))


async def test_the_greeting_is_in_the_players_language(runtime: Runtime) -> None:
    await take(runtime, command_update("/help", language_code="pl-PL"))
    [row] = await notices(runtime)
    assert row.payload["language"] == "pl"
    assert row.payload["messages"][0]["text"] == gettext(
        "pl",
        "Hello! Write your question here and our support team will answer you in this chat. "
        "To have us call you back, send /callback.",
    )


def link_token(external_id: str = "casino-0042", *, valid_for: timedelta | None = None) -> str:
    return player_links.deep_link_token(
        external_id=external_id,
        secret=LINK_SECRET,
        expires_at=START + (valid_for or timedelta(days=1)),
    )


async def test_a_deep_link_links_the_chat_to_the_casino_player(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    # The player wrote before they followed the link: their conversation goes with the chat.
    first = await take(runtime, text_update("Hi, my bonus is missing", language_code="en"))
    assert first.ticket_id is not None
    taken = await take(runtime, command_update(f"/start {link_token()}", language_code="en"))
    assert (taken.kind, taken.answered) == ("deep_link", True)
    player = await player_of_chat(runtime)
    assert player is not None
    assert (player.external_id, player.name, player.language) == (
        "casino-0042",
        "Agnieszka Nowak",
        "en",
    )
    async with runtime.read_uow() as uow:
        ticket = await uow.session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.player_id == player.id
    assert await count(runtime, Player) == 1  # the chat's anonymous player is gone
    [confirmation] = await sent_after_delivery(runtime, telegram_api)
    assert confirmation["text"] == (
        "Thank you, this chat is now linked to your casino account. Write your question here "
        "and we will answer you in this chat."
    )
    # The same update again (Telegram's retry): nothing changes, nothing is said twice.
    again = await take(runtime, command_update(f"/start {link_token()}", language_code="en"))
    assert (again.answered, again.outcome) == (False, MessengerOutcome.DUPLICATE)
    assert len(await notices(runtime)) == 1
    assert await count(runtime, Player) == 1


async def test_a_first_word_deep_link_starts_the_chat_on_the_casino_player(
    runtime: Runtime,
) -> None:
    await take(runtime, command_update(f"/start {link_token('casino-0077')}"))
    player = await player_of_chat(runtime)
    assert player is not None
    # Telegram told the name and the language; the casino's next upsert brings the rest.
    assert (player.external_id, player.name, player.language) == (
        "casino-0077",
        "Agnieszka Nowak",
        "pl",
    )
    assert await count(runtime, Ticket) == 0


@pytest.mark.parametrize("problem", ["forged", "expired", "garbage"])
async def test_a_bad_or_expired_deep_link_is_refused_politely(
    runtime: Runtime, telegram_api: FakeTelegram, clock: FrozenClock, problem: str
) -> None:
    if problem == "forged":
        token = player_links.deep_link_token(
            external_id="casino-0042",
            secret="not-the-desks-secret",
            expires_at=START + timedelta(1),
        )
    elif problem == "expired":
        token = link_token(valid_for=timedelta(minutes=10))
        clock.advance(timedelta(minutes=11))
    else:
        token = "not+a/token"
    taken = await take(runtime, command_update(f"/start {token}", language_code="en"))
    assert (taken.kind, taken.answered) == ("deep_link", True)
    # Nothing is left behind: no casino player, no player for the chat either.
    assert await count(runtime, Player) == 0
    assert await count(runtime, ChannelIdentity) == 0
    [refusal] = await sent_after_delivery(runtime, telegram_api)
    assert refusal["text"] == (
        "Sorry, this link is not valid or has expired. Please open it again from your casino "
        "account, or simply write your question here."
    )


async def test_a_chat_linked_to_another_account_is_not_moved_by_a_link(runtime: Runtime) -> None:
    await take(runtime, command_update(f"/start {link_token('casino-0042')}", language_code="en"))
    update = command_update(f"/start {link_token('casino-0099')}", message_id=90)
    await take(runtime, update)
    player = await player_of_chat(runtime)
    assert player is not None and player.external_id == "casino-0042"
    rows = await notices(runtime)
    assert rows[-1].payload["messages"][0]["text"].startswith("Sorry, this link is not valid")


# --- call me back --------------------------------------------------------------------------


async def ask_for_a_callback(runtime: Runtime, telegram_api: FakeTelegram) -> dict[str, Any]:
    await take(runtime, command_update("/callback", language_code="en", message_id=85))
    [asked] = await sent_after_delivery(runtime, telegram_api)
    return asked


async def test_callback_asks_for_the_players_own_number_with_a_button(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    asked = await ask_for_a_callback(runtime, telegram_api)
    assert asked["text"] == (
        "To have us call you back, share your phone number with the button below. We use it "
        "only to call you."
    )
    assert asked["reply_markup"] == {
        "keyboard": [[{"text": "Share my phone number", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    assert await count(runtime, Callback) == 0
    assert await count(runtime, Ticket) == 0


async def test_the_players_own_number_queues_a_callback_and_offers_windows(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    await ask_for_a_callback(runtime, telegram_api)
    update = contact_update("48601234567")
    update["message"]["from"]["language_code"] = "en"
    taken = await take(runtime, update)
    assert (taken.kind, taken.answered) == ("contact", True)
    [callback] = await callbacks_of(runtime)
    player = await player_of_chat(runtime)
    assert player is not None
    assert (callback.phone, callback.source, callback.status, callback.player_id) == (
        "+48601234567",
        CallbackSource.TELEGRAM.value,
        CallbackStatus.WAITING.value,
        player.id,
    )
    assert (callback.window_from, callback.window_until, callback.due_at) == (None, None, START)
    assert player.phone == "+48601234567"  # calls from and to it find the player
    thanks, question = await sent_after_delivery(runtime, telegram_api)
    assert thanks["text"] == (
        "Thank you. We will call you at +48601234567 as soon as one of our agents is free."
    )
    assert thanks["reply_markup"] == {"remove_keyboard": True}
    assert question["text"] == (
        "If another time suits you better, choose it below (times in UTC time)."
    )
    buttons = [row[0] for row in question["reply_markup"]["inline_keyboard"]]
    # 09:00 on Monday: the morning has most of its window left; all of Tuesday.
    assert [button["text"] for button in buttons] == [
        "As soon as possible",
        "Today, 9:00\u202fAM–12:00\u202fPM",
        "Today, 12:00\u202fPM–5:00\u202fPM",
        "Today, 5:00\u202fPM–9:00\u202fPM",
        "Tomorrow, 9:00\u202fAM–12:00\u202fPM",
        "Tomorrow, 12:00\u202fPM–5:00\u202fPM",
        "Tomorrow, 5:00\u202fPM–9:00\u202fPM",
    ]
    assert [button["callback_data"] for button in buttons[:2]] == [
        f"cbw:{callback.id}:now",
        f"cbw:{callback.id}:20261102m",
    ]
    assert all(
        len(button["callback_data"].encode()) <= MAX_CALLBACK_DATA_BYTES for button in buttons
    )
    # Telegram delivers the contact again: one callback, one answer.
    await take(runtime, update)
    assert await count(runtime, Callback) == 1
    assert await sent_after_delivery(runtime, telegram_api) == []


async def test_a_chosen_window_moves_the_call_and_is_confirmed(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    await take(runtime, contact_update("+48601234567"))
    [callback] = await callbacks_of(runtime)
    await deliver_outbox(runtime)
    press = button_update(f"cbw:{callback.id}:20261103a", query_id="4392017758315690500")
    taken = await take(runtime, press)
    assert (taken.kind, taken.answered) == ("callback_window", True)
    assert taken.callback_query_id == "4392017758315690500"  # its spinner is stopped
    [callback] = await callbacks_of(runtime)
    tuesday_noon = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    assert (callback.window_from, callback.window_until, callback.due_at) == (
        tuesday_noon,
        tuesday_noon + timedelta(hours=5),
        tuesday_noon,
    )
    [confirmation] = await sent_after_delivery(runtime, telegram_api)
    # In the player's language (Polish, as their Telegram app told when they shared the number),
    # in the help centre's words.
    assert confirmation["text"] == (
        "Zadzwonimy wtorek, 3 listopada 2026 między 12:00 a 17:00 (czas UTC)."
    )
    # Changed their mind: as soon as possible after all.
    await take(runtime, button_update(f"cbw:{callback.id}:now", query_id="4392017758315690501"))
    [callback] = await callbacks_of(runtime)
    assert (callback.window_from, callback.window_until, callback.due_at) == (None, None, START)
    [soon] = await sent_after_delivery(runtime, telegram_api)
    assert soon["text"] == gettext("pl", "We will call you as soon as one of our agents is free.")


async def test_another_chat_cannot_move_someone_elses_callback(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    await take(runtime, contact_update("+48601234567"))
    [callback] = await callbacks_of(runtime)
    await take(runtime, text_update("Hello", chat_id=OTHER_CHAT, language_code="en"))
    await deliver_outbox(runtime)
    forged = button_update(f"cbw:{callback.id}:20261103a", chat_id=OTHER_CHAT)
    forged["callback_query"]["from"]["language_code"] = "en"
    await take(runtime, forged)
    [unchanged] = await callbacks_of(runtime)
    assert (unchanged.window_from, unchanged.due_at) == (None, START)
    [answer] = await sent_after_delivery(runtime, telegram_api)
    assert answer["chat_id"] == OTHER_CHAT
    assert answer["text"] == (
        "This callback request is no longer open. Send /callback to ask for a new one."
    )
    # A chat the desk never met, and data that is not a window, are turned away the same way.
    await take(runtime, button_update(f"cbw:{callback.id}:now", chat_id=7000000001))
    await take(runtime, button_update(f"cbw:{callback.id}:20261399x"))
    assert len(await notices(runtime)) == 4


async def test_a_window_that_has_passed_is_refused(
    runtime: Runtime, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await take(runtime, contact_update("+48601234567"))
    [callback] = await callbacks_of(runtime)
    await deliver_outbox(runtime)
    clock.advance(timedelta(hours=4))  # 13:00: the morning's window is over
    press = button_update(f"cbw:{callback.id}:20261102m")
    press["callback_query"]["from"]["language_code"] = "en"
    await take(runtime, press)
    [unchanged] = await callbacks_of(runtime)
    assert unchanged.window_from is None
    [answer] = await sent_after_delivery(runtime, telegram_api)
    # In the chat's language (the contact came from a Polish app), not the press's.
    assert answer["text"] == "Ta pora już minęła. Wybierz inną."


async def test_someone_elses_number_is_not_called(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    update = contact_update("+46701234567", user_id=OTHER_CHAT)
    update["message"]["from"]["language_code"] = "en"
    await take(runtime, update)
    assert await count(runtime, Callback) == 0
    [answer] = await sent_after_delivery(runtime, telegram_api)
    assert answer["text"] == (
        "Please share your own phone number with the button below: we can only call the "
        "number of this Telegram account."
    )
    assert answer["reply_markup"]["keyboard"][0][0]["request_contact"] is True


async def test_a_number_that_cannot_be_called_and_too_many_requests_are_answered(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    bad = contact_update("12", message_id=91)
    bad["message"]["from"]["language_code"] = "en"
    await take(runtime, bad)
    [answer] = await sent_after_delivery(runtime, telegram_api)
    assert answer["text"] == (
        "Sorry, we cannot call this number. Please write your question here instead."
    )
    assert answer["reply_markup"] == {"remove_keyboard": True}
    # The per-number limit of an hour (3 by default), each request finished by an agent.
    for message_id in range(92, 95):
        again = contact_update("+48601234567", message_id=message_id)
        again["message"]["from"]["language_code"] = "en"
        await take(runtime, again)
        async with runtime.uow() as uow:
            open_callback = await uow.session.scalar(
                select(Callback).where(Callback.status == CallbackStatus.WAITING.value)
            )
            assert open_callback is not None
            open_callback.status = CallbackStatus.DONE.value
            await uow.commit()
    await deliver_outbox(runtime)
    limited = contact_update("+48601234567", message_id=95)
    limited["message"]["from"]["language_code"] = "en"
    await take(runtime, limited)
    assert await count(runtime, Callback) == 3
    [answer] = await sent_after_delivery(runtime, telegram_api)
    assert answer["text"] == (
        "You have asked for several calls in a short time. Please try again in 60 minutes."
    )


async def test_a_number_already_waiting_keeps_its_callback(
    runtime: Runtime, telegram_api: FakeTelegram
) -> None:
    await take(runtime, contact_update("+48601234567"))
    other = contact_update("+48601234567", chat_id=OTHER_CHAT, user_id=OTHER_CHAT)
    other["message"]["from"]["language_code"] = "en"
    await deliver_outbox(runtime)
    await take(runtime, other)
    [callback] = await callbacks_of(runtime)
    mine = await player_of_chat(runtime)
    assert mine is not None and callback.player_id == mine.id
    [answer] = await sent_after_delivery(runtime, telegram_api)
    assert answer["text"] == (
        "Thank you. We already have a request to call +48601234567; one of our agents will "
        "call you."
    )
    assert "inline_keyboard" not in answer["reply_markup"]


# --- edits ---------------------------------------------------------------------------------


async def bodies(runtime: Runtime, ticket_id: int) -> list[str]:
    async with runtime.read_uow() as uow:
        rows = await uow.session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket_id, Message.author_kind == AuthorKind.PLAYER.value)
            .order_by(Message.id)
        )
        return [message.body for message in rows]


async def test_an_edit_joins_the_conversation_quoting_what_the_message_said(
    runtime: Runtime,
) -> None:
    first = await take(runtime, text_update("My withdrawal has not arrived", message_id=52))
    assert first.ticket_id is not None
    await take(runtime, text_update("It was 200 EUR", message_id=53))
    edit = edited_update("My withdrawal of Tuesday has not arrived", edit_date=1793609490)
    taken = await take(runtime, edit)
    assert (taken.kind, taken.outcome, taken.ticket_id) == (
        "edited_message",
        MessengerOutcome.APPENDED,
        first.ticket_id,
    )
    assert (await take(runtime, edit)).outcome is MessengerOutcome.DUPLICATE  # a retry
    # Edited again: another edit, recorded too.
    await take(runtime, edited_update("My withdrawal of 200 EUR", edit_date=1793609555))
    assert await bodies(runtime, first.ticket_id) == [
        "My withdrawal has not arrived",
        "It was 200 EUR",
        '[edited message; it said: "My withdrawal has not arrived"]\n'
        "My withdrawal of Tuesday has not arrived",
        '[edited message; it said: "My withdrawal has not arrived"]\nMy withdrawal of 200 EUR',
    ]
    assert await count(runtime, Ticket) == 1


def test_a_long_message_is_quoted_in_short() -> None:
    body = edited_body(earlier="word " * 100, now_reads="new")
    quoted = body.split('"')[1]
    assert len(quoted) == 200 and quoted.endswith("…")


async def test_an_edit_on_a_closed_conversation_is_ignored_and_one_never_seen_is_taken(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    first = await take(runtime, text_update("Hi", message_id=52))
    assert first.ticket_id is not None
    agent = await make_agent()
    for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        async with runtime.uow() as uow:
            await tickets.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=first.ticket_id,
                changes=tickets.TicketChanges(status=status),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )
    edit = await take(runtime, edited_update("Hi there", message_id=52))
    assert edit.outcome is MessengerOutcome.IGNORED
    assert await bodies(runtime, first.ticket_id) == ["Hi"]
    # An edit of a message the desk never had (sent before the bot was connected): the
    # player's words still reach the desk.
    unknown = await take(runtime, edited_update("Is anyone there?", message_id=12))
    assert unknown.outcome is MessengerOutcome.CREATED
    assert unknown.ticket_id is not None
    assert await bodies(runtime, unknown.ticket_id) == ["[edited message]\nIs anyone there?"]
