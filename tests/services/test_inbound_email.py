"""Received mail into the desk (the real parser, real persistence): new tickets, threading
by headers and by subject number, robots never answered, bounces, loops, unreadable mail."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from playerdesk.adapters.email_in import keep_unreadable, take_mail
from playerdesk.db.models import (
    Attachment,
    ChannelIdentity,
    EmailRecord,
    Message,
    OutboxItem,
    Player,
    Ticket,
)
from playerdesk.domain.enums import AgentRole, Channel, MessageKind, TicketStatus
from playerdesk.domain.mail import UnreadableMail
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies
from playerdesk.services import tickets as ticket_service
from playerdesk.services.inbound_email import Outcome
from tests.conftest import AgentFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100


def mail(
    *,
    sender: str = "Anna Nowak <anna@example.test>",
    subject: str = "Withdrawal not received",
    body: str = "Hello,\n\nmy withdrawal of 200 EUR has not arrived.\n\nAnna",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@playerdesk.localhost"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.test")
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content(body)
    for filename, data, content_type in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    # After the content: set_content() drops Content-* headers set before it.
    for name, value in (headers or {}).items():
        message[name] = value
    return message.as_bytes()


async def tickets(runtime: Runtime) -> list[Ticket]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def messages_of(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.read_uow() as uow:
        return list(
            (
                await uow.session.scalars(
                    select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
                )
            ).all()
        )


async def outbox(runtime: Runtime) -> list[OutboxItem]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def agent_reply(runtime: Runtime, actor: object, ticket_id: int, body: str) -> None:
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=actor,  # type: ignore[arg-type]
            ticket_id=ticket_id,
            body=body,
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )


async def test_a_new_mail_opens_a_ticket_for_the_sender_and_is_acknowledged(
    runtime: Runtime,
) -> None:
    raw = mail(
        headers={"Content-Language": "pl"},
        body="Dzień dobry,\n\nwypłata nie dotarła.\n\nOn Mon, 2 Nov 2026 at 10:00, Support "
        "<support@playerdesk.localhost> wrote:\n> older text",
        attachments=[("potwierdzenie.png", PNG, "image/png")],
    )
    received = await take_mail(runtime, raw=raw, source="smtp")
    assert received.outcome is Outcome.CREATED
    [ticket] = await tickets(runtime)
    assert ticket.channel == Channel.EMAIL.value
    assert ticket.subject == "Withdrawal not received"
    assert ticket.language == "pl"
    assert received.ticket_number == ticket.number
    async with runtime.read_uow() as uow:
        player = await uow.session.get(Player, ticket.player_id)
        record = await uow.session.scalar(select(EmailRecord))
        attachments = (await uow.session.scalars(select(Attachment))).all()
    assert player is not None
    assert (player.email, player.name) == ("anna@example.test", "Anna Nowak")
    [message] = await messages_of(runtime, ticket.id)
    # Quoted history is not shown; the original is kept whole.
    assert message.body == "Dzień dobry,\n\nwypłata nie dotarła."
    assert record is not None
    assert record.direction == "in"
    assert record.message_id == message.id
    assert record.raw_sha256 is not None
    assert await runtime.attachments.get(record.raw_sha256) == raw
    assert [(a.filename, a.message_id) for a in attachments] == [("potwierdzenie.png", message.id)]
    [ack] = await outbox(runtime)
    assert ack.purpose == "acknowledgement"
    assert ack.recipient == "anna@example.test"
    assert ack.payload["in_reply_to"] == record.rfc_message_id
    assert f"#{ticket.number}" in ack.payload["text"]


async def test_a_reply_threads_by_headers_to_our_mail_and_reopens_the_ticket(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    await agent_reply(runtime, agent.actor, ticket.id, "It was sent today.")
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(status=TicketStatus.RESOLVED),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )
    reply_to = (await outbox(runtime))[-1].idempotency_key
    received = await take_mail(
        runtime,
        raw=mail(
            subject="Re: something else entirely", body="Thanks, got it!", in_reply_to=reply_to
        ),
        source="imap:support",
    )
    assert received.outcome is Outcome.APPENDED
    assert received.ticket_id == ticket.id
    [reopened] = await tickets(runtime)
    assert reopened.status == TicketStatus.OPEN.value
    bodies = [m.body for m in await messages_of(runtime, ticket.id)]
    assert bodies[-1] == "Thanks, got it!"
    # Only the new ticket was acknowledged, not the reply.
    assert [item.purpose for item in await outbox(runtime)] == ["acknowledgement", "reply"]


async def test_the_subject_number_threads_only_for_the_tickets_own_player(
    runtime: Runtime,
) -> None:
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    subject = f"Re: Withdrawal [#{ticket.number}]"
    own = await take_mail(runtime, raw=mail(subject=subject, body="Any news?"), source="smtp")
    assert own.outcome is Outcome.APPENDED
    assert own.ticket_id == ticket.id
    stranger = await take_mail(
        runtime, raw=mail(sender="eve@example.test", subject=subject, body="Me too"), source="smtp"
    )
    assert stranger.outcome is Outcome.CREATED
    assert stranger.ticket_id != ticket.id


async def test_the_same_mail_twice_is_taken_once(runtime: Runtime) -> None:
    raw = mail(message_id="<same-one@mail.example.test>")
    assert (await take_mail(runtime, raw=raw, source="smtp")).outcome is Outcome.CREATED
    assert (await take_mail(runtime, raw=raw, source="imap:x")).outcome is Outcome.DUPLICATE
    assert len(await tickets(runtime)) == 1
    assert len(await outbox(runtime)) == 1


async def test_auto_replies_are_noted_on_their_ticket_and_never_answered(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    await agent_reply(runtime, agent.actor, ticket.id, "Could you send a screenshot?")
    ours = (await outbox(runtime))[-1].idempotency_key
    out_of_office = mail(
        subject="Automatic reply: Re: Withdrawal not received",
        body="I am out of the office until Monday.",
        in_reply_to=ours,
        headers={"Auto-Submitted": "auto-replied"},
    )
    received = await take_mail(runtime, raw=out_of_office, source="smtp")
    assert received.outcome is Outcome.AUTO_REPLY
    assert received.ticket_id == ticket.id
    [after] = await tickets(runtime)
    # Not a player message: nobody owes an answer and the ticket did not move.
    assert after.waiting_since is None
    assert after.status == TicketStatus.OPEN.value
    last = (await messages_of(runtime, ticket.id))[-1]
    assert (last.author_kind, last.kind) == ("system", "note")
    assert "out of the office" in last.body
    assert len(await outbox(runtime)) == 2  # the ack and the agent's reply; nothing new
    unthreaded = mail(subject="Out of Office: hello", headers={"Auto-Submitted": "auto-replied"})
    assert (await take_mail(runtime, raw=unthreaded, source="smtp")).outcome is Outcome.AUTO_REPLY
    assert len(await tickets(runtime)) == 1


def bounce_for(address: str, *, original_id: str) -> bytes:
    """A Postfix-style DSN: multipart/report with the delivery status and our mail."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.test>
To: support@playerdesk.localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <{make_msgid(domain="mx.example.test")[1:-1]}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system. Your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--BOUNDARY
Content-Type: message/rfc822

Message-ID: <{original_id}>
Subject: Re: Withdrawal

our reply

--BOUNDARY--
""".replace("\n", "\r\n").encode()


async def test_a_bounce_marks_the_address_failing_and_is_noted(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    await agent_reply(runtime, agent.actor, ticket.id, "Here is the answer.")
    ours = (await outbox(runtime))[-1].idempotency_key
    received = await take_mail(
        runtime, raw=bounce_for("anna@example.test", original_id=ours), source="smtp"
    )
    assert received.outcome is Outcome.BOUNCE
    assert received.ticket_id == ticket.id
    async with runtime.read_uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.address == "anna@example.test")
        )
    assert identity is not None
    assert identity.delivery_failed_at is not None
    note = (await messages_of(runtime, ticket.id))[-1]
    assert note.kind == "note"
    assert "anna@example.test" in note.body
    assert len(await outbox(runtime)) == 2
    # The player writes again from the address: it works after all.
    await take_mail(runtime, raw=mail(subject="Hello again"), source="smtp")
    async with runtime.read_uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.address == "anna@example.test")
        )
    assert identity is not None
    assert identity.delivery_failed_at is None


async def test_our_own_mail_and_agents_never_open_tickets(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.AGENT, email="piotr@casino.example.test")
    own = mail(sender="Support <support@playerdesk.localhost>")
    assert (await take_mail(runtime, raw=own, source="smtp")).outcome is Outcome.OURS
    looped = mail(message_id="<pd.0123abcd@playerdesk.localhost>")
    assert (await take_mail(runtime, raw=looped, source="smtp")).outcome is Outcome.OURS
    from_agent = mail(sender="Piotr <Piotr@Casino.Example.Test>", body="forwarding this")
    assert (await take_mail(runtime, raw=from_agent, source="smtp")).outcome is Outcome.OURS
    assert await tickets(runtime) == []

    # On a thread, an agent's mail is their internal note.
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    ack = (await outbox(runtime))[-1].idempotency_key
    threaded = mail(sender=agent.email, body="Checked with payments: sent.", in_reply_to=ack)
    received = await take_mail(runtime, raw=threaded, source="smtp")
    assert received.outcome is Outcome.AGENT_NOTE
    last = (await messages_of(runtime, ticket.id))[-1]
    assert last.kind == "note"
    assert "Checked with payments" in last.body


async def test_an_answer_to_a_closed_ticket_opens_a_follow_up(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    await take_mail(runtime, raw=mail(), source="smtp")
    [ticket] = await tickets(runtime)
    async with runtime.uow() as uow:
        for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            await ticket_service.update_ticket(
                uow,
                actor=agent.actor,
                ticket_id=ticket.id,
                changes=ticket_service.TicketChanges(status=status),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )
    received = await take_mail(
        runtime, raw=mail(subject=f"Re: [#{ticket.number}]", body="One more thing"), source="smtp"
    )
    assert received.outcome is Outcome.CREATED
    assert received.ticket_id != ticket.id


async def test_refused_attachments_are_named_on_the_ticket(runtime: Runtime) -> None:
    raw = mail(attachments=[("setup.exe", b"MZ\x90\x00" * 50, "application/octet-stream")])
    received = await take_mail(runtime, raw=raw, source="smtp")
    assert received.ticket_id is not None
    kept = await messages_of(runtime, received.ticket_id)
    assert [m.kind for m in kept] == ["reply", "note"]
    assert "setup.exe" in kept[1].body


async def test_garbage_is_refused_by_the_parser_and_kept_by_the_poller(runtime: Runtime) -> None:
    garbage = b"\x00\x01 this is not a mail at all"
    with pytest.raises(UnreadableMail):
        await take_mail(runtime, raw=garbage, source="imap:x")
    kept = await keep_unreadable(runtime, raw=garbage, error="no sender", source="imap:x")
    assert kept.outcome is Outcome.UNREADABLE
    [ticket] = await tickets(runtime)
    [note] = await messages_of(runtime, ticket.id)
    assert "could not be read (no sender)" in note.body
    async with runtime.read_uow() as uow:
        [original] = (await uow.session.scalars(select(Attachment))).all()
        record = await uow.session.scalar(select(EmailRecord))
    assert (original.filename, original.message_id) == ("original.eml", note.id)
    assert await runtime.attachments.get(original.sha256) == garbage
    assert record is not None
    assert record.error == "no sender"
    # Polled again (a crash before the UID was recorded): not a second ticket.
    again = await keep_unreadable(runtime, raw=garbage, error="no sender", source="imap:x")
    assert again.outcome is Outcome.DUPLICATE
    async with runtime.read_uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Ticket)) == 1
