"""Outbound email: an outbox payload made into a MIME message and handed to an SMTP server
(aiosmtplib: asyncio-native, STARTTLS and implicit TLS, keeps the event loop free)."""

from __future__ import annotations

import email.policy
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

# Lines up to RFC 5322's hard limit: with the usual 78, a long Message-ID in In-Reply-To
# or References is folded into RFC 2047 encoded words, and mail clients stop threading.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
# SMTP reply codes that will not change by trying again (RFC 5321 4.2.1: 5yz is permanent).
PERMANENT_CODES = range(500, 600)


class DeliveryFailed(Exception):
    """One attempt failed. `permanent` when retrying this message cannot help (the server
    refused the recipient or the content with a 5xx), `bad_address` when the recipient's
    address is what failed. Refusals of our own setup (authentication, TLS required, the
    sender) are temporary: they end once an admin fixes the configuration."""

    def __init__(self, message: str, *, permanent: bool, bad_address: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.bad_address = bad_address


@dataclass(frozen=True, kw_only=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0
    ca_file: str | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 30.0,
        ca_file: str | None = None,
    ) -> SmtpTransport:
        """smtp://host:port (STARTTLS when `starttls`) or smtps://host:port (TLS at once);
        credentials in the URL win over the separate settings."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PLAYERDESK_SMTP_OUTBOUND must look like smtp://host:port")
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            starttls=starttls and not implicit_tls,
            username=unquote(parts.username) if parts.username else username,
            password=unquote(parts.password) if parts.password else password,
            timeout_seconds=timeout_seconds,
            ca_file=ca_file,
        )


def _address(address: str, name: str | None) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def build_email(
    payload: dict[str, Any], *, attachments: list[tuple[str, str, bytes]]
) -> EmailMessage:
    """The MIME message for an outbox email payload (see services.outbound.enqueue_email):
    text and HTML alternatives, the thread's headers, attachments."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = _address(payload["from"], payload.get("from_name"))
    message["To"] = _address(payload["to"], payload.get("to_name"))
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{payload['message_id']}>"
    if payload.get("in_reply_to"):
        message["In-Reply-To"] = f"<{payload['in_reply_to']}>"
    if payload.get("references"):
        message["References"] = " ".join(f"<{ref}>" for ref in payload["references"])
    if payload.get("ticket_number") is not None:
        message["X-PlayerDesk-Ticket"] = str(payload["ticket_number"])
    if payload.get("auto_submitted"):
        # RFC 3834: robots (out-of-office replies) must not answer this one.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=filename,
        )
    if payload.get("language"):
        # Last: set_content() and add_alternative() move or drop Content-* headers.
        message["Content-Language"] = payload["language"]
    return message


def _tls_context(transport: SmtpTransport) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if transport.ca_file:
        context.load_verify_locations(cafile=transport.ca_file)
    return context


async def send_email(message: EmailMessage, *, transport: SmtpTransport) -> str:
    """Send one message; returns the server's final reply (it often names its queue id).

    Raises DeliveryFailed: permanent for a 5xx reply, temporary for 4xx, timeouts and
    connection problems."""
    # Flattened here: aiosmtplib would flatten with its own policy (and its line length).
    raw = message.as_bytes(policy=MAIL_POLICY)
    sender = message["From"].addresses[0].addr_spec
    recipients = [address.addr_spec for address in message["To"].addresses]
    try:
        _, reply = await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=recipients,
            hostname=transport.host,
            port=transport.port,
            use_tls=transport.implicit_tls,
            start_tls=transport.starttls if transport.starttls else False,
            username=transport.username,
            password=transport.password,
            timeout=transport.timeout_seconds,
            tls_context=_tls_context(transport)
            if transport.implicit_tls or transport.starttls
            else None,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [refusal.code for refusal in error.recipients]
        permanent = bool(codes) and all(code in PERMANENT_CODES for code in codes)
        detail = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        raise DeliveryFailed(
            f"recipient refused: {detail}", permanent=permanent, bad_address=permanent
        ) from error
    except aiosmtplib.SMTPDataError as error:
        # The content was refused; an RFC 3463 5.1.x status still means the mailbox.
        permanent = error.code in PERMANENT_CODES
        raise DeliveryFailed(
            f"SMTP {error.code}: {error.message}",
            permanent=permanent,
            bad_address=permanent and error.message.startswith("5.1."),
        ) from error
    except aiosmtplib.SMTPResponseException as error:
        raise DeliveryFailed(f"SMTP {error.code}: {error.message}", permanent=False) from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise DeliveryFailed(
            f"{type(error).__name__}: {error}".strip(": "), permanent=False
        ) from error
    return reply
