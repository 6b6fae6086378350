"""Email as PlayerDesk understands it, whatever parsed it: what a received mail says, what
kind of mail it is, and the small rules about subjects and Message-IDs. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MailKind(StrEnum):
    """What a received mail is; only `MESSAGE` is ever answered."""

    MESSAGE = "message"
    # Out-of-office, vacation notices, other mail robots (Auto-Submitted, Precedence...).
    AUTO_REPLY = "auto_reply"
    # Bounces and delivery status notifications (multipart/report, mailer-daemon).
    BOUNCE = "bounce"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENDING = "sending"  # a worker holds it (until its lease ends)
    SENT = "sent"
    DEAD = "dead"  # failed too often: an admin looks at it and may retry


@dataclass(frozen=True, kw_only=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None  # without <>, for inline images referenced by cid:


@dataclass(frozen=True, kw_only=True)
class ParsedMail:
    """A received mail, decoded. Addresses are lower-cased in the domain part; Message-IDs
    are kept without their angle brackets."""

    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str | None
    from_name: str | None
    to_addresses: list[str]
    cc_addresses: list[str]
    reply_to: str | None
    subject: str
    date: datetime | None
    # The whole body as text: text/plain when the mail has it, else the HTML made text.
    text: str
    # The HTML part made safe to show (no scripts, no remote content), when there is one.
    safe_html: str | None
    # `text` without quoted history and signature: what the console shows.
    shown_text: str
    attachments: list[MailAttachment]
    kind: MailKind
    # For a bounce: the addresses that failed, and why (the DSN's diagnostic, if any).
    failed_recipients: list[str] = field(default_factory=list)
    failure_reason: str | None = None
    # Content-Language or similar hints ("pl", "sv"), when the mail says.
    language: str | None = None
    # Problems met while decoding that did not stop it (bad charset, broken part...).
    defects: list[str] = field(default_factory=list)


class UnreadableMail(ValueError):
    """The bytes are not a mail we can take (no sender, not RFC 5322 at all)."""


_TICKET_NUMBER = re.compile(r"\[#(\d{1,18})\]")


def ticket_number_in(subject: str) -> int | None:
    """The ticket number PlayerDesk put in a subject as `[#1234]` (the last one wins: a
    forwarded thread may quote another's)."""
    found = _TICKET_NUMBER.findall(subject)
    return int(found[-1]) if found else None


def subject_with_number(subject: str, *, number: int, reply: bool) -> str:
    """`Re: <subject> [#1234]`, without piling up prefixes or numbers."""
    base = _TICKET_NUMBER.sub("", subject).strip()
    base = re.sub(r"^((re|sv|odp|aw|fw|fwd|vs)\s*:\s*)+", "", base, flags=re.IGNORECASE).strip()
    prefix = "Re: " if reply else ""
    return f"{prefix}{base} [#{number}]".strip()


_MESSAGE_ID_HEADER = re.compile(rb"^message-id:[ \t]*<?([^\s<>]+)>?", re.IGNORECASE | re.MULTILINE)
RETURNED_CONTENT_TYPES = frozenset({"message/rfc822", "text/rfc822-headers"})


def returned_message_ids(mail: ParsedMail) -> list[str]:
    """The Message-IDs of the mail a bounce returns (the original, or its headers, attached):
    how a bounce finds the ticket whose mail failed."""
    found: list[str] = []
    for attachment in mail.attachments:
        if attachment.content_type in RETURNED_CONTENT_TYPES:
            head = attachment.data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            found += [m.decode("ascii", "replace") for m in _MESSAGE_ID_HEADER.findall(head)]
    return found


# The domain of the Message-IDs we make up for mail that came without one: they recognise
# a second delivery, but mean nothing to anybody else, so they never go into headers.
MADE_UP_ID_DOMAIN = "playerdesk.invalid"


def is_made_up_message_id(message_id: str) -> bool:
    return message_id.endswith("@" + MADE_UP_ID_DOMAIN)


def bare_message_id(value: str) -> str:
    return value.strip().strip("<>").strip()
