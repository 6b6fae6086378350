"""The built-in SMTP receiver, spoken to with smtplib over loopback: accepted mail is in the
desk before 250, mail for other domains is refused at RCPT, oversized and unreadable mail
gets the right code, a failure to store answers 451 so the sender retries."""

from __future__ import annotations

import asyncio
import email.policy
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from playerdesk.adapters import email_in
from playerdesk.adapters.email_in import parse_listen_address, start_smtp_receiver
from playerdesk.db.models import Message, Ticket
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.smtp_sink import free_port

SUPPORT = "support@playerdesk.localhost"


@pytest.fixture
async def receiver(runtime: Runtime) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    server = await start_smtp_receiver(runtime, host="127.0.0.1", port=port)
    try:
        yield "127.0.0.1", port
    finally:
        server.close()
        await server.wait_closed()


def a_mail(*, body: str = "My deposit is missing.", sender: str = "jan@example.pl") -> bytes:
    message = EmailMessage()
    message["From"] = f"Jan Kowalski <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = "Deposit missing"
    message["Message-ID"] = "<deposit-1@example.pl>"
    message.set_content(body)
    return message.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as on the wire


def send(
    address: tuple[str, int], *, data: bytes, recipients: list[str] | None = None
) -> tuple[int, bytes]:
    """One SMTP conversation; returns the reply to DATA (or the refusal)."""
    with smtplib.SMTP(*address, timeout=10) as client:
        client.ehlo("client.example.pl")
        client.mail("jan@example.pl")
        for recipient in recipients or [SUPPORT]:
            code, reply = client.rcpt(recipient)
            if code >= 400:
                return code, reply
        return client.data(data)


async def test_a_mail_sent_by_smtp_becomes_a_ticket_before_the_250(
    runtime: Runtime, receiver: tuple[str, int]
) -> None:
    code, reply = await asyncio.to_thread(send, receiver, data=a_mail())
    assert code == 250
    async with runtime.read_uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
        assert ticket is not None
        message = await uow.session.scalar(select(Message).where(Message.ticket_id == ticket.id))
    assert f"#{ticket.number}".encode() in reply
    assert ticket.subject == "Deposit missing"
    assert message is not None
    assert message.body == "My deposit is missing."


async def test_other_domains_are_refused_at_rcpt(
    runtime: Runtime, receiver: tuple[str, int]
) -> None:
    code, reply = await asyncio.to_thread(
        send, receiver, data=a_mail(), recipients=["someone@elsewhere.example"]
    )
    assert code == 550
    assert b"Relaying denied" in reply


async def test_an_oversized_mail_gets_552_and_nothing_is_stored(
    settings: Settings, runtime: Runtime
) -> None:
    small = settings.model_copy(update={"email_max_bytes": 20_000})
    from playerdesk.runtime import build_runtime

    limited = build_runtime(small, clock=runtime.clock, bus=runtime.bus)
    port = free_port()
    server = await start_smtp_receiver(limited, host="127.0.0.1", port=port)
    try:
        code, _ = await asyncio.to_thread(
            send, ("127.0.0.1", port), data=a_mail(body="xxxxxxxxxx\n" * 3000)
        )
        assert code == 552
    finally:
        server.close()
        await server.wait_closed()
        await limited.engine.dispose()
    async with runtime.read_uow() as uow:
        assert await uow.session.scalar(select(Ticket)) is None


async def test_an_unreadable_mail_gets_550(runtime: Runtime, receiver: tuple[str, int]) -> None:
    code, reply = await asyncio.to_thread(send, receiver, data=b"no headers, no sender, nothing")
    assert code == 550
    assert reply.startswith(b"5.6.0")


async def test_a_failure_to_store_answers_451_so_the_sender_retries(
    runtime: Runtime, receiver: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(email_in.inbound_email, "receive_email", broken)
    code, reply = await asyncio.to_thread(send, receiver, data=a_mail())
    assert code == 451
    assert b"try again later" in reply


def test_the_listen_address_setting_is_checked() -> None:
    assert parse_listen_address("127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert parse_listen_address("[::1]:25") == ("::1", 25)
    with pytest.raises(ValueError, match="host:port"):
        parse_listen_address("2525")
