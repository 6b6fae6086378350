"""Inbound email: the built-in SMTP receiver (aiosmtpd) and the one path every received mail
takes into the desk, whether it came by SMTP or from an IMAP mailbox."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from playerdesk.adapters.mail_parser import parse_mail
from playerdesk.domain.errors import DomainError
from playerdesk.domain.mail import UnreadableMail
from playerdesk.runtime import Runtime
from playerdesk.services import inbound_email
from playerdesk.services.inbound_email import InboundPolicies, Received

log = structlog.get_logger(__name__)

MAX_RECIPIENTS = 50


def inbound_policies(runtime: Runtime) -> InboundPolicies:
    policies = runtime.policies
    return InboundPolicies(
        mail=policies.mail,
        players=policies.players,
        messages=policies.messages,
        attachments=policies.attachments,
        routing=policies.routing,
    )


async def take_mail(runtime: Runtime, *, raw: bytes, source: str) -> Received:
    """Parse and hand one mail to the desk. Raises UnreadableMail for bytes that are not a
    mail (the SMTP receiver refuses those; a poller keeps them with `keep_unreadable`)."""
    # In a thread: parsing a large or hostile mail takes CPU time the event loop needs.
    mail = await asyncio.to_thread(
        parse_mail, raw, max_attachments=runtime.policies.mail.max_attachments
    )
    async with runtime.uow() as uow:
        return await inbound_email.receive_email(
            uow,
            mail=mail,
            raw=raw,
            source=source,
            store=runtime.attachments,
            policies=inbound_policies(runtime),
        )


async def keep_unreadable(runtime: Runtime, *, raw: bytes, error: str, source: str) -> Received:
    async with runtime.uow() as uow:
        return await inbound_email.keep_unreadable_email(
            uow,
            raw=raw,
            error=error,
            source=source,
            store=runtime.attachments,
            policies=inbound_policies(runtime),
        )


class InboundSmtpHandler:
    """aiosmtpd handler: recipients at our domains only; each mail is in the desk (or
    refused with a code the sending server understands) before we answer DATA."""

    def __init__(self, *, runtime: Runtime) -> None:
        self.runtime = runtime
        self.domains = frozenset(
            address.rpartition("@")[2] for address in runtime.policies.mail.own_addresses
        )

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.rpartition("@")[2].lower() not in self.domains:
            # Not an open relay: mail for other domains is not ours to take.
            return "550 5.7.1 Relaying denied: not a domain of this desk"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        try:
            received = await take_mail(self.runtime, raw=raw, source="smtp")
        except UnreadableMail as error:
            return f"550 5.6.0 Message not accepted: {_one_line(str(error))}"
        except DomainError as error:
            log.warning("smtp_inbound_refused", error=str(error))
            return "451 4.3.0 Temporary problem storing the message; try again later"
        except Exception:
            # The sending server keeps the mail and retries: nothing is lost.
            log.exception("smtp_inbound_failed")
            return "451 4.3.0 Temporary problem storing the message; try again later"
        log.info("smtp_inbound_taken", outcome=received.outcome.value, ticket_id=received.ticket_id)
        if received.ticket_number is not None:
            return f"250 2.0.0 OK: ticket #{received.ticket_number}"
        return "250 2.0.0 OK"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def parse_listen_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("PLAYERDESK_SMTP_INBOUND must look like host:port, e.g. 127.0.0.1:2525")
    return host.strip("[]"), int(port)


async def start_smtp_receiver(
    runtime: Runtime, *, host: str, port: int
) -> asyncio.base_events.Server:
    """Listen for SMTP on host:port in this event loop; returns the asyncio server."""
    handler = InboundSmtpHandler(runtime=runtime)
    loop = asyncio.get_running_loop()
    limit = runtime.policies.mail.max_bytes
    return await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=limit,
            enable_SMTPUTF8=True,
            hostname=runtime.policies.mail.domain,
            ident="PlayerDesk ESMTP",
        ),
        host=host,
        port=port,
    )


async def run_smtp_receiver(runtime: Runtime) -> None:
    """A background task: the receiver of PLAYERDESK_SMTP_INBOUND until cancelled."""
    assert runtime.settings.smtp_inbound is not None
    host, port = parse_listen_address(runtime.settings.smtp_inbound)
    server = await start_smtp_receiver(runtime, host=host, port=port)
    log.info("smtp_inbound_listening", host=host, port=port)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
