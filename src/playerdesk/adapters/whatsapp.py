"""WhatsApp Cloud API: webhook notifications into the desk, replies out through the outbox.

Inbound, a notification (`object: whatsapp_business_account`) is parsed strictly: the
fields we use must have their documented types; fields we do not use are ignored, since
Meta adds new ones. One notification may carry several messages and delivery statuses.
A text message, a pressed reply button, or an image or document (downloaded into the
attachment store: `GET /{media-id}` for its URL, then the file with the access token) goes
to the desk. What the desk cannot show (voice, video, stickers, locations, contacts) arrives
as a note for the agent, so nothing the player sent disappears. A `failed` status
dead-letters our outbox row with Meta's error so the agent sees it under the reply.

Outbound, the outbox's sender calls `POST /{phone-number-id}/messages`: plain text, an
interactive message with up to three reply buttons for the bot's quick replies, or an
approved template (outside the 24-hour window). The returned `wamid` is kept as the row's
provider id, which is how a later status finds it. The business account's templates are
listed with `GET /{waba-id}/message_templates` and kept for a minute.

The access token travels in a header only; httpx's errors are not kept (their text may
carry request details), only their kind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.telegram import messenger_policies, split_text
from playerdesk.clock import Clock
from playerdesk.domain.enums import Channel
from playerdesk.runtime import Runtime
from playerdesk.services import messengers, outbound
from playerdesk.services.messengers import (
    FileTooLarge,
    MessengerOutcome,
    MessengerReceived,
    MessengerSender,
)
from playerdesk.services.outbound import Delivery
from playerdesk.services.whatsapp_templates import CatalogUnavailable, WhatsAppTemplate
from playerdesk.settings import Settings

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
# A text message's body is at most 4096 characters; an interactive message's body 1024.
MAX_TEXT_CHARS = 4096
MAX_INTERACTIVE_BODY_CHARS = 1024
# Reply buttons: at most three, each title at most 20 characters, each id at most 256.
MAX_BUTTONS = 3
MAX_BUTTON_TITLE_CHARS = 20
MAX_BUTTON_ID_CHARS = 256
# Graph API error codes that end once something outside the message changes (the rate,
# the service): retried. 131047 (outside the 24-hour window) and 131026 (not a WhatsApp
# number, or an old app) do not end by waiting.
TEMPORARY_ERROR_CODES = frozenset({4, 80007, 130429, 131016, 131048, 131056, 133004})
UNDELIVERABLE_ERROR_CODE = 131026
REQUEST_TIMEOUT_SECONDS = 15.0
# Media ids are numeric strings; anything else is not put into a URL path.
_MEDIA_ID = re.compile(r"[0-9A-Za-z_-]{1,100}")
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
# The business account's templates change rarely (Meta reviews each one): listed again
# after a minute, so a newly approved or paused one shows soon enough.
TEMPLATE_CACHE_TTL = timedelta(seconds=60)
TEMPLATE_PAGE_SIZE = 100
MAX_TEMPLATE_PAGES = 20


# --- inbound -------------------------------------------------------------------------


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class WhatsAppText(_Shape):
    body: str


class WhatsAppButtonReply(_Shape):
    id: str
    title: str


class WhatsAppInteractive(_Shape):
    type: str
    button_reply: WhatsAppButtonReply | None = None


class WhatsAppMedia(_Shape):
    """An image, document, audio, video or sticker: the file is fetched by its id."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    # Documents only: the name the player's file had.
    filename: str | None = None
    # Audio only: recorded in WhatsApp (a voice message) rather than a file sent.
    voice: bool | None = None


class WhatsAppLocation(_Shape):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class WhatsAppTemplateButton(_Shape):
    """A quick-reply button of a template we sent, pressed: its label and payload."""

    text: str
    payload: str | None = None


class WhatsAppMessage(_Shape):
    # The player's WhatsApp id (their number without "+"): where replies go.
    sender: str
    id: str
    timestamp: str
    type: str
    text: WhatsAppText | None = None
    interactive: WhatsAppInteractive | None = None
    image: WhatsAppMedia | None = None
    document: WhatsAppMedia | None = None
    audio: WhatsAppMedia | None = None
    video: WhatsAppMedia | None = None
    sticker: WhatsAppMedia | None = None
    location: WhatsAppLocation | None = None
    # Contact cards: only their names and numbers are read, each leniently.
    contacts: list[dict[str, Any]] | None = None
    button: WhatsAppTemplateButton | None = None


class WhatsAppProfile(_Shape):
    name: str | None = None


class WhatsAppContact(_Shape):
    wa_id: str
    profile: WhatsAppProfile | None = None


class WhatsAppError(_Shape):
    code: int
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None


class WhatsAppStatus(_Shape):
    id: str
    status: str
    timestamp: str
    recipient_id: str | None = None
    errors: list[WhatsAppError] = []


class WhatsAppMetadata(_Shape):
    phone_number_id: str
    display_phone_number: str | None = None


class WhatsAppValue(_Shape):
    messaging_product: Literal["whatsapp"] | None = None
    metadata: WhatsAppMetadata | None = None
    contacts: list[WhatsAppContact] = []
    messages: list[dict[str, Any]] = []
    statuses: list[WhatsAppStatus] = []


class WhatsAppChange(_Shape):
    field: str
    value: dict[str, Any]


class WhatsAppEntry(_Shape):
    id: str
    changes: list[WhatsAppChange]


class WhatsAppNotification(_Shape):
    object: str
    entry: list[WhatsAppEntry]


class MalformedNotification(Exception):
    """Not a notification we can read; the ids found in the body (for the log)."""

    def __init__(self, reason: str, *, entry_ids: list[str], message_ids: list[str]) -> None:
        super().__init__(reason)
        self.entry_ids = entry_ids
        self.message_ids = message_ids


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    """Something a player sent: its WhatsApp message id names it for good."""

    message_id: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"whatsapp:{self.message_id}"


@dataclass(frozen=True, kw_only=True)
class InboundText(InboundMessage):
    """Text for the desk: what the player wrote, or a note standing in for what the desk
    cannot show (a voice message, a location...); `kind` is WhatsApp's type, for the log."""

    text: str
    kind: str = "text"


@dataclass(frozen=True, kw_only=True)
class InboundButton(InboundMessage):
    button_id: str


@dataclass(frozen=True, kw_only=True)
class InboundMedia(InboundMessage):
    """An image or a document, to download into the attachment store, with its caption."""

    kind: Literal["image", "document"]
    media_id: str
    filename: str
    caption: str


@dataclass(frozen=True, kw_only=True)
class InboundIgnored:
    message_id: str | None
    kind: str


@dataclass(frozen=True, kw_only=True)
class InboundStatus:
    """What became of a message we sent: sent, delivered, read or failed (with why)."""

    provider_message_id: str
    status: str
    error: str | None


WhatsAppInbound = InboundText | InboundButton | InboundMedia | InboundIgnored | InboundStatus


def _ids_of(raw: bytes) -> tuple[list[str], list[str]]:
    """Entry and message ids of a body we could not read, as far as they can be found."""
    try:
        body = json.loads(raw)
    except ValueError:
        return [], []
    entry_ids: list[str] = []
    message_ids: list[str] = []
    entries = body.get("entry") if isinstance(body, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("id"), str):
            entry_ids.append(entry["id"])
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            found = value.get("messages") if isinstance(value, dict) else None
            for message in found if isinstance(found, list) else []:
                if isinstance(message, dict) and isinstance(message.get("id"), str):
                    message_ids.append(message["id"])
    return entry_ids[:20], message_ids[:20]


def _malformed(reason: str, raw: bytes) -> MalformedNotification:
    entry_ids, message_ids = _ids_of(raw)
    return MalformedNotification(reason, entry_ids=entry_ids, message_ids=message_ids)


def _fields(error: ValidationError, prefix: str = "") -> str:
    return ", ".join(
        prefix + ".".join(str(part) for part in item["loc"]) for item in error.errors()
    )


def _status_error(status: WhatsAppStatus) -> str | None:
    if not status.errors:
        return None
    first = status.errors[0]
    details = (first.error_data or {}).get("details")
    text = first.title or first.message or "error"
    if isinstance(details, str) and details and details != text:
        text = f"{text}: {details}"
    return f"WhatsApp {first.code}: {text}"[:2000]


def _media_filename(kind: str, media: WhatsAppMedia) -> str:
    """The player's file name for a document; a made-up one (with the extension its type
    suggests) for an image, which WhatsApp sends without a name."""
    if kind == "document" and media.filename and media.filename.strip():
        return media.filename.strip()
    extension = _EXTENSIONS.get((media.mime_type or "").split(";")[0].strip().lower(), "")
    return f"{kind}-{media.id}{extension}"


def _with_caption(note: str, caption: str | None) -> str:
    return "\n\n".join(part for part in (note, (caption or "").strip()) if part)


def _location_note(location: WhatsAppLocation) -> str:
    place = ", ".join(
        part.strip() for part in (location.name, location.address) if part and part.strip()
    )
    where = f"{location.latitude:.6f}, {location.longitude:.6f}"
    return f"[a location: {place} ({where})]" if place else f"[a location: {where}]"


def _contact_line(contact: dict[str, Any]) -> str:
    name = contact.get("name")
    formatted = name.get("formatted_name") if isinstance(name, dict) else None
    phones = contact.get("phones")
    numbers = [
        str(phone["phone"])
        for phone in (phones if isinstance(phones, list) else [])
        if isinstance(phone, dict) and isinstance(phone.get("phone"), str)
    ]
    label = formatted if isinstance(formatted, str) and formatted.strip() else "no name"
    return f"{label.strip()} ({', '.join(numbers)})" if numbers else label.strip()


def _note_for(message: WhatsAppMessage) -> str | None:
    """A note for the agent standing in for what the desk does not take as a file or text:
    the player's message is kept, and the agent knows what to ask for."""
    if message.type == "audio" and message.audio is not None:
        what = "a voice message" if message.audio.voice else "an audio file"
        return f"[{what}, which the desk cannot play: ask the player to write it instead]"
    if message.type == "video" and message.video is not None:
        return _with_caption(
            "[a video, which the desk does not take: ask the player for a screenshot or to "
            "describe it]",
            message.video.caption,
        )
    if message.type == "sticker" and message.sticker is not None:
        return "[a sticker]"
    if message.type == "location" and message.location is not None:
        return _location_note(message.location)
    if message.type == "contacts" and message.contacts:
        lines = "; ".join(_contact_line(item) for item in message.contacts[:10])
        return f"[a contact card: {lines}]"
    if message.type == "unsupported":
        return (
            "[a message of a kind WhatsApp does not pass on to the desk: ask the player to "
            "send it another way]"
        )
    return None


def _message(raw: dict[str, Any], *, names: dict[str, str | None]) -> WhatsAppInbound:
    # "from" is a Python keyword: renamed before validation instead of an alias, so the
    # strict model keeps one name for the field.
    data = dict(raw)
    if "from" in data:
        data["sender"] = data.pop("from")
    message = WhatsAppMessage.model_validate(data)
    sender = MessengerSender(
        channel=Channel.WHATSAPP,
        address=message.sender,
        name=names.get(message.sender),
        # WhatsApp does not tell the app's language: the bot detects it from the text.
        language_tag=None,
    )
    if message.type == "text" and message.text is not None and message.text.body.strip():
        return InboundText(message_id=message.id, sender=sender, text=message.text.body)
    if (
        message.type == "interactive"
        and message.interactive is not None
        and message.interactive.type == "button_reply"
        and message.interactive.button_reply is not None
    ):
        return InboundButton(
            message_id=message.id, sender=sender, button_id=message.interactive.button_reply.id
        )
    if message.type in ("image", "document"):
        media = message.image if message.type == "image" else message.document
        if media is not None:
            return InboundMedia(
                message_id=message.id,
                sender=sender,
                kind="image" if message.type == "image" else "document",
                media_id=media.id,
                filename=_media_filename(message.type, media),
                caption=(media.caption or "").strip(),
            )
    if message.type == "button" and message.button is not None and message.button.text.strip():
        # A quick reply of a template we sent: the player said its label.
        return InboundText(
            message_id=message.id, sender=sender, text=message.button.text, kind="button"
        )
    note = _note_for(message)
    if note is not None:
        return InboundText(message_id=message.id, sender=sender, text=note, kind=message.type[:60])
    # reactions, orders, system messages...: nothing for the agent to answer.
    return InboundIgnored(message_id=message.id, kind=f"message_{message.type}"[:60])


def parse_notification(raw: bytes, *, phone_number_id: str | None = None) -> list[WhatsAppInbound]:
    """What a notification asks of us, message by message and status by status. Raises
    MalformedNotification for a body that is not a notification. With `phone_number_id`,
    changes for another number of the same business account are ignored."""
    try:
        notification = WhatsAppNotification.model_validate_json(raw)
    except ValidationError as error:
        reason = f"not a WhatsApp notification ({_fields(error) or 'not JSON'})"
        raise _malformed(reason, raw) from None
    if notification.object != "whatsapp_business_account":
        return [InboundIgnored(message_id=None, kind=f"object_{notification.object}"[:60])]
    found: list[WhatsAppInbound] = []
    for entry in notification.entry:
        for change in entry.changes:
            if change.field != "messages":
                found.append(InboundIgnored(message_id=None, kind=f"field_{change.field}"[:60]))
                continue
            try:
                value = WhatsAppValue.model_validate(change.value)
                names = {
                    contact.wa_id: contact.profile.name if contact.profile else None
                    for contact in value.contacts
                }
                if (
                    phone_number_id
                    and value.metadata is not None
                    and value.metadata.phone_number_id != phone_number_id
                ):
                    found.append(InboundIgnored(message_id=None, kind="other_phone_number"))
                    continue
                found.extend(_message(item, names=names) for item in value.messages)
            except ValidationError as error:
                raise _malformed(
                    f"not a WhatsApp notification ({_fields(error, 'value.')})", raw
                ) from None
            found.extend(
                InboundStatus(
                    provider_message_id=status.id,
                    status=status.status,
                    error=_status_error(status),
                )
                for status in value.statuses
            )
    return found


def signature_check(settings: Settings, *, raw: bytes, presented: str | None) -> int | None:
    """None when the body carries Meta's signature with our app secret (constant-time
    compare); else the HTTP status to refuse it with: 401 without a signature, 403 with a
    wrong one or with no app secret configured."""
    if not presented:
        return 401
    secret = settings.whatsapp_app_secret
    if not secret:
        return 403
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected.encode(), presented.strip().encode()) else 403


def verification_answer(
    settings: Settings, *, mode: str | None, token: str | None, challenge: str | None
) -> str | None:
    """The challenge to echo when Meta's verification GET carries our verify token."""
    expected = settings.whatsapp_verify_token
    if not expected or mode != "subscribe" or token is None or challenge is None:
        return None
    return challenge if hmac.compare_digest(expected.encode(), token.encode()) else None


@dataclass(frozen=True, kw_only=True)
class WhatsAppTaken:
    outcomes: list[str]
    ticket_ids: list[int]


async def _take_one(runtime: Runtime, inbound: WhatsAppInbound) -> tuple[str, int | None]:
    if isinstance(inbound, InboundIgnored):
        log.info("whatsapp_message_ignored", message_id=inbound.message_id, kind=inbound.kind)
        return MessengerOutcome.IGNORED.value, None
    if isinstance(inbound, InboundStatus):
        async with runtime.uow() as uow:
            recorded = await outbound.record_provider_status(
                uow,
                channel=Channel.WHATSAPP.value,
                provider_message_id=inbound.provider_message_id,
                status=inbound.status,
                error=inbound.error,
            )
        return f"status_{recorded}", None
    if isinstance(inbound, InboundMedia):
        return await _take_media(runtime, inbound)
    received: MessengerReceived
    async with runtime.uow() as uow:
        if isinstance(inbound, InboundText):
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
                button_id=inbound.button_id,
                provider_message_key=inbound.key,
                policies=messenger_policies(runtime),
            )
    log.info(
        "whatsapp_message_taken",
        message_id=inbound.message_id,
        kind=inbound.kind if isinstance(inbound, InboundText) else "button_reply",
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return received.outcome.value, received.ticket_id


async def _take_media(runtime: Runtime, inbound: InboundMedia) -> tuple[str, int | None]:
    """Download the file (once: a retried notification is recognised before), then take
    the message with it; a file the rules refuse, or that cannot be downloaded, becomes a
    note in the player's message so the agent can ask for it another way."""
    async with runtime.uow() as uow:
        if await messengers.seen_before(
            uow, sender=inbound.sender, provider_message_key=inbound.key
        ):
            return MessengerOutcome.DUPLICATE.value, None
    api = WhatsAppApi.from_settings(runtime.settings)

    async def download(max_bytes: int) -> bytes:
        assert api is not None
        return await download_media(api, media_id=inbound.media_id, max_bytes=max_bytes)

    files = await messengers.downloaded_file(
        filename=inbound.filename,
        declared_size=None,
        download=download if api is not None else None,
        explained=(WhatsAppRefused,),
        unexplained=(httpx.HTTPError,),
        store=runtime.attachments,
        policy=runtime.policies.attachments,
        log_event="whatsapp_media",
        log_context={"message_id": inbound.message_id},
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
        "whatsapp_message_taken",
        message_id=inbound.message_id,
        kind=inbound.kind,
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return received.outcome.value, received.ticket_id


async def take_notification(runtime: Runtime, *, raw: bytes) -> WhatsAppTaken:
    """Parse one webhook body and hand each of its messages and statuses to the desk, each
    in its own transaction (a retry of the whole body finds the taken ones as duplicates).
    Raises MalformedNotification before anything is taken."""
    found = parse_notification(raw, phone_number_id=runtime.settings.whatsapp_phone_number_id)
    outcomes: list[str] = []
    ticket_ids: list[int] = []
    for inbound in found:
        outcome, ticket_id = await _take_one(runtime, inbound)
        outcomes.append(outcome)
        if ticket_id is not None:
            ticket_ids.append(ticket_id)
    return WhatsAppTaken(outcomes=outcomes, ticket_ids=ticket_ids)


# --- the Graph API ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WhatsAppApi:
    base_url: str
    access_token: str
    phone_number_id: str
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppApi | None:
        if not settings.whatsapp_access_token or not settings.whatsapp_phone_number_id:
            return None
        return cls(
            base_url=settings.whatsapp_api_base.rstrip("/"),
            access_token=settings.whatsapp_access_token,
            phone_number_id=settings.whatsapp_phone_number_id,
        )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.phone_number_id}/messages"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout_seconds,
            follow_redirects=False,
            headers={"Authorization": f"Bearer {self.access_token}"},
        )


class WhatsAppRefused(Exception):
    """The Graph API answered with an error (its HTTP status, `error.code` and message)."""

    def __init__(self, *, status: int, code: int | None, description: str) -> None:
        super().__init__(f"WhatsApp {status}/{code}: {description}"[:500])
        self.status = status
        self.code = code
        self.description = description


def _answer(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refusal(response: httpx.Response, answer: Any) -> WhatsAppRefused:
    """The Graph API's error answer, as its HTTP status, `error.code` and message."""
    error = answer.get("error") if isinstance(answer, dict) else None
    details = error if isinstance(error, dict) else {}
    code = details.get("code")
    data = details.get("error_data")
    described = str(details.get("message") or response.reason_phrase or "no answer")
    if isinstance(data, dict) and isinstance(data.get("details"), str):
        described = f"{described} ({data['details']})"
    return WhatsAppRefused(
        status=response.status_code,
        code=code if isinstance(code, int) else None,
        description=described,
    )


async def post_message(
    api: WhatsAppApi, client: httpx.AsyncClient, *, body: dict[str, Any]
) -> str | None:
    """One message sent; its `wamid`. Raises WhatsAppRefused, or httpx.HTTPError when the
    Graph API could not be reached."""
    response = await client.post(api.messages_url, json=body)
    answer = _answer(response)
    if response.status_code == 200 and isinstance(answer, dict):
        sent = answer.get("messages")
        if isinstance(sent, list) and sent and isinstance(sent[0], dict):
            wamid = sent[0].get("id")
            return str(wamid) if wamid else None
        return None
    raise _refusal(response, answer)


def _declared_size(value: object) -> int | None:
    # The Graph API gives `file_size` as a number or as a numeric string.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


async def download_media(api: WhatsAppApi, *, media_id: str, max_bytes: int) -> bytes:
    """A file a player sent: `GET /{media-id}` for its (short-lived) URL and size, then its
    bytes with the access token, read no further than `max_bytes`. Raises FileTooLarge,
    WhatsAppRefused or httpx.HTTPError."""
    if not _MEDIA_ID.fullmatch(media_id):
        raise WhatsAppRefused(status=400, code=None, description="not a media id")
    async with api.client() as client:
        # phone_number_id: Meta checks that the media was sent to our number.
        response = await client.get(
            f"{api.base_url}/{media_id}", params={"phone_number_id": api.phone_number_id}
        )
        answer = _answer(response)
        if response.status_code != 200 or not isinstance(answer, dict):
            raise _refusal(response, answer)
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise WhatsAppRefused(status=200, code=None, description="the media has no URL")
        size = _declared_size(answer.get("file_size"))
        if size is not None and size > max_bytes:
            raise FileTooLarge(size)
        chunks: list[bytes] = []
        read = 0
        # The media host answers only requests with the access token and a User-Agent
        # (httpx sends its own); httpx drops the token if a redirect leaves the host.
        async with client.stream("GET", url, follow_redirects=True) as download:
            if download.status_code != 200:
                raise WhatsAppRefused(
                    status=download.status_code,
                    code=None,
                    description="the media could not be downloaded",
                )
            async for chunk in download.aiter_bytes():
                read += len(chunk)
                if read > max_bytes:
                    raise FileTooLarge(read)
                chunks.append(chunk)
    return b"".join(chunks)


# --- template messages ---------------------------------------------------------------


class GraphTemplate(_Shape):
    name: str
    language: str
    status: str
    category: str | None = None
    components: list[dict[str, Any]] = []
    parameter_format: str | None = None


_PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z0-9_]+\s*\}\}")
# Buttons the player presses without a value from us: a reply, a call, a fixed link.
_PLAIN_BUTTONS = frozenset({"QUICK_REPLY", "PHONE_NUMBER", "URL", "VOICE_CALL"})


def _text(component: dict[str, Any], key: str = "text") -> str | None:
    value = component.get(key)
    return value if isinstance(value, str) else None


def _examples(component: dict[str, Any]) -> tuple[str, ...]:
    example = component.get("example")
    if not isinstance(example, dict):
        return ()
    positional = example.get("body_text")
    if isinstance(positional, list) and positional and isinstance(positional[0], list):
        return tuple(str(value) for value in positional[0])
    named = example.get("body_text_named_params")
    if isinstance(named, list):
        return tuple(str(item.get("example", "")) for item in named if isinstance(item, dict))
    return ()


def template_of(raw: GraphTemplate) -> WhatsAppTemplate:
    """A template as the desk sees it; `unsupported` says why it cannot be sent from the
    desk (the desk fills body parameters only)."""
    header: str | None = None
    body = ""
    footer: str | None = None
    buttons: list[str] = []
    examples: tuple[str, ...] = ()
    unsupported: str | None = None
    for component in raw.components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            shape = str(component.get("format", "TEXT")).upper()
            header = _text(component)
            if shape != "TEXT":
                unsupported = f"its header is a {shape.lower()}, which the desk cannot attach"
            elif header and _PLACEHOLDER.search(header):
                unsupported = "its header takes a parameter"
        elif kind == "BODY":
            body = _text(component) or ""
            examples = _examples(component)
        elif kind == "FOOTER":
            footer = _text(component)
        elif kind == "BUTTONS":
            listed = component.get("buttons")
            for button in listed if isinstance(listed, list) else []:
                if not isinstance(button, dict):
                    continue
                button_kind = str(button.get("type", "")).upper()
                url = _text(button, "url") or ""
                if button_kind not in _PLAIN_BUTTONS or _PLACEHOLDER.search(url):
                    unsupported = (
                        f"its {button_kind.lower().replace('_', ' ')} button takes a value"
                    )
                label = _text(button)
                if label:
                    buttons.append(label)
        else:
            unsupported = f"it has a {kind.lower() or 'unknown'} part"
    if (raw.category or "").upper() == "AUTHENTICATION":
        unsupported = "an authentication template carries a one-time code"
    if not body.strip():
        unsupported = unsupported or "it has no body"
    named = (raw.parameter_format or "").upper() == "NAMED"
    return WhatsAppTemplate(
        name=raw.name,
        language=raw.language,
        status=raw.status,
        category=(raw.category or "").upper(),
        header=header,
        body=body,
        footer=footer,
        buttons=tuple(buttons),
        named=named,
        examples=examples,
        unsupported=unsupported,
    )


async def fetch_templates(api: WhatsAppApi, *, business_account_id: str) -> list[WhatsAppTemplate]:
    """Every template of the business account (`GET /{waba-id}/message_templates`, page by
    page). Raises WhatsAppRefused, or httpx.HTTPError when the Graph API could not be
    reached."""
    url = f"{api.base_url}/{business_account_id}/message_templates"
    params: dict[str, str | int] = {
        "fields": "name,language,status,category,components,parameter_format",
        "limit": TEMPLATE_PAGE_SIZE,
    }
    found: list[WhatsAppTemplate] = []
    async with api.client() as client:
        for _ in range(MAX_TEMPLATE_PAGES):
            response = await client.get(url, params=params)
            answer = _answer(response)
            if response.status_code != 200 or not isinstance(answer, dict):
                raise _refusal(response, answer)
            data = answer.get("data")
            for item in data if isinstance(data, list) else []:
                try:
                    found.append(template_of(GraphTemplate.model_validate(item)))
                except ValidationError:
                    log.warning("whatsapp_template_unreadable", name=str(item.get("name"))[:100])
            paging = answer.get("paging")
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = cursors.get("after") if isinstance(cursors, dict) else None
            # `next` is there only when there is a next page; its URL is Meta's own host,
            # so the cursor is followed on our base URL (a proxy stays in the path).
            if not (isinstance(paging, dict) and paging.get("next") and isinstance(after, str)):
                break
            params = {**params, "after": after}
    return found


@dataclass(frozen=True, kw_only=True)
class _Listed:
    at: datetime
    templates: tuple[WhatsAppTemplate, ...]


# Per Graph API base and business account, in this process: a minute's worth of listings.
_listed: dict[tuple[str, str], _Listed] = {}


@dataclass(frozen=True, kw_only=True)
class GraphTemplateCatalog:
    """services.whatsapp_templates' TemplateCatalog over the Graph API, kept for a minute."""

    api: WhatsAppApi
    business_account_id: str
    clock: Clock

    async def templates(self) -> Sequence[WhatsAppTemplate]:
        key = (self.api.base_url, self.business_account_id)
        now = self.clock.now()
        kept = _listed.get(key)
        if kept is not None and timedelta(0) <= now - kept.at < TEMPLATE_CACHE_TTL:
            return kept.templates
        try:
            found = await fetch_templates(self.api, business_account_id=self.business_account_id)
        except WhatsAppRefused as error:
            raise CatalogUnavailable(str(error)) from None
        except httpx.HTTPError as error:
            raise CatalogUnavailable(f"WhatsApp unreachable ({type(error).__name__})") from None
        _listed[key] = _Listed(at=now, templates=tuple(found))
        log.info("whatsapp_templates_listed", count=len(found))
        return _listed[key].templates


def template_catalog(runtime: Runtime) -> GraphTemplateCatalog | None:
    """The business account's templates, or None when it is not configured (no account id,
    or no access token and phone number to send with)."""
    api = WhatsAppApi.from_settings(runtime.settings)
    account = runtime.settings.whatsapp_business_account_id
    if api is None or not account:
        return None
    return GraphTemplateCatalog(api=api, business_account_id=account, clock=runtime.clock)


def template_body(*, to: str, template: dict[str, Any]) -> dict[str, Any]:
    """The Graph API call for an approved template (name, language, body parameters)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    }


# --- replies -------------------------------------------------------------------------


def _button_title(label: str) -> str:
    label = " ".join(label.split())
    if len(label) <= MAX_BUTTON_TITLE_CHARS:
        return label
    return label[: MAX_BUTTON_TITLE_CHARS - 1].rstrip() + "…"


def reply_buttons(quick_replies: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The bot's quick replies as reply buttons: WhatsApp shows three at most, with titles
    of 20 characters (longer labels are shortened; the press is recognised by its id)."""
    usable = [
        item
        for item in quick_replies
        if item.get("label", "").strip() and 0 < len(item.get("id", "")) <= MAX_BUTTON_ID_CHARS
    ]
    if len(usable) > MAX_BUTTONS:
        log.info("whatsapp_buttons_dropped", offered=len(usable), kept=MAX_BUTTONS)
    return [
        {"type": "reply", "reply": {"id": item["id"], "title": _button_title(item["label"])}}
        for item in usable[:MAX_BUTTONS]
    ]


def message_bodies(
    *, to: str, text: str, quick_replies: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The Graph API calls for one reply, in order: text parts within WhatsApp's limits,
    the last one interactive with the buttons when the bot offered some."""
    buttons = reply_buttons(quick_replies)
    parts = split_text(text, limit=MAX_TEXT_CHARS)
    if buttons and parts and len(parts[-1]) > MAX_INTERACTIVE_BODY_CHARS:
        parts = parts[:-1] + split_text(parts[-1], limit=MAX_INTERACTIVE_BODY_CHARS)
    bodies: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        common = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        if buttons and index == len(parts) - 1:
            bodies.append(
                {
                    **common,
                    "type": "interactive",
                    "interactive": {
                        "type": "button",
                        "body": {"text": part},
                        "action": {"buttons": buttons},
                    },
                }
            )
        else:
            bodies.append({**common, "type": "text", "text": {"preview_url": False, "body": part}})
    return bodies


def _failure(error: WhatsAppRefused) -> DeliveryFailed:
    # 401: an expired or wrong token, fixed by an admin; kept for then, as Telegram's.
    if error.status >= 500 or error.status in {401, 429} or error.code in TEMPORARY_ERROR_CODES:
        return DeliveryFailed(str(error), permanent=False)
    return DeliveryFailed(
        str(error), permanent=True, bad_address=error.code == UNDELIVERABLE_ERROR_CODE
    )


Sender = Callable[[Delivery], Awaitable[str | None]]


def whatsapp_sender(api: WhatsAppApi) -> Sender:
    """The outbox's sender for WhatsApp rows: replies (services.outbound.send_messenger_reply)
    and template messages (services.whatsapp_templates.send_template)."""

    async def send(delivery: Delivery) -> str | None:
        payload = delivery.payload
        if payload.get("type") == "template" and isinstance(payload.get("template"), dict):
            bodies = [template_body(to=delivery.recipient, template=payload["template"])]
        else:
            bodies = message_bodies(
                to=delivery.recipient,
                text=str(payload.get("text") or ""),
                quick_replies=list(payload.get("quick_replies") or []),
            )
        if not bodies:
            raise DeliveryFailed("nothing to send: the reply has no text", permanent=True)
        sent: list[str] = []
        async with api.client() as client:
            for body in bodies:
                try:
                    wamid = await post_message(api, client, body=body)
                except WhatsAppRefused as error:
                    raise _failure(error) from None
                except httpx.HTTPError as error:
                    raise DeliveryFailed(
                        f"WhatsApp unreachable ({type(error).__name__})", permanent=False
                    ) from None
                if wamid:
                    sent.append(wamid)
        return ",".join(sent)[:500] or None

    return send
