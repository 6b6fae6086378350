"""Telegram Bot API: updates into the desk (from the webhook, or long polling in
jobs/telegram_polling.py: both call `take_update`), replies out through the outbox.

Inbound, an update is parsed strictly (the fields we use must have their documented
types; fields we do not use are ignored, since Telegram adds new ones) into a text
message, a photo or document (downloaded with `getFile` into the attachment store), a
pressed quick-reply button, an edit of an earlier message, a command the desk answers
itself (`/start` with or without a deep link's payload, `/help`, `/callback`), a shared
phone number or a pressed callback-window button, or something we acknowledge and ignore.
Outbound, the outbox's sender calls `sendMessage`, with the bot's quick replies as an
inline keyboard whose `callback_data` is the quick reply's id, and `sendDocument` for each
attached file; the desk's own answers in the chat carry their keyboards as they are.

The bot token is part of every API URL: neither URLs nor httpx's errors are logged or kept
as delivery errors.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
from babel.dates import format_date, format_time, format_timedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.domain.calendar import time_zone_named
from playerdesk.domain.enums import Channel
from playerdesk.domain.errors import NotFound, TooManyAttempts, ValidationFailed
from playerdesk.domain.phone import CallbackSource
from playerdesk.domain.routing import TeamPurpose
from playerdesk.i18n import translations
from playerdesk.runtime import Runtime
from playerdesk.services import messenger_chats, messengers, player_links
from playerdesk.services.callbacks import CallbackPolicy
from playerdesk.services.floor_config import floor_config
from playerdesk.services.messenger_chats import ChatMessage
from playerdesk.services.messengers import (
    FileTooLarge,
    MessengerOutcome,
    MessengerPolicies,
    MessengerReceived,
    MessengerSender,
)
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings
from playerdesk.storage.attachments import AttachmentStore

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# sendMessage takes 1-4096 characters of text, counted in UTF-16 code units.
MAX_TEXT_UNITS = 4096
# An inline button's callback_data is 1-64 bytes.
MAX_CALLBACK_DATA_BYTES = 64
# Statuses that end once something outside the message changes (the token, the rate, the
# service): retried. Any other 4xx refuses this message for good.
TEMPORARY_CLIENT_ERRORS = frozenset({401, 404, 408, 409, 425, 429})
REQUEST_TIMEOUT_SECONDS = 15.0


# --- inbound -------------------------------------------------------------------------


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class TelegramUser(_Shape):
    id: int
    is_bot: bool = False
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class TelegramChat(_Shape):
    id: int
    type: str


class TelegramPhotoSize(_Shape):
    file_id: str
    width: int
    height: int
    file_size: int | None = None


class TelegramDocument(_Shape):
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class TelegramContact(_Shape):
    phone_number: str
    first_name: str
    last_name: str | None = None
    # The Telegram user whose number it is, when it is one: a player's own number shared
    # with the request_contact button has their id here.
    user_id: int | None = None


class TelegramLocation(_Shape):
    latitude: float
    longitude: float


class TelegramMessage(_Shape):
    message_id: int
    sender: TelegramUser | None = Field(default=None, alias="from")
    chat: TelegramChat
    date: int
    # When the message was last edited (edited_message updates).
    edit_date: int | None = None
    text: str | None = None
    contact: TelegramContact | None = None
    # The same photo in several sizes, smallest first.
    photo: list[TelegramPhotoSize] | None = None
    document: TelegramDocument | None = None
    caption: str | None = None
    # What the desk does not take as a file: only that it came matters (a note says so).
    voice: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    video_note: dict[str, Any] | None = None
    animation: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    location: TelegramLocation | None = None


class TelegramCallbackQuery(_Shape):
    id: str
    sender: TelegramUser = Field(alias="from")
    # Absent when the message with the button is too old for Telegram to tell us about.
    message: TelegramMessage | None = None
    data: str | None = None


class TelegramUpdate(_Shape):
    update_id: int
    message: TelegramMessage | None = None
    edited_message: TelegramMessage | None = None
    callback_query: TelegramCallbackQuery | None = None


class MalformedUpdate(Exception):
    """Not an update we can read; `update_id` when the body had one (for the log)."""

    def __init__(self, reason: str, *, update_id: int | None) -> None:
        super().__init__(reason)
        self.update_id = update_id


@dataclass(frozen=True, kw_only=True)
class _ChatMessage:
    """A message in a private chat: what every inbound kind of message shares."""

    update_id: int
    chat_id: int
    message_id: int
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"telegram:{self.chat_id}:{self.message_id}"


@dataclass(frozen=True, kw_only=True)
class TelegramText(_ChatMessage):
    text: str


@dataclass(frozen=True, kw_only=True)
class TelegramFile(_ChatMessage):
    """A photo or document, with its caption; `file_size` as Telegram tells it, if it does."""

    file_id: str
    filename: str
    file_size: int | None
    caption: str


@dataclass(frozen=True, kw_only=True)
class TelegramButton:
    update_id: int
    callback_query_id: str
    chat_id: int
    data: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"telegram:{self.chat_id}:cb:{self.callback_query_id}"


@dataclass(frozen=True, kw_only=True)
class TelegramCommand(_ChatMessage):
    """A command the desk answers itself, not a message to support: `/start` (with the
    deep link's payload, if any), `/help` or `/callback`."""

    command: str
    payload: str


@dataclass(frozen=True, kw_only=True)
class TelegramSharedContact(_ChatMessage):
    """A phone number shared in the chat; `own` when it is the sender's own (the
    request_contact button shares that), the only kind we call."""

    phone_number: str
    own: bool


@dataclass(frozen=True, kw_only=True)
class TelegramEdit(_ChatMessage):
    """The player edited a message they sent (its text, or a file's caption)."""

    edit_date: int
    text: str

    @property
    def original_key(self) -> str:
        return super().key

    @property
    def key(self) -> str:
        # Each edit is its own: the same message edited twice is two edits.
        return f"{self.original_key}:edit:{self.edit_date}"


@dataclass(frozen=True, kw_only=True)
class TelegramIgnored:
    update_id: int
    kind: str
    # A button press we do not take is still answered, or its spinner keeps turning.
    callback_query_id: str | None = None


TelegramInbound = (
    TelegramText
    | TelegramFile
    | TelegramButton
    | TelegramCommand
    | TelegramSharedContact
    | TelegramEdit
    | TelegramIgnored
)

# The commands the desk answers itself; "/start@CasinoSupportBot" names the bot too.
COMMANDS = frozenset({"start", "help", "callback"})
_COMMAND = re.compile(
    r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(?P<rest>.*))?$", re.S
)


def _update_id_of(raw: bytes) -> int | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if isinstance(body, dict) and type(body.get("update_id")) is int:
        return int(body["update_id"])
    return None


def _sender(user: TelegramUser, chat: TelegramChat) -> MessengerSender:
    name = " ".join(part for part in (user.first_name, user.last_name) if part).strip()
    return MessengerSender(
        channel=Channel.TELEGRAM,
        address=str(chat.id),
        name=name or user.username,
        language_tag=user.language_code,
    )


def command_of(text: str) -> tuple[str, str] | None:
    """The command a message gives the bot and the rest of its text (a deep link's payload),
    if it is one of ours; anything else, "/withdraw" too, is a message to support."""
    found = _COMMAND.match(text.strip())
    if found is None or found["name"].lower() not in COMMANDS:
        return None
    return found["name"].lower(), (found["rest"] or "").strip()


def parse_update(raw: bytes) -> TelegramInbound:
    """What an update asks of us. Raises MalformedUpdate for a body that is not an update."""
    try:
        update = TelegramUpdate.model_validate_json(raw)
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in item["loc"]) for item in error.errors())
        raise MalformedUpdate(
            f"not a Telegram update ({fields or 'not JSON'})", update_id=_update_id_of(raw)
        ) from None
    if update.message is not None:
        message = update.message
        # Private chats only: a bot added to a group must not open tickets for its chatter.
        if message.chat.type != "private" or message.sender is None or message.sender.is_bot:
            return TelegramIgnored(update_id=update.update_id, kind="message_not_private")
        sender = _sender(message.sender, message.chat)
        sent_file = _file_of(update.update_id, message, sender=sender)
        if sent_file is not None:
            return sent_file
        if message.contact is not None:
            return TelegramSharedContact(
                update_id=update.update_id,
                chat_id=message.chat.id,
                message_id=message.message_id,
                phone_number=message.contact.phone_number,
                own=message.contact.user_id == message.sender.id,
                sender=sender,
            )
        note = _note_for(message)
        if note is not None:
            return TelegramText(
                update_id=update.update_id,
                chat_id=message.chat.id,
                message_id=message.message_id,
                text=note,
                sender=sender,
            )
        if message.text is None or not message.text.strip():
            return TelegramIgnored(update_id=update.update_id, kind="message_without_text")
        command = command_of(message.text)
        if command is not None:
            return TelegramCommand(
                update_id=update.update_id,
                chat_id=message.chat.id,
                message_id=message.message_id,
                command=command[0],
                payload=command[1],
                sender=sender,
            )
        return TelegramText(
            update_id=update.update_id,
            chat_id=message.chat.id,
            message_id=message.message_id,
            text=message.text,
            sender=sender,
        )
    if update.edited_message is not None:
        return _edit_of(update.update_id, update.edited_message)
    if update.callback_query is not None:
        query = update.callback_query
        if query.message is None or query.message.chat.type != "private" or not query.data:
            return TelegramIgnored(
                update_id=update.update_id, kind="callback_query", callback_query_id=query.id
            )
        return TelegramButton(
            update_id=update.update_id,
            callback_query_id=query.id,
            chat_id=query.message.chat.id,
            data=query.data,
            sender=_sender(query.sender, query.message.chat),
        )
    # my_chat_member, channel_post...: acknowledged, or Telegram retries.
    kinds = _update_kinds(raw)
    return TelegramIgnored(update_id=update.update_id, kind=kinds or "unknown")


def _note_for(message: TelegramMessage) -> str | None:
    """A note for the agent standing in for what the desk does not take as a file or text
    (a voice message, a video, a sticker, a location): the player's message is kept, and the
    agent knows what to ask for."""
    caption = (message.caption or "").strip()
    if message.voice is not None or message.audio is not None:
        what = "a voice message" if message.voice is not None else "an audio file"
        note = f"[{what}, which the desk cannot play: ask the player to write it instead]"
    elif message.video is not None or message.video_note is not None or message.animation:
        note = (
            "[a video, which the desk does not take: ask the player for a screenshot or to "
            "describe it]"
        )
    elif message.sticker is not None:
        note = "[a sticker]"
    elif message.location is not None:
        where = message.location
        note = f"[a location: {where.latitude:.6f}, {where.longitude:.6f}]"
    else:
        return None
    return f"{note}\n\n{caption}" if caption else note


def _edit_of(update_id: int, message: TelegramMessage) -> TelegramEdit | TelegramIgnored:
    """An edit we record: of a player's text or caption in a private chat, and not of a
    command (the desk answered that already; it was never a message to support)."""
    if message.chat.type != "private" or message.sender is None or message.sender.is_bot:
        return TelegramIgnored(update_id=update_id, kind="edited_message_not_private")
    text = (message.text if message.text is not None else message.caption) or ""
    if not text.strip() or message.contact is not None or command_of(text) is not None:
        return TelegramIgnored(update_id=update_id, kind="edited_message_without_text")
    return TelegramEdit(
        update_id=update_id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        edit_date=message.edit_date or message.date,
        text=text.strip(),
        sender=_sender(message.sender, message.chat),
    )


def _file_of(
    update_id: int, message: TelegramMessage, *, sender: MessengerSender
) -> TelegramFile | None:
    """The photo (its largest size) or document of a message, if it has one."""
    if message.photo:
        largest = max(
            message.photo, key=lambda size: (size.width * size.height, size.file_size or 0)
        )
        file_id, filename, file_size = (
            largest.file_id,
            f"photo-{message.message_id}.jpg",
            largest.file_size,
        )
    elif message.document is not None:
        document = message.document
        file_id, filename, file_size = (
            document.file_id,
            document.file_name or f"document-{message.message_id}",
            document.file_size,
        )
    else:
        return None
    return TelegramFile(
        update_id=update_id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        file_id=file_id,
        filename=filename,
        file_size=file_size,
        caption=(message.caption or "").strip(),
        sender=sender,
    )


def _update_kinds(raw: bytes) -> str:
    body = json.loads(raw)
    return ",".join(sorted(key for key in body if key != "update_id"))[:100]


def secret_matches(settings: Settings, presented: str | None) -> bool:
    """The webhook call carries the secret given to setWebhook (constant-time compare); with
    no secret configured nothing is accepted."""
    expected = settings.telegram_webhook_secret
    if not expected or presented is None:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def messenger_policies(runtime: Runtime) -> MessengerPolicies:
    policies = runtime.policies
    return MessengerPolicies(
        players=policies.players, messages=policies.messages, routing=policies.routing
    )


@dataclass(frozen=True, kw_only=True)
class TelegramTaken:
    update_id: int
    kind: str
    outcome: MessengerOutcome
    ticket_id: int | None = None
    # The pressed button to acknowledge with answerCallbackQuery, once the update is in.
    callback_query_id: str | None = None
    # The desk answered in the chat itself (a greeting, a confirmation), through the outbox.
    answered: bool = False


async def take_update(runtime: Runtime, *, raw: bytes) -> TelegramTaken:
    """Parse one webhook body and hand it to the desk. Raises MalformedUpdate."""
    inbound = parse_update(raw)
    if isinstance(inbound, TelegramIgnored):
        log.info("telegram_update_ignored", update_id=inbound.update_id, kind=inbound.kind)
        return TelegramTaken(
            update_id=inbound.update_id,
            kind=inbound.kind,
            outcome=MessengerOutcome.IGNORED,
            callback_query_id=inbound.callback_query_id,
        )
    if isinstance(inbound, TelegramFile):
        return await _take_file(runtime, inbound)
    if isinstance(inbound, TelegramCommand):
        return await _take_command(runtime, inbound)
    if isinstance(inbound, TelegramSharedContact):
        return await _take_contact(runtime, inbound)
    if isinstance(inbound, TelegramEdit):
        return await _take_edit(runtime, inbound)
    if isinstance(inbound, TelegramButton) and inbound.data.startswith(WINDOW_PREFIX):
        return await _take_window_choice(runtime, inbound)
    received: MessengerReceived
    async with runtime.uow() as uow:
        if isinstance(inbound, TelegramText):
            received = await messengers.receive_messenger_message(
                uow,
                sender=inbound.sender,
                body=inbound.text,
                provider_message_key=inbound.key,
                policies=messenger_policies(runtime),
            )
        else:
            received = await messengers.receive_messenger_button(
                uow,
                sender=inbound.sender,
                button_id=inbound.data,
                provider_message_key=inbound.key,
                policies=messenger_policies(runtime),
            )
    kind = "message" if isinstance(inbound, TelegramText) else "callback_query"
    log.info(
        "telegram_update_taken",
        update_id=inbound.update_id,
        kind=kind,
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return TelegramTaken(
        update_id=inbound.update_id,
        kind=kind,
        outcome=received.outcome,
        ticket_id=received.ticket_id,
        callback_query_id=inbound.callback_query_id
        if isinstance(inbound, TelegramButton)
        else None,
    )


async def _take_file(runtime: Runtime, inbound: TelegramFile) -> TelegramTaken:
    """Download the file (once: a retried update is recognised before), then take the
    message with it; a file the rules refuse, or that cannot be downloaded, becomes a note
    in the player's message so the agent can ask for it another way."""
    async with runtime.uow() as uow:
        if await messengers.seen_before(
            uow, sender=inbound.sender, provider_message_key=inbound.key
        ):
            return TelegramTaken(
                update_id=inbound.update_id, kind="file", outcome=MessengerOutcome.DUPLICATE
            )
    api = TelegramApi.from_settings(runtime.settings)

    async def download(max_bytes: int) -> bytes:
        assert api is not None
        return await download_file(api, file_id=inbound.file_id, max_bytes=max_bytes)

    files = await messengers.downloaded_file(
        filename=inbound.filename,
        declared_size=inbound.file_size,
        download=download if api is not None else None,
        explained=(TelegramRefused,),
        unexplained=(httpx.HTTPError,),
        store=runtime.attachments,
        policy=runtime.policies.attachments,
        log_event="telegram_file",
        log_context={"update_id": inbound.update_id},
    )
    async with runtime.uow() as uow:
        received = await messengers.receive_messenger_message(
            uow,
            sender=inbound.sender,
            body=inbound.caption,
            provider_message_key=inbound.key,
            policies=messenger_policies(runtime),
            files=files,
        )
    log.info(
        "telegram_update_taken",
        update_id=inbound.update_id,
        kind="file",
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return TelegramTaken(
        update_id=inbound.update_id,
        kind="file",
        outcome=received.outcome,
        ticket_id=received.ticket_id,
    )


async def _take_edit(runtime: Runtime, inbound: TelegramEdit) -> TelegramTaken:
    """The player changed a message: the agent sees it as their new message quoting the old
    (services.messenger_chats.receive_messenger_edit)."""
    async with runtime.uow() as uow:
        received = await messenger_chats.receive_messenger_edit(
            uow,
            sender=inbound.sender,
            original_key=inbound.original_key,
            edit_key=inbound.key,
            body=inbound.text,
            policies=messenger_policies(runtime),
        )
    log.info(
        "telegram_update_taken",
        update_id=inbound.update_id,
        kind="edited_message",
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return TelegramTaken(
        update_id=inbound.update_id,
        kind="edited_message",
        outcome=received.outcome,
        ticket_id=received.ticket_id,
    )


# --- what the desk answers in the chat itself ------------------------------------------

WINDOW_PREFIX = "cbw:"
# "As soon as possible", as a window choice.
SOON = "now"
# The windows a player may choose for a callback, in the desk's time zone: (from, until) hour.
CALL_WINDOWS: dict[str, tuple[int, int]] = {"m": (9, 12), "a": (12, 17), "e": (17, 21)}
# A window of today is offered while at least this much of it is left.
MIN_WINDOW_LEFT = timedelta(minutes=30)
_WINDOW_CHOICE = re.compile(r"^cbw:(?P<callback>[0-9]{1,19}):(?P<choice>now|[0-9]{8}[mae])$")


async def _notify(
    runtime: Runtime,
    inbound: TelegramCommand | TelegramSharedContact | TelegramButton,
    *,
    kind: str,
    compose: Callable[[str], list[ChatMessage]],
) -> TelegramTaken:
    """Answer the chat in its player's language (compose(language) gives the messages),
    through the outbox, once per update: a retry of the update writes nothing again."""
    async with runtime.uow() as uow:
        language = await messenger_chats.chat_language(
            uow, sender=inbound.sender, policy=runtime.policies.players
        )
        answered = await messenger_chats.send_chat_notice(
            uow,
            sender=inbound.sender,
            key=f"{inbound.key}:answer",
            messages=compose(language),
            language=language,
        )
    log.info("telegram_update_taken", update_id=inbound.update_id, kind=kind, answered=answered)
    return TelegramTaken(
        update_id=inbound.update_id,
        kind=kind,
        outcome=MessengerOutcome.IGNORED if answered else MessengerOutcome.DUPLICATE,
        callback_query_id=inbound.callback_query_id
        if isinstance(inbound, TelegramButton)
        else None,
        answered=answered,
    )


def share_phone_keyboard(language: str) -> dict[str, Any]:
    """The reply keyboard whose one button shares the player's own number (request_contact:
    Telegram asks them to confirm, and sends the number of their account)."""
    _ = translations(language).gettext
    return {
        "keyboard": [[{"text": _("Share my phone number"), "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}


async def _take_command(runtime: Runtime, inbound: TelegramCommand) -> TelegramTaken:
    if inbound.command == "start" and inbound.payload:
        return await _take_deep_link(runtime, inbound)
    if inbound.command == "callback":

        def ask_for_number(language: str) -> list[ChatMessage]:
            _ = translations(language).gettext
            return [
                ChatMessage(
                    text=_(
                        "To have us call you back, share your phone number with the button "
                        "below. We use it only to call you."
                    ),
                    markup=share_phone_keyboard(language),
                )
            ]

        return await _notify(runtime, inbound, kind="command_callback", compose=ask_for_number)

    def greet(language: str) -> list[ChatMessage]:
        _ = translations(language).gettext
        return [
            ChatMessage(
                text=_(
                    "Hello! Write your question here and our support team will answer you in "
                    "this chat. To have us call you back, send /callback."
                )
            )
        ]

    # A bare /start (the player opened the bot) or /help: a greeting, never an empty ticket.
    return await _notify(runtime, inbound, kind=f"command_{inbound.command}", compose=greet)


async def _take_deep_link(runtime: Runtime, inbound: TelegramCommand) -> TelegramTaken:
    """`/start <payload>`: the player followed the casino's signed link, which names their
    casino account; this chat is linked to it (services.player_links), and they are told."""
    secret = player_links.link_secret(runtime.settings)
    linked = False
    if secret is None:
        log.warning("telegram_deep_link_without_secret", update_id=inbound.update_id)
    else:
        try:
            async with runtime.uow() as uow:
                # The chat's player first (made now if the chat never wrote), in the same
                # transaction: a casino player new to the desk starts with the name and
                # language Telegram tells, and a bad link leaves nothing behind.
                await messengers.messenger_player(
                    uow, sender=inbound.sender, policy=runtime.policies.players
                )
                result = await player_links.link_by_token(
                    uow,
                    channel=Channel.TELEGRAM,
                    address=inbound.sender.address,
                    token=inbound.payload,
                    secret=secret,
                    policy=runtime.policies.players,
                )
        except player_links.LinkTokenInvalid:
            log.info("telegram_deep_link_refused", update_id=inbound.update_id)
        else:
            linked = True
            log.info(
                "telegram_chat_linked",
                update_id=inbound.update_id,
                player_id=result.player_id,
                changed=result.changed,
            )

    def confirm(language: str) -> list[ChatMessage]:
        _ = translations(language).gettext
        if linked:
            text = _(
                "Thank you, this chat is now linked to your casino account. Write your "
                "question here and we will answer you in this chat."
            )
        else:
            text = _(
                "Sorry, this link is not valid or has expired. Please open it again from your "
                "casino account, or simply write your question here."
            )
        return [ChatMessage(text=text)]

    return await _notify(runtime, inbound, kind="deep_link", compose=confirm)


def callback_policy(runtime: Runtime) -> CallbackPolicy:
    settings = runtime.settings
    return CallbackPolicy(
        default_region=settings.phone_default_region,
        languages=list(settings.languages),
        default_language=settings.default_language,
        vip_tiers=list(settings.vip_tiers),
        limit_per_ip=settings.callback_limit_per_ip,
        limit_per_phone=settings.callback_limit_per_phone,
        limits=runtime.policies.messages,
        routing=runtime.policies.routing,
    )


async def desk_time_zone(runtime: Runtime) -> ZoneInfo:
    """The General team's calendar zone, as the help centre's callback form uses."""
    async with runtime.read_uow() as uow:
        config = await floor_config(uow)
    calendar = config.calendar_for(config.purposes.get(TeamPurpose.GENERAL))
    return time_zone_named(calendar.time_zone)


def window_choice_data(callback_id: int, choice: str) -> str:
    """A window button's callback_data (at most 34 bytes): the callback and the choice,
    checked again when pressed (the chat must own the callback)."""
    return f"{WINDOW_PREFIX}{callback_id}:{choice}"


def window_of(choice: str, *, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The window a choice names: none for "as soon as possible", else a day's window in the
    desk's zone (`20261102a`: the afternoon of 2 November 2026)."""
    if choice == SOON:
        return None, None
    day = date(int(choice[:4]), int(choice[4:6]), int(choice[6:8]))
    return _day_window(day, choice[8], zone=zone)


def _day_window(day: date, slot: str, *, zone: ZoneInfo) -> tuple[datetime, datetime]:
    starts, ends = CALL_WINDOWS[slot]
    return (
        datetime.combine(day, time(starts), tzinfo=zone),
        datetime.combine(day, time(ends), tzinfo=zone),
    )


def window_keyboard(
    callback_id: int, *, now: datetime, zone: ZoneInfo, language: str
) -> dict[str, Any]:
    """As soon as possible, what is left of today's windows, and tomorrow's."""
    _ = translations(language).gettext
    rows = [
        [{"text": _("As soon as possible"), "callback_data": window_choice_data(callback_id, SOON)}]
    ]
    today = now.astimezone(zone).date()
    for offset, label in ((0, _("Today, {start}–{end}")), (1, _("Tomorrow, {start}–{end}"))):
        day = today + timedelta(days=offset)
        for slot in CALL_WINDOWS:
            choice = f"{day:%Y%m%d}{slot}"
            starts, ends = _day_window(day, slot, zone=zone)
            if ends - now < MIN_WINDOW_LEFT:
                continue
            text = label.format(
                start=format_time(starts, "short", locale=language),
                end=format_time(ends, "short", locale=language),
            )
            rows.append([{"text": text, "callback_data": window_choice_data(callback_id, choice)}])
    return {"inline_keyboard": rows}


def promise(
    window_from: datetime | None, window_until: datetime | None, *, zone: ZoneInfo, language: str
) -> str:
    """When the call will come, in the player's language (the help centre's words)."""
    _ = translations(language).gettext
    if window_from is None or window_until is None:
        return _("We will call you as soon as one of our agents is free.")
    starts, ends = window_from.astimezone(zone), window_until.astimezone(zone)
    # Translators: {date} is e.g. "Monday, 2 November 2026", {start} and {end} times of day,
    # {zone} a time zone name such as Europe/Warsaw.
    return _("We will call you on {date} between {start} and {end} ({zone} time).").format(
        date=format_date(starts.date(), "full", locale=language),
        start=format_time(starts, "short", locale=language),
        end=format_time(ends, "short", locale=language),
        zone=zone.key,
    )


def _international(phone_number: str) -> str:
    """Telegram gives an account's number in international form, without the "+" at times."""
    number = phone_number.strip()
    return number if number.startswith("+") else "+" + number


async def _take_contact(runtime: Runtime, inbound: TelegramSharedContact) -> TelegramTaken:
    """A number shared after /callback: the player's own becomes a callback request (as soon
    as possible), and they are asked for a better time with buttons; anyone else's number is
    refused, since we call only the chat's own."""
    if not inbound.own:
        log.info("telegram_contact_refused", update_id=inbound.update_id, reason="not_own")

        def ask_again(language: str) -> list[ChatMessage]:
            _ = translations(language).gettext
            return [
                ChatMessage(
                    text=_(
                        "Please share your own phone number with the button below: we can only "
                        "call the number of this Telegram account."
                    ),
                    markup=share_phone_keyboard(language),
                )
            ]

        return await _notify(runtime, inbound, kind="contact", compose=ask_again)
    async with runtime.read_uow() as uow:
        language = await messenger_chats.chat_language(
            uow, sender=inbound.sender, policy=runtime.policies.players
        )
    requested: messenger_chats.RequestedCallback | None = None
    refusal: str | None = None
    _ = translations(language).gettext
    try:
        async with runtime.uow() as uow:
            requested = await messenger_chats.request_messenger_callback(
                uow,
                sender=inbound.sender,
                phone=_international(inbound.phone_number),
                source=CallbackSource.TELEGRAM,
                language=language,
                policy=callback_policy(runtime),
                player_policy=runtime.policies.players,
            )
    except TooManyAttempts as refused:
        wait = format_timedelta(
            timedelta(seconds=refused.retry_after_seconds), locale=language, threshold=2
        )
        refusal = _(
            "You have asked for several calls in a short time. Please try again in {duration}."
        ).format(duration=wait)
    except ValidationFailed as invalid:
        log.info("telegram_contact_refused", update_id=inbound.update_id, reason=invalid.detail)
        refusal = _("Sorry, we cannot call this number. Please write your question here instead.")
    if requested is None:
        text = refusal or ""
        return await _notify(
            runtime,
            inbound,
            kind="contact",
            compose=lambda _language: [ChatMessage(text=text, markup=REMOVE_KEYBOARD)],
        )
    log.info(
        "telegram_callback_requested",
        update_id=inbound.update_id,
        callback_id=requested.callback_id,
        own=requested.own,
    )
    zone = await desk_time_zone(runtime)
    now = runtime.clock.now()
    callback_id, phone, own = requested.callback_id, requested.phone, requested.own

    def confirm(language: str) -> list[ChatMessage]:
        _ = translations(language).gettext
        if not own:
            # The number was waiting for a call already (a missed call, the help centre).
            return [
                ChatMessage(
                    text=_(
                        "Thank you. We already have a request to call {phone}; one of our "
                        "agents will call you."
                    ).format(phone=phone),
                    markup=REMOVE_KEYBOARD,
                )
            ]
        return [
            ChatMessage(
                text=_(
                    "Thank you. We will call you at {phone} as soon as one of our agents is free."
                ).format(phone=phone),
                markup=REMOVE_KEYBOARD,
            ),
            ChatMessage(
                text=_(
                    "If another time suits you better, choose it below (times in {zone} time)."
                ).format(zone=zone.key),
                markup=window_keyboard(callback_id, now=now, zone=zone, language=language),
            ),
        ]

    return await _notify(runtime, inbound, kind="contact", compose=confirm)


async def _take_window_choice(runtime: Runtime, inbound: TelegramButton) -> TelegramTaken:
    """A time window pressed under our question: the chat's own callback gets it."""
    found = _WINDOW_CHOICE.match(inbound.data)
    zone = await desk_time_zone(runtime)
    window: tuple[datetime | None, datetime | None] | None = None
    problem: str | None = None
    if found is not None:
        try:
            window = window_of(found["choice"], zone=zone)
        except (ValueError, KeyError):
            window = None
    if found is None or window is None:
        problem = "finished"
    else:
        try:
            async with runtime.uow() as uow:
                await messenger_chats.choose_messenger_callback_window(
                    uow,
                    sender=inbound.sender,
                    callback_id=int(found["callback"]),
                    window_from=window[0],
                    window_until=window[1],
                )
        except NotFound:
            problem = "finished"
        except ValidationFailed as invalid:
            problem = "finished" if invalid.field == "callback_id" else "passed"
    log.info(
        "telegram_callback_window",
        update_id=inbound.update_id,
        chosen=problem is None,
        problem=problem,
    )

    def answer(language: str) -> list[ChatMessage]:
        _ = translations(language).gettext
        if problem == "passed":
            return [ChatMessage(text=_("That time has already passed. Please choose another."))]
        if problem is not None or window is None:
            return [
                ChatMessage(
                    text=_(
                        "This callback request is no longer open. Send /callback to ask for a "
                        "new one."
                    )
                )
            ]
        return [ChatMessage(text=promise(window[0], window[1], zone=zone, language=language))]

    return await _notify(runtime, inbound, kind="callback_window", compose=answer)


# --- the Bot API -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TelegramApi:
    base_url: str
    token: str
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramApi | None:
        if not settings.telegram_bot_token:
            return None
        return cls(
            base_url=settings.telegram_api_base.rstrip("/"), token=settings.telegram_bot_token
        )

    def url(self, method: str) -> str:
        return f"{self.base_url}/bot{self.token}/{method}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False)


class TelegramRefused(Exception):
    """The Bot API answered a call with an error (its `error_code` and `description`)."""

    def __init__(self, *, status: int, description: str, retry_after: int | None) -> None:
        super().__init__(f"Telegram {status}: {description}"[:500])
        self.status = status
        self.description = description
        self.retry_after = retry_after


async def call_api(
    api: TelegramApi,
    client: httpx.AsyncClient,
    *,
    method: str,
    body: dict[str, Any],
    upload: tuple[str, UploadedFile] | None = None,
) -> Any:
    """One Bot API call; its `result`. With `upload` (the field and the file) the call is a
    multipart form. Raises TelegramRefused, or httpx.HTTPError when Telegram could not be
    reached."""
    if upload is None:
        response = await client.post(api.url(method), json=body)
    else:
        field, file = upload
        response = await client.post(
            api.url(method),
            data={key: str(value) for key, value in body.items()},
            files={field: (file.filename, file.data, file.content_type)},
        )
    return _result(response)


def _result(response: httpx.Response) -> Any:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict) and answer.get("ok") is True:
        return answer.get("result")
    details = answer if isinstance(answer, dict) else {}
    parameters = details.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    raise TelegramRefused(
        status=response.status_code,
        description=str(details.get("description") or response.reason_phrase or "no answer"),
        retry_after=retry_after if isinstance(retry_after, int) else None,
    )


# The update kinds PlayerDesk takes: the webhook's setWebhook and getUpdates ask for these.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
# A long poll's HTTP call may take this much longer than the poll's own timeout.
POLL_GRACE_SECONDS = 10.0


async def get_updates(
    api: TelegramApi, *, offset: int | None, timeout_seconds: int
) -> list[dict[str, Any]]:
    """One long poll: the updates from `offset` on (confirming those before it to Telegram),
    waiting up to `timeout_seconds` for one to come. Raises TelegramRefused (409 while a
    webhook is set or another process polls) or httpx.HTTPError."""
    body: dict[str, Any] = {"timeout": timeout_seconds, "allowed_updates": list(ALLOWED_UPDATES)}
    if offset is not None:
        body["offset"] = offset
    async with httpx.AsyncClient(
        timeout=timeout_seconds + POLL_GRACE_SECONDS, follow_redirects=False
    ) as client:
        result = await call_api(api, client, method="getUpdates", body=body)
    if not isinstance(result, list):
        raise TelegramRefused(status=200, description="getUpdates gave no list", retry_after=None)
    return [update for update in result if isinstance(update, dict)]


async def download_file(api: TelegramApi, *, file_id: str, max_bytes: int) -> bytes:
    """A file a player sent: `getFile` for its path, then its bytes, read no further than
    `max_bytes`. Raises FileTooLarge, TelegramRefused or httpx.HTTPError."""
    async with api.client() as client:
        try:
            found = _result(await client.get(api.url("getFile"), params={"file_id": file_id}))
        except TelegramRefused as error:
            # The Bot API serves files of up to 20 MB; a larger one is refused this way.
            if "too big" in error.description.lower():
                raise FileTooLarge(max_bytes + 1) from None
            raise
        if not isinstance(found, dict) or not isinstance(found.get("file_path"), str):
            raise TelegramRefused(
                status=200, description="getFile gave no file_path", retry_after=None
            )
        size = found.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise FileTooLarge(size)
        url = f"{api.base_url}/file/bot{api.token}/{found['file_path']}"
        chunks: list[bytes] = []
        read = 0
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise TelegramRefused(
                    status=response.status_code,
                    description="the file could not be downloaded",
                    retry_after=None,
                )
            async for chunk in response.aiter_bytes():
                read += len(chunk)
                if read > max_bytes:
                    raise FileTooLarge(read)
                chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, kw_only=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


def _units(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, *, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Telegram-sized parts of a long text, cut at a paragraph, line or word boundary where
    one is in the second half of the part (else hard at the limit), in order."""
    parts: list[str] = []
    rest = text.strip()
    while _units(rest) > limit:
        cut = _fitting_prefix(rest, limit)
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            found = window.rfind(separator)
            if found > cut // 2:
                cut = found
                break
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def inline_keyboard(quick_replies: list[dict[str, str]]) -> dict[str, Any] | None:
    """The bot's quick replies as one button per row (labels are sentences, not digits)."""
    rows = [
        [{"text": item["label"], "callback_data": item["id"]}]
        for item in quick_replies
        if item.get("label") and 0 < len(item.get("id", "").encode()) <= MAX_CALLBACK_DATA_BYTES
    ]
    return {"inline_keyboard": rows} if rows else None


def _chat_id(recipient: str) -> int | str:
    return int(recipient) if recipient.lstrip("-").isdigit() else recipient


def _failure(error: TelegramRefused) -> DeliveryFailed:
    if error.status >= 500 or error.status in TEMPORARY_CLIENT_ERRORS:
        return DeliveryFailed(str(error), permanent=False)
    described = error.description.lower()
    # Blocked by the player, their account deleted, or a chat we cannot reach: replies to
    # it will not arrive until they write again; the console warns the agent.
    bad_address = error.status == 403 or "chat not found" in described
    return DeliveryFailed(str(error), permanent=True, bad_address=bad_address)


Sender = Callable[[Delivery], Awaitable[str | None]]


def telegram_sender(api: TelegramApi, *, store: AttachmentStore) -> Sender:
    """The outbox's sender for Telegram rows (services.outbound.send_messenger_reply): the
    text with `sendMessage`, then each attached file, read from the store now, with
    `sendDocument`."""

    async def send(delivery: Delivery) -> str | None:
        payload = delivery.payload
        if "messages" in payload:
            return await _send_notice(api, delivery)
        parts = split_text(str(payload.get("text") or ""))
        attached = list(payload.get("attachments") or [])
        if not parts and not attached:
            raise DeliveryFailed("nothing to send: the reply has no text", permanent=True)
        uploads: list[UploadedFile] = []
        for item in attached:
            try:
                data = await store.get(item["sha256"])
            except (FileNotFoundError, ValueError) as error:
                raise DeliveryFailed(
                    f"attachment {item['filename']} is missing from the store", permanent=True
                ) from error
            uploads.append(
                UploadedFile(
                    filename=item["filename"], content_type=item["content_type"], data=data
                )
            )
        keyboard = inline_keyboard(list(payload.get("quick_replies") or []))
        chat_id = _chat_id(delivery.recipient)
        sent: list[str] = []
        async with api.client() as client:
            for index, part in enumerate(parts):
                body: dict[str, Any] = {"chat_id": chat_id, "text": part}
                if keyboard is not None and index == len(parts) - 1:
                    # Under the last part, where the player reads to the end.
                    body["reply_markup"] = keyboard
                result = await _sending(api, client, method="sendMessage", body=body)
                if isinstance(result, dict) and "message_id" in result:
                    sent.append(str(result["message_id"]))
            for upload in uploads:
                result = await _sending(
                    api,
                    client,
                    method="sendDocument",
                    body={"chat_id": chat_id},
                    upload=("document", upload),
                )
                if isinstance(result, dict) and "message_id" in result:
                    sent.append(str(result["message_id"]))
        return ",".join(sent)[:500] or None

    return send


async def _send_notice(api: TelegramApi, delivery: Delivery) -> str | None:
    """The desk's own answer in a chat (services.messenger_chats.send_chat_notice): its
    messages in order, each with its keyboard (or the removal of one)."""
    chat_id = _chat_id(delivery.recipient)
    sent: list[str] = []
    async with api.client() as client:
        for message in delivery.payload["messages"]:
            parts = split_text(str(message.get("text") or ""))
            for index, part in enumerate(parts):
                body: dict[str, Any] = {"chat_id": chat_id, "text": part}
                if message.get("markup") and index == len(parts) - 1:
                    body["reply_markup"] = message["markup"]
                result = await _sending(api, client, method="sendMessage", body=body)
                if isinstance(result, dict) and "message_id" in result:
                    sent.append(str(result["message_id"]))
    if not sent and not delivery.payload["messages"]:
        raise DeliveryFailed("nothing to send: the notice has no text", permanent=True)
    return ",".join(sent)[:500] or None


async def _sending(
    api: TelegramApi,
    client: httpx.AsyncClient,
    *,
    method: str,
    body: dict[str, Any],
    upload: tuple[str, UploadedFile] | None = None,
) -> Any:
    """One call of a delivery; its failure as the outbox records it."""
    try:
        return await call_api(api, client, method=method, body=body, upload=upload)
    except TelegramRefused as error:
        raise _failure(error) from None
    except httpx.HTTPError as error:
        # Its text may carry the URL, and so the token: only its kind is kept.
        raise DeliveryFailed(
            f"Telegram unreachable ({type(error).__name__})", permanent=False
        ) from None


async def answer_button(api: TelegramApi, *, callback_query_id: str) -> None:
    """Stop the pressed button's spinner. Best effort: the press is already in the desk."""
    try:
        async with api.client() as client:
            await call_api(
                api,
                client,
                method="answerCallbackQuery",
                body={"callback_query_id": callback_query_id},
            )
    except (TelegramRefused, httpx.HTTPError) as error:
        reason = str(error) if isinstance(error, TelegramRefused) else type(error).__name__
        log.warning("telegram_callback_answer_failed", error=reason)
