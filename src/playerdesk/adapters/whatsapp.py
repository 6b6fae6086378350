"""WhatsApp Cloud API: webhook notifications into the desk, replies out through the outbox.

Inbound, a notification (`object: whatsapp_business_account`) is parsed strictly: the
fields we use must have their documented types; fields we do not use are ignored, since
Meta adds new ones. One notification may carry several messages and delivery statuses.
A text message or a pressed reply button goes to the desk; images and documents are
acknowledged and ignored for now; a `failed` status dead-letters our outbox row with
Meta's error so the agent sees it under the reply.

Outbound, the outbox's sender calls `POST /{phone-number-id}/messages`: plain text, or an
interactive message with up to three reply buttons for the bot's quick replies. The
returned `wamid` is kept as the row's provider id, which is how a later status finds it.

The access token travels in a header only; httpx's errors are not kept (their text may
carry request details), only their kind.
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
from playerdesk.runtime import Runtime
from playerdesk.services import messengers, outbound
from playerdesk.services.messengers import MessengerOutcome, MessengerReceived, MessengerSender
from playerdesk.services.outbound import Delivery
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


class WhatsAppMessage(_Shape):
    # The player's WhatsApp id (their number without "+"): where replies go.
    sender: str
    id: str
    timestamp: str
    type: str
    text: WhatsAppText | None = None
    interactive: WhatsAppInteractive | None = None


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
class InboundText:
    message_id: str
    text: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"whatsapp:{self.message_id}"


@dataclass(frozen=True, kw_only=True)
class InboundButton:
    message_id: str
    button_id: str
    sender: MessengerSender

    @property
    def key(self) -> str:
        return f"whatsapp:{self.message_id}"


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


WhatsAppInbound = InboundText | InboundButton | InboundIgnored | InboundStatus


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
        return InboundText(message_id=message.id, text=message.text.body, sender=sender)
    if (
        message.type == "interactive"
        and message.interactive is not None
        and message.interactive.type == "button_reply"
        and message.interactive.button_reply is not None
    ):
        return InboundButton(
            message_id=message.id, button_id=message.interactive.button_reply.id, sender=sender
        )
    # image, document, audio, sticker, location, reaction...: not taken yet.
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
        kind="text" if isinstance(inbound, InboundText) else "button_reply",
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


async def post_message(
    api: WhatsAppApi, client: httpx.AsyncClient, *, body: dict[str, Any]
) -> str | None:
    """One message sent; its `wamid`. Raises WhatsAppRefused, or httpx.HTTPError when the
    Graph API could not be reached."""
    response = await client.post(api.messages_url, json=body)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict):
        sent = answer.get("messages")
        if isinstance(sent, list) and sent and isinstance(sent[0], dict):
            wamid = sent[0].get("id")
            return str(wamid) if wamid else None
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    details = error if isinstance(error, dict) else {}
    code = details.get("code")
    data = details.get("error_data")
    described = str(details.get("message") or response.reason_phrase or "no answer")
    if isinstance(data, dict) and isinstance(data.get("details"), str):
        described = f"{described} ({data['details']})"
    raise WhatsAppRefused(
        status=response.status_code,
        code=code if isinstance(code, int) else None,
        description=described,
    )


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
    """The outbox's sender for WhatsApp rows (services.outbound.send_messenger_reply)."""

    async def send(delivery: Delivery) -> str | None:
        payload = delivery.payload
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
