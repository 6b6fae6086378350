"""Telegram Bot API: webhook updates into the desk, replies out through the outbox.

Inbound, an update is parsed strictly (the fields we use must have their documented
types; fields we do not use are ignored, since Telegram adds new ones) into a text
message, a photo or document (downloaded with `getFile` into the attachment store), a
pressed quick-reply button or something we acknowledge and ignore. Outbound, the outbox's
sender calls `sendMessage`, with the bot's quick replies as an inline keyboard whose
`callback_data` is the quick reply's id, and `sendDocument` for each attached file.

The bot token is part of every API URL: neither URLs nor httpx's errors are logged or kept
as delivery errors.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.domain.enums import Channel
from playerdesk.runtime import Runtime
from playerdesk.services import messengers
from playerdesk.services.messengers import (
    MessengerFile,
    MessengerFiles,
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


class TelegramMessage(_Shape):
    message_id: int
    sender: TelegramUser | None = Field(default=None, alias="from")
    chat: TelegramChat
    date: int
    text: str | None = None
    # The same photo in several sizes, smallest first.
    photo: list[TelegramPhotoSize] | None = None
    document: TelegramDocument | None = None
    caption: str | None = None


class TelegramCallbackQuery(_Shape):
    id: str
    sender: TelegramUser = Field(alias="from")
    # Absent when the message with the button is too old for Telegram to tell us about.
    message: TelegramMessage | None = None
    data: str | None = None


class TelegramUpdate(_Shape):
    update_id: int
    message: TelegramMessage | None = None
    callback_query: TelegramCallbackQuery | None = None


class MalformedUpdate(Exception):
    """Not an update we can read; `update_id` when the body had one (for the log)."""

    def __init__(self, reason: str, *, update_id: int | None) -> None:
        super().__init__(reason)
        self.update_id = update_id


@dataclass(frozen=True, kw_only=True)
class TelegramText:
    update_id: int
    chat_id: int
    message_id: int
    text: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"telegram:{self.chat_id}:{self.message_id}"


@dataclass(frozen=True, kw_only=True)
class TelegramFile:
    """A photo or document, with its caption; `file_size` as Telegram tells it, if it does."""

    update_id: int
    chat_id: int
    message_id: int
    file_id: str
    filename: str
    file_size: int | None
    caption: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"telegram:{self.chat_id}:{self.message_id}"


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
class TelegramIgnored:
    update_id: int
    kind: str
    # A button press we do not take is still answered, or its spinner keeps turning.
    callback_query_id: str | None = None


TelegramInbound = TelegramText | TelegramFile | TelegramButton | TelegramIgnored


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
        sent_file = _file_of(
            update.update_id, message, sender=_sender(message.sender, message.chat)
        )
        if sent_file is not None:
            return sent_file
        if message.text is None or not message.text.strip():
            # Stickers, voice, locations: not taken yet (docs/CHANNELS.md).
            return TelegramIgnored(update_id=update.update_id, kind="message_without_text")
        return TelegramText(
            update_id=update.update_id,
            chat_id=message.chat.id,
            message_id=message.message_id,
            text=message.text,
            sender=_sender(message.sender, message.chat),
        )
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
    # edited_message, my_chat_member, channel_post...: acknowledged, or Telegram retries.
    kinds = _update_kinds(raw)
    return TelegramIgnored(update_id=update.update_id, kind=kinds or "unknown")


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
    policy = runtime.policies.attachments
    files: list[MessengerFile] = []
    refused: list[str] = []
    api = TelegramApi.from_settings(runtime.settings)
    if inbound.file_size is not None and inbound.file_size > policy.max_bytes:
        refused.append(
            messengers.refused_too_large(
                filename=inbound.filename, size=inbound.file_size, policy=policy
            )
        )
    elif api is None:
        refused.append(messengers.refused_unreachable(filename=inbound.filename))
    else:
        try:
            data = await download_file(api, file_id=inbound.file_id, max_bytes=policy.max_bytes)
        except FileTooLarge as error:
            refused.append(
                messengers.refused_too_large(
                    filename=inbound.filename,
                    size=inbound.file_size or error.size,
                    policy=policy,
                )
            )
        except (TelegramRefused, httpx.HTTPError) as error:
            reason = str(error) if isinstance(error, TelegramRefused) else type(error).__name__
            log.warning("telegram_file_download_failed", update_id=inbound.update_id, error=reason)
            refused.append(messengers.refused_unreachable(filename=inbound.filename))
        else:
            files.append(MessengerFile(filename=inbound.filename, data=data))
    if refused:
        log.info("telegram_file_refused", update_id=inbound.update_id, note=refused[0])
    async with runtime.uow() as uow:
        received = await messengers.receive_messenger_message(
            uow,
            sender=inbound.sender,
            body=inbound.caption,
            provider_message_key=inbound.key,
            policies=messenger_policies(runtime),
            files=MessengerFiles(
                files=files, refused=refused, store=runtime.attachments, policy=policy
            ),
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


class FileTooLarge(Exception):
    """The file is over the attachment size limit (`size`: its size, or how much was read
    before we stopped)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file of {size} bytes is over the limit")
        self.size = size


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
