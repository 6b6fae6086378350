"""Viber REST bot API: callbacks into the desk, replies out through the outbox.

Inbound, a callback is checked (X-Viber-Content-Signature, the hex HMAC-SHA256 of the raw
body keyed with the bot's auth token) and parsed strictly: the fields we use must have
their documented types, the ones we do not use are ignored. A text message is the player's
message; a pressed keyboard button arrives as a text message saying the button's
ActionBody, which we set to the quick reply's id. A picture, video or file is downloaded
from the media URL Viber gives (public for an hour; our token is never sent there) into the
attachment store under the widget's rules, and a contact, location, sticker or link becomes
a note in the player's message, so nothing they send disappears. `unsubscribed` marks the
chat as not reachable, `subscribed` as reachable again; `delivered` and `seen` move the
conversation's receipts to the reply they name and `failed` dead-letters it.
`conversation_started` with a `context` is a signed deep link that links the Viber user to
a casino account; it is answered with a welcome message in the callback's response.

Outbound, the outbox's sender calls `/pa/send_message` with the auth token in a header
(never in a URL or an error we keep), the bot's quick replies as a reply keyboard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.telegram import messenger_policies, split_text
from playerdesk.domain.enums import Channel
from playerdesk.domain.files import sniff_content_type
from playerdesk.i18n import translations
from playerdesk.runtime import Runtime
from playerdesk.services import messengers, outbound, player_links
from playerdesk.services.attachments import AttachmentPolicy
from playerdesk.services.messengers import (
    FileTooLarge,
    FileTypeRefused,
    MessengerOutcome,
    MessengerReceived,
    MessengerSender,
)
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"
# send_message takes at most 7000 characters of text.
MAX_TEXT_CHARS = 7000
# A keyboard holds at most 24 buttons; a button's ActionBody is kept short by Viber.
MAX_BUTTONS = 24
MAX_ACTION_BODY_CHARS = 250
# Viber's answer codes (`status`) that refuse this message for good. The receiver ones
# (not registered, not subscribed, no device that can show it) also mark the chat as
# failing; every other code (a wrong token, flood limit, an account problem) ends once
# something outside the message changes, and is retried.
BAD_RECEIVER_CODES = frozenset({5, 6, 11})
REFUSED_MESSAGE_CODES = frozenset({3, 4})
REQUEST_TIMEOUT_SECONDS = 15.0
# Messages whose media is a file the player sent us, and what to call one without a name.
MEDIA_TYPES = {"picture": "picture.jpg", "video": "video.mp4", "file": "file"}
# A media URL may pass through a CDN's redirects; no further than this.
MAX_MEDIA_REDIRECTS = 5
# Enough of a file's first bytes to know its type when it is a binary one.
SNIFF_BYTES = 16
# Binary types recognised by their first bytes alone (domain.files.sniff_content_type).
_BINARY_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
NOTE_CHARS = 500
STATUS_NAMES = {
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
}


# --- inbound -------------------------------------------------------------------------


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class ViberUser(_Shape):
    id: str
    name: str | None = None
    language: str | None = None
    country: str | None = None


class ViberContact(_Shape):
    name: str | None = None
    phone_number: str | None = None


class ViberLocation(_Shape):
    lat: float
    lon: float
    address: str | None = None


class ViberContent(_Shape):
    type: str
    text: str | None = None
    tracking_data: str | None = None
    # A picture's, video's or file's download URL; a `url` message's link.
    media: str | None = None
    file_name: str | None = None
    # In bytes. Viber's callbacks say `size`; its documentation also names `file_size`.
    size: int | None = None
    file_size: int | None = None
    sticker_id: int | None = None
    contact: ViberContact | None = None
    location: ViberLocation | None = None

    @property
    def declared_size(self) -> int | None:
        return self.size if self.size is not None else self.file_size


class ViberEnvelope(_Shape):
    """What every callback has: the event and the id Viber gives it."""

    event: str
    timestamp: int
    message_token: int | None = None


class ViberMessageEvent(ViberEnvelope):
    event: Literal["message"]
    message_token: int
    sender: ViberUser
    message: ViberContent


class ViberSubscribed(ViberEnvelope):
    event: Literal["subscribed"]
    user: ViberUser


class ViberUnsubscribed(ViberEnvelope):
    event: Literal["unsubscribed"]
    user_id: str


class ViberConversationStarted(ViberEnvelope):
    event: Literal["conversation_started"]
    user: ViberUser
    subscribed: bool = False
    # What followed `context=` in the link the user opened the chat with (our deep link's
    # token), empty otherwise.
    context: str | None = None


class ViberDeliveryEvent(ViberEnvelope):
    event: Literal["delivered", "seen", "failed"]
    message_token: int
    user_id: str
    desc: str | None = None


_EVENT_SHAPES: dict[str, type[ViberEnvelope]] = {
    "message": ViberMessageEvent,
    "subscribed": ViberSubscribed,
    "unsubscribed": ViberUnsubscribed,
    "conversation_started": ViberConversationStarted,
    "delivered": ViberDeliveryEvent,
    "seen": ViberDeliveryEvent,
    "failed": ViberDeliveryEvent,
}


class MalformedCallback(Exception):
    """Not a callback we can read; `message_token` when the body had one (for the log)."""

    def __init__(self, reason: str, *, message_token: int | None) -> None:
        super().__init__(reason)
        self.message_token = message_token


def _message_token_of(raw: bytes) -> int | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if isinstance(body, dict) and type(body.get("message_token")) is int:
        return int(body["message_token"])
    return None


def _validated(shape: type[ViberEnvelope], raw: bytes) -> ViberEnvelope:
    try:
        return shape.model_validate_json(raw)
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in item["loc"]) for item in error.errors())
        raise MalformedCallback(
            f"not a Viber callback ({fields or 'not JSON'})",
            message_token=_message_token_of(raw),
        ) from None


def parse_callback(raw: bytes) -> ViberEnvelope:
    """The callback in its event's shape (an unknown event as the bare envelope). Raises
    MalformedCallback for a body that is not a callback or not its event's shape."""
    envelope = _validated(ViberEnvelope, raw)
    shape = _EVENT_SHAPES.get(envelope.event)
    return envelope if shape is None else _validated(shape, raw)


def signature_matches(settings: Settings, *, raw: bytes, presented: str | None) -> bool:
    """The body is signed with our auth token (constant-time compare); with no token
    configured nothing is accepted."""
    token = settings.viber_auth_token
    if not token or not presented:
        return False
    expected = hmac.new(token.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), presented.strip().lower().encode())


def sender_of(user: ViberUser) -> MessengerSender:
    return MessengerSender(
        channel=Channel.VIBER,
        address=user.id,
        name=(user.name or "").strip() or None,
        language_tag=user.language,
    )


def message_key(message_token: int) -> str:
    return f"viber:{message_token}"


def _may_be_a_button(text: str) -> bool:
    """Quick-reply ids are short words: anything else is surely typed by the player."""
    return 0 < len(text) <= MAX_ACTION_BODY_CHARS and not any(char.isspace() for char in text)


@dataclass(frozen=True, kw_only=True)
class ViberTaken:
    event: str
    message_token: int | None
    outcome: MessengerOutcome
    ticket_id: int | None = None
    # The body of the callback's response: a welcome message (conversation_started only).
    response: dict[str, Any] | None = None


async def _take_text(runtime: Runtime, *, event: ViberMessageEvent, text: str) -> ViberTaken:
    sender = sender_of(event.sender)
    key = message_key(event.message_token)
    policies = messenger_policies(runtime)
    received: MessengerReceived | None = None
    kind = "message"
    if _may_be_a_button(text):
        # A pressed keyboard button says its ActionBody (the quick reply's id); the same
        # words typed under a conversation that never offered it are just a message.
        async with runtime.uow() as uow:
            received = await messengers.receive_messenger_button(
                uow, sender=sender, button_id=text, provider_message_key=key, policies=policies
            )
        if received.outcome is MessengerOutcome.IGNORED:
            received = None
        else:
            kind = "button"
    if received is None:
        async with runtime.uow() as uow:
            received = await messengers.receive_messenger_message(
                uow, sender=sender, body=text, provider_message_key=key, policies=policies
            )
    return _taken(event, kind=kind, received=received)


def _taken(event: ViberMessageEvent, *, kind: str, received: MessengerReceived) -> ViberTaken:
    """A player's message the desk took (or recognised as taken before), logged."""
    log.info(
        "viber_message_taken",
        message_token=event.message_token,
        kind=kind,
        outcome=received.outcome.value,
        ticket_id=received.ticket_id,
    )
    return ViberTaken(
        event=kind,
        message_token=event.message_token,
        outcome=received.outcome,
        ticket_id=received.ticket_id,
    )


def _ignored(callback: ViberEnvelope, *, kind: str) -> ViberTaken:
    log.info("viber_callback_ignored", message_token=callback.message_token, kind=kind)
    return ViberTaken(
        event=kind, message_token=callback.message_token, outcome=MessengerOutcome.IGNORED
    )


def _clean(text: str | None, *, limit: int = NOTE_CHARS) -> str:
    """Words from the callback fit for one line of a note: no control characters."""
    kept = "".join(char if char.isprintable() else " " for char in text or "")
    return " ".join(kept.split())[:limit]


def message_note(content: ViberContent) -> str:
    """What stands in the player's message for a message that is neither text nor a file:
    the agent sees what was sent (a contact's number, a place, a link) and can act on it."""
    if content.type == "contact":
        contact = content.contact or ViberContact()
        details = ", ".join(
            part for part in (_clean(contact.name), _clean(contact.phone_number)) if part
        )
        return f"[a contact card: {details or 'no details'}]"
    if content.type == "location" and content.location is not None:
        place = content.location
        address = _clean(place.address)
        return f"[a location: {place.lat:.6f}, {place.lon:.6f}{'; ' + address if address else ''}]"
    if content.type == "sticker":
        return "[a sticker]"
    if content.type == "url":
        return f"[a link: {_clean(content.media) or 'no address'}]"
    return f"[a Viber message the desk cannot show: {_clean(content.type, limit=40)}]"


async def _take_note(runtime: Runtime, *, event: ViberMessageEvent) -> ViberTaken:
    kind = f"message_{event.message.type}"[:60]
    async with runtime.uow() as uow:
        received = await messengers.receive_messenger_message(
            uow,
            sender=sender_of(event.sender),
            body=message_note(event.message),
            provider_message_key=message_key(event.message_token),
            policies=messenger_policies(runtime),
        )
    return _taken(event, kind=kind, received=received)


class MediaUnavailable(Exception):
    """The media URL did not give the file (expired after its hour, an outage)."""


def _refused_early(prefix: bytes, *, policy: AttachmentPolicy) -> FileTypeRefused | None:
    """Whether the whole file will be refused, judging by its first bytes: a binary type
    known from them that is not allowed, or a NUL byte with none of the known signatures
    (the desk accepts no other binary type). Otherwise only the whole file tells."""
    content_type = sniff_content_type(prefix)
    if content_type in _BINARY_TYPES and content_type not in policy.allowed_types:
        return FileTypeRefused(content_type)
    if content_type is None and b"\x00" in prefix:
        return FileTypeRefused(None)
    return None


async def download_media(
    url: str, *, policy: AttachmentPolicy, timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
) -> bytes:
    """A file a player sent, from its media URL (no auth token: the URL is public for an
    hour), read no further than the attachment size limit, and no further than its first
    bytes when they show a type the desk refuses. Raises FileTooLarge, FileTypeRefused,
    MediaUnavailable or httpx.HTTPError."""
    if not url.lower().startswith(("https://", "http://")):
        raise MediaUnavailable("the media URL is not http(s)")
    async with (
        httpx.AsyncClient(
            timeout=timeout_seconds, follow_redirects=True, max_redirects=MAX_MEDIA_REDIRECTS
        ) as client,
        client.stream("GET", url) as response,
    ):
        if response.status_code != 200:
            raise MediaUnavailable(f"HTTP {response.status_code}")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > policy.max_bytes:
            raise FileTooLarge(int(length))
        chunks: list[bytes] = []
        read = 0
        judged = False
        async for chunk in response.aiter_bytes():
            read += len(chunk)
            if read > policy.max_bytes:
                raise FileTooLarge(read)
            chunks.append(chunk)
            if not judged and read >= SNIFF_BYTES:
                judged = True
                refused = _refused_early(b"".join(chunks), policy=policy)
                if refused is not None:
                    raise refused
    return b"".join(chunks)


async def _take_media(runtime: Runtime, *, event: ViberMessageEvent) -> ViberTaken:
    """Download the file (once: a retried callback is recognised before), then take the
    message with it; a file the rules refuse, or that cannot be downloaded, becomes a note
    in the player's message so the agent can ask for it another way."""
    sender = sender_of(event.sender)
    key = message_key(event.message_token)
    kind = f"message_{event.message.type}"
    async with runtime.uow() as uow:
        if await messengers.seen_before(uow, sender=sender, provider_message_key=key):
            return ViberTaken(
                event=kind, message_token=event.message_token, outcome=MessengerOutcome.DUPLICATE
            )
    content = event.message
    filename = _clean(content.file_name, limit=255) or MEDIA_TYPES[content.type]
    media_url = content.media
    policy = runtime.policies.attachments

    async def download(max_bytes: int) -> bytes:
        assert media_url
        return await download_media(media_url, policy=policy)

    # Never the URL in the log: whoever holds it can fetch the player's file for an hour.
    files = await messengers.downloaded_file(
        filename=filename,
        declared_size=content.declared_size,
        download=download if media_url else None,
        explained=(MediaUnavailable,),
        unexplained=(httpx.HTTPError, httpx.InvalidURL),
        store=runtime.attachments,
        policy=policy,
        log_event="viber_media",
        log_context={"message_token": event.message_token},
    )
    async with runtime.uow() as uow:
        received = await messengers.receive_messenger_message(
            uow,
            sender=sender,
            body=content.text or "",
            provider_message_key=key,
            policies=messenger_policies(runtime),
            files=files,
        )
    return _taken(event, kind=kind, received=received)


def welcome_message(*, text: str, sender_name: str) -> dict[str, Any]:
    """A message in the response to conversation_started, which Viber shows the user (the
    only message a bot may send before the user subscribes)."""
    return {"sender": {"name": sender_name}, "type": "text", "text": text}


async def _take_conversation_started(
    runtime: Runtime, *, callback: ViberConversationStarted
) -> ViberTaken:
    """The user opened the chat. With a deep link's token as its `context` the Viber user
    is linked to that casino account, and the welcome message confirms it (or says the link
    did not work); a user opening the chat for the first time is greeted. In the language
    of their Viber app when the desk speaks it."""
    players = runtime.policies.players
    language = (
        messengers.supported_language(callback.user.language, policy=players)
        or players.default_language
    )
    gettext = translations(language).gettext
    token = (callback.context or "").strip()
    kind = "conversation_started"
    text: str | None = None
    if token:
        secret = player_links.link_secret(runtime.settings)
        try:
            if secret is None:
                raise player_links.LinkTokenInvalid("deep links are not set up", field="token")
            async with runtime.uow() as uow:
                linked = await player_links.link_by_token(
                    uow,
                    channel=Channel.VIBER,
                    address=callback.user.id,
                    token=token,
                    secret=secret,
                    policy=players,
                )
        except player_links.LinkRefused:
            log.info("viber_deep_link_refused", message_token=callback.message_token)
            kind = "conversation_started_link_refused"
            text = gettext(
                "Hello! This chat is already connected to another casino account, so the link "
                "cannot be used. Write your question here and our support team will help."
            )
        except player_links.LinkTokenInvalid as error:
            log.info(
                "viber_deep_link_invalid",
                message_token=callback.message_token,
                error=str(error),
                configured=secret is not None,
            )
            kind = "conversation_started_link_invalid"
            text = gettext(
                "Hello! This link could not connect the chat to your casino account: it has "
                "expired or is not valid. Open it again from your account, or simply write "
                "your question here."
            )
        else:
            log.info(
                "viber_deep_link_taken",
                message_token=callback.message_token,
                player_id=linked.player_id,
                changed=linked.changed,
                moved_tickets=len(linked.moved_ticket_ids),
            )
            kind = "conversation_started_linked"
            text = gettext(
                "Hello! This chat is now connected to your casino account. Write your "
                "question here and our support team will answer."
            )
    elif not callback.subscribed:
        text = gettext("Hello! Write your question here and our support team will answer.")
    log.info("viber_conversation_started", message_token=callback.message_token, kind=kind)
    return ViberTaken(
        event=kind,
        message_token=callback.message_token,
        outcome=MessengerOutcome.IGNORED,
        response=None
        if text is None
        else welcome_message(text=text, sender_name=runtime.settings.viber_sender_name),
    )


async def _take_receipt(runtime: Runtime, *, callback: ViberDeliveryEvent) -> ViberTaken:
    """delivered, seen or failed: what became of a reply we sent (its message token)."""
    error = None
    if callback.event == "failed":
        error = f"Viber could not deliver it: {callback.desc or 'no reason given'}"
    async with runtime.uow() as uow:
        recorded = await outbound.record_provider_status(
            uow,
            channel=Channel.VIBER.value,
            provider_message_id=str(callback.message_token),
            status=callback.event,
            error=error,
        )
    log.info(
        "viber_receipt_taken",
        message_token=callback.message_token,
        kind=callback.event,
        recorded=recorded,
    )
    return ViberTaken(
        event=f"{callback.event}_{recorded}",
        message_token=callback.message_token,
        outcome=MessengerOutcome.IGNORED,
    )


async def take_callback(runtime: Runtime, *, raw: bytes) -> ViberTaken:
    """Parse one (signature-checked) callback body and hand it to the desk. Raises
    MalformedCallback."""
    callback = parse_callback(raw)
    if isinstance(callback, ViberMessageEvent):
        content = callback.message
        if content.type in MEDIA_TYPES:
            return await _take_media(runtime, event=callback)
        if content.type != "text":
            return await _take_note(runtime, event=callback)
        if content.text is None or not content.text.strip():
            return _ignored(callback, kind="message_empty")
        return await _take_text(runtime, event=callback, text=content.text)
    if isinstance(callback, ViberUnsubscribed):
        async with runtime.uow() as uow:
            await messengers.mark_messenger_unreachable(
                uow,
                channel=Channel.VIBER,
                address=callback.user_id,
                reason="Viber: the player unsubscribed from the bot",
            )
        return _ignored(callback, kind="unsubscribed")
    if isinstance(callback, ViberSubscribed):
        async with runtime.uow() as uow:
            await messengers.mark_messenger_reachable(
                uow, channel=Channel.VIBER, address=callback.user.id
            )
        return _ignored(callback, kind="subscribed")
    if isinstance(callback, ViberDeliveryEvent):
        return await _take_receipt(runtime, callback=callback)
    if isinstance(callback, ViberConversationStarted):
        return await _take_conversation_started(runtime, callback=callback)
    # webhook (set_webhook's check), client_status, and events Viber adds later:
    # acknowledged, or Viber retries them.
    return _ignored(callback, kind=callback.event[:60])


# --- the REST API ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ViberApi:
    base_url: str
    token: str
    sender_name: str
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> ViberApi | None:
        if not settings.viber_auth_token:
            return None
        return cls(
            base_url=settings.viber_api_base.rstrip("/"),
            token=settings.viber_auth_token,
            sender_name=settings.viber_sender_name,
        )

    def url(self, method: str) -> str:
        return f"{self.base_url}/pa/{method}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout_seconds,
            follow_redirects=False,
            headers={AUTH_HEADER: self.token},
        )


class ViberRefused(Exception):
    """The API answered a call with a non-zero `status` (or not at all as it should)."""

    def __init__(self, *, status: int | None, message: str) -> None:
        name = STATUS_NAMES.get(status, "") if status is not None else ""
        label = f"{status} {name}".strip() if status is not None else "no status"
        super().__init__(f"Viber {label}: {message}"[:500])
        self.status = status
        self.message = message


async def call_api(
    api: ViberApi, client: httpx.AsyncClient, *, method: str, body: dict[str, Any]
) -> dict[str, Any]:
    """One REST API call; its answer. Raises ViberRefused, or httpx.HTTPError when Viber
    could not be reached."""
    response = await client.post(api.url(method), json=body)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or response.status_code != 200:
        raise ViberRefused(
            status=None, message=f"HTTP {response.status_code} {response.reason_phrase}"
        )
    status = answer.get("status")
    if status == 0:
        return answer
    raise ViberRefused(
        status=status if isinstance(status, int) else None,
        message=str(answer.get("status_message") or "no status message"),
    )


def reply_keyboard(quick_replies: list[dict[str, str]]) -> dict[str, Any] | None:
    """The bot's quick replies as a keyboard of full-width buttons; pressing one sends its
    ActionBody (the quick reply's id) back as the player's message."""
    buttons = [
        {
            "Columns": 6,
            "Rows": 1,
            "ActionType": "reply",
            "ActionBody": item["id"],
            "Text": item["label"],
        }
        for item in quick_replies
        if item.get("label") and _may_be_a_button(item.get("id", ""))
    ][:MAX_BUTTONS]
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons} if buttons else None


def _failure(error: ViberRefused) -> DeliveryFailed:
    if error.status in BAD_RECEIVER_CODES:
        # The player unsubscribed or left Viber: replies wait until they write again.
        return DeliveryFailed(str(error), permanent=True, bad_address=True)
    if error.status in REFUSED_MESSAGE_CODES:
        return DeliveryFailed(str(error), permanent=True)
    return DeliveryFailed(str(error), permanent=False)


Sender = Callable[[Delivery], Awaitable[str | None]]


def viber_sender(api: ViberApi) -> Sender:
    """The outbox's sender for Viber rows (services.outbound.send_messenger_reply); the
    message tokens Viber gives the parts are kept, comma-separated, so a later `failed`
    callback finds the row."""

    async def send(delivery: Delivery) -> str | None:
        payload = delivery.payload
        parts = split_text(str(payload.get("text") or ""), limit=MAX_TEXT_CHARS)
        if not parts:
            raise DeliveryFailed("nothing to send: the reply has no text", permanent=True)
        keyboard = reply_keyboard(list(payload.get("quick_replies") or []))
        sent: list[str] = []
        async with api.client() as client:
            for index, part in enumerate(parts):
                body: dict[str, Any] = {
                    "receiver": delivery.recipient,
                    "type": "text",
                    "text": part,
                    "sender": {"name": api.sender_name},
                }
                if keyboard is not None and index == len(parts) - 1:
                    # Under the last part, where the player reads to the end.
                    body["keyboard"] = keyboard
                try:
                    answer = await call_api(api, client, method="send_message", body=body)
                except ViberRefused as error:
                    raise _failure(error) from None
                except httpx.HTTPError as error:
                    raise DeliveryFailed(
                        f"Viber unreachable ({type(error).__name__})", permanent=False
                    ) from None
                token = answer.get("message_token")
                if isinstance(token, int):
                    sent.append(str(token))
        return ",".join(sent)[:500] or None

    return send
