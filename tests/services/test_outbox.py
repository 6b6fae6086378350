"""The outbox: agent replies and acknowledgements written with their transaction, delivered
over real SMTP to a sink on loopback, retried with backoff, dead-lettered, retried by an
admin."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from playerdesk.adapters.email_out import SmtpTransport
from playerdesk.clock import FrozenClock
from playerdesk.db.models import ChannelIdentity, EmailRecord, Player, Ticket
from playerdesk.domain.enums import AgentRole, Channel, MessageKind
from playerdesk.domain.errors import PermissionDenied, ValidationFailed
from playerdesk.domain.mail import OutboxStatus
from playerdesk.domain.permissions import Actor
from playerdesk.jobs.outbox import Sender, deliver_outbox, email_sender
from playerdesk.runtime import Runtime
from playerdesk.services import attachments as attachment_service
from playerdesk.services import outbound
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.conftest import AgentFactory, RecordingBus
from tests.imap_server import write_test_certificates
from tests.outbox_steps import agent_writes, outbox_rows
from tests.smtp_sink import SinkBehaviour, SmtpSink, free_port

# As long as Gmail's: folded at 78 columns it would become an encoded word and break threads.
LONG_ID = "CAF" + "q3xZ" * 20 + "@mail.example.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def senders(runtime: Runtime, sink: SmtpSink) -> dict[str, Sender]:
    transport = SmtpTransport.from_url(sink.url, timeout_seconds=5)
    return {Channel.EMAIL.value: email_sender(runtime, transport)}


async def open_ticket(
    runtime: Runtime, actor: Actor, *, channel: Channel = Channel.EMAIL, language: str = "en"
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=actor,
            new=ticket_service.NewTicket(
                channel=channel,
                subject="Where is my withdrawal?",
                body="I asked for 200 EUR three days ago.",
                player_external_id="P-100",
                player=PlayerFields(email="anna@example.test", name="Anna Nowak"),
                language=language,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def reply(
    runtime: Runtime,
    actor: Actor,
    ticket: Ticket,
    body: str,
    *,
    attachment_ids: list[int] | None = None,
    kind: MessageKind = MessageKind.REPLY,
) -> None:
    await agent_writes(
        runtime,
        actor=actor,
        ticket_id=ticket.id,
        body=body,
        kind=kind,
        attachment_ids=attachment_ids,
    )


async def test_an_email_reply_is_delivered_with_threading_headers_html_and_attachment(
    runtime: Runtime, make_agent: AgentFactory, sink: SmtpSink, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    async with runtime.uow() as uow:
        # The player's mail that opened the ticket, as the inbound path records it.
        uow.session.add(
            EmailRecord(
                ticket_id=ticket.id,
                direction="in",
                rfc_message_id=LONG_ID,
                references=["older@mail.example.test"],
                from_address="anna@example.test",
                to_addresses=["support@playerdesk.localhost"],
                subject="Where is my withdrawal?",
                kind="message",
                source="smtp",
                raw_size=10,
                created_at=uow.clock.now(),
            )
        )
        await uow.commit()
    async with runtime.uow() as uow:
        screenshot = await attachment_service.upload_attachment(
            uow,
            actor=agent.actor,
            store=runtime.attachments,
            policy=runtime.policies.attachments,
            ticket_id=ticket.id,
            filename="receipt.png",
            data=PNG,
        )
    await reply(
        runtime,
        agent.actor,
        ticket,
        "Your withdrawal <b>was approved</b> today.\n\nIt arrives within 24 hours.",
        attachment_ids=[screenshot.id],
    )
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.PENDING.value
    assert row.purpose == "reply"
    assert row.recipient == "anna@example.test"

    outcome = await deliver_outbox(runtime, senders=senders(runtime, sink))
    assert outcome == {"sent": 1, "retry": 0, "dead": 0}
    [received] = sink.received
    mail = received.message
    assert received.recipients == ["anna@example.test"]
    assert mail["To"] == "Anna Nowak <anna@example.test>"
    assert mail["Subject"] == f"Re: Where is my withdrawal? [#{ticket.number}]"
    assert mail["Message-ID"] == f"<{row.idempotency_key}>"
    assert mail["In-Reply-To"] == f"<{LONG_ID}>"
    assert f"\r\nIn-Reply-To: <{LONG_ID}>\r\n".encode() in received.data  # not encoded
    assert mail["References"] == f"<older@mail.example.test> <{LONG_ID}>"
    assert mail["Content-Language"] == "en"
    assert mail["Auto-Submitted"] is None
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Your withdrawal <b>was approved</b> today." in text.get_content()
    assert f"Ticket #{ticket.number}" in text.get_content()
    assert "&lt;b&gt;was approved&lt;/b&gt;" in html.get_content()
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "receipt.png"
    assert attached.get_content() == PNG

    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value
    assert row.attempts == 1
    assert row.provider_message_id is not None
    assert "SINK1" in row.provider_message_id
    changes = [event for event in bus.published if event.type == "outbox.changed"]
    assert [event.status for event in changes] == ["sent"]  # type: ignore[union-attr]


async def test_notes_and_chat_replies_send_no_mail(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    email_ticket = await open_ticket(runtime, agent.actor)
    await reply(
        runtime, agent.actor, email_ticket, "internal: check the PSP", kind=MessageKind.NOTE
    )
    chat_ticket = await open_ticket(runtime, agent.actor, channel=Channel.WEB_CHAT)
    await reply(runtime, agent.actor, chat_ticket, "Hello from chat")
    assert await outbox_rows(runtime) == []


async def test_the_outbox_row_is_part_of_the_reply_transaction(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    # A reply refused half-way (an attachment of another ticket) leaves no mail behind.
    with pytest.raises(ValidationFailed):
        await reply(runtime, agent.actor, ticket, "see attached", attachment_ids=[999])
    assert await outbox_rows(runtime) == []


async def test_a_failing_server_is_retried_with_backoff_then_dead_lettered_then_retried_by_an_admin(
    runtime: Runtime, make_agent: AgentFactory, sink: SmtpSink, clock: FrozenClock
) -> None:
    agent = await make_agent()
    admin = await make_agent(AgentRole.ADMIN)
    ticket = await open_ticket(runtime, agent.actor)
    await reply(runtime, agent.actor, ticket, "We are checking.")
    policy = runtime.policies.mail
    sink.behaviour = SinkBehaviour(refuse_with="451 4.3.0 Try again later", refusals_left=100)
    send = senders(runtime, sink)

    delays = []
    for attempt in range(1, policy.max_attempts + 1):
        outcome = await deliver_outbox(runtime, senders=send)
        [row] = await outbox_rows(runtime)
        assert row.attempts == attempt
        assert row.last_error is not None
        assert "451" in row.last_error
        if attempt < policy.max_attempts:
            assert outcome == {"sent": 0, "retry": 1, "dead": 0}
            assert row.status == OutboxStatus.PENDING.value
            delays.append(row.next_attempt_at - clock.now())
            # Not due yet: nothing is tried before the backoff ends.
            assert await deliver_outbox(runtime, senders=send) == {"sent": 0, "retry": 0, "dead": 0}
            clock.advance(row.next_attempt_at - clock.now())
        else:
            assert outcome == {"sent": 0, "retry": 0, "dead": 1}
            assert row.status == OutboxStatus.DEAD.value
    assert delays[:3] == [policy.first_retry, policy.first_retry * 2, policy.first_retry * 4]
    assert sink.attempts == policy.max_attempts
    assert sink.received == []

    # Dead letters wait for an admin; an agent may not touch them.
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await outbound.retry_dead(uow, actor=agent.actor, item_id=row.id)
    async with runtime.read_uow() as uow:
        assert (await outbound.outbox_counts(uow, actor=admin.actor))["dead"] == 1
        listed = await outbound.list_outbox(uow, actor=admin.actor, status=OutboxStatus.DEAD)
        assert [item.id for item in listed] == [row.id]
    sink.behaviour = SinkBehaviour()
    async with runtime.uow() as uow:
        await outbound.retry_dead(uow, actor=admin.actor, item_id=row.id)
    assert await deliver_outbox(runtime, senders=send) == {"sent": 1, "retry": 0, "dead": 0}
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value
    assert row.attempts == 1
    [received] = sink.received
    assert received.message["Message-ID"] == f"<{row.idempotency_key}>"


async def test_a_refused_address_is_dead_at_once_and_marked_failing(
    runtime: Runtime, make_agent: AgentFactory, sink: SmtpSink
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    await reply(runtime, agent.actor, ticket, "Hello")
    sink.behaviour = SinkBehaviour(refuse_with="550 5.1.1 No such user", refusals_left=1)
    outcome = await deliver_outbox(runtime, senders=senders(runtime, sink))
    assert outcome == {"sent": 0, "retry": 0, "dead": 1}
    async with runtime.read_uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.address == "anna@example.test")
        )
    assert identity is not None
    assert identity.delivery_failed_at is not None
    assert identity.delivery_failure is not None
    assert "550" in identity.delivery_failure


async def test_an_unreachable_server_is_a_temporary_failure(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    await reply(runtime, agent.actor, ticket, "Hello")
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{free_port()}", timeout_seconds=2)
    outcome = await deliver_outbox(
        runtime, senders={Channel.EMAIL.value: email_sender(runtime, transport)}
    )
    assert outcome == {"sent": 0, "retry": 1, "dead": 0}
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.PENDING.value


async def test_a_lease_that_ran_out_is_claimed_again_with_the_same_message_id(
    runtime: Runtime, make_agent: AgentFactory, sink: SmtpSink, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    await reply(runtime, agent.actor, ticket, "Hello")
    policy = runtime.policies.mail
    # A worker claims the row and dies before recording anything.
    async with runtime.uow() as uow:
        [claimed] = await outbound.claim_due(uow, policy=policy)
    assert not claimed.resumed
    async with runtime.uow() as uow:
        assert await outbound.claim_due(uow, policy=policy) == []  # held by the lease
    clock.advance(policy.lease + timedelta(seconds=1))
    assert await deliver_outbox(runtime, senders=senders(runtime, sink)) == {
        "sent": 1,
        "retry": 0,
        "dead": 0,
    }
    [row] = await outbox_rows(runtime)
    assert row.attempts == 2
    assert sink.received[0].message["Message-ID"] == f"<{claimed.idempotency_key}>"


@pytest.mark.parametrize(
    ("language", "promise"),
    [("en", "We will answer within 2 hours."), ("pl", "2 godziny"), ("sv", "2 timmar")],
)
async def test_the_acknowledgement_names_the_number_and_the_sla_promise_in_the_players_language(
    runtime: Runtime, make_agent: AgentFactory, sink: SmtpSink, language: str, promise: str
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor, language=language)
    async with runtime.uow() as uow:
        player = await uow.session.get(Player, ticket.player_id)
        loaded = await uow.session.get(Ticket, ticket.id)
        assert player is not None
        assert loaded is not None
        await outbound.acknowledge_new_ticket(
            uow, ticket=loaded, player=player, policy=runtime.policies.mail
        )
        await uow.commit()
    await deliver_outbox(runtime, senders=senders(runtime, sink))
    [received] = sink.received
    mail = received.message
    assert mail["Auto-Submitted"] == "auto-replied"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"#{ticket.number}" in text
    assert promise in text
    async with runtime.read_uow() as uow:
        records = await uow.session.scalar(
            select(func.count()).select_from(EmailRecord).where(EmailRecord.direction == "out")
        )
    assert records == 1


async def test_delivery_upgrades_with_starttls_and_authenticates(
    runtime: Runtime, make_agent: AgentFactory, tmp_path: Path
) -> None:
    ca_file = write_test_certificates(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    secured = SmtpSink(
        host="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        credentials=("desk@casino.example", "s3cret pass"),
    )
    secured.start()
    try:
        agent = await make_agent()
        ticket = await open_ticket(runtime, agent.actor)
        await reply(runtime, agent.actor, ticket, "Sent over TLS.")
        transport = SmtpTransport.from_url(
            f"smtp://desk%40casino.example:s3cret%20pass@127.0.0.1:{secured.port}",
            starttls=True,
            timeout_seconds=5,
            ca_file=str(ca_file),
        )
        outcome = await deliver_outbox(
            runtime, senders={Channel.EMAIL.value: email_sender(runtime, transport)}
        )
        assert outcome == {"sent": 1, "retry": 0, "dead": 0}
        assert secured.authenticated_as == ["desk@casino.example"]
        assert len(secured.received) == 1

        # Without STARTTLS the server refuses to go on: a temporary failure, kept for later.
        await reply(runtime, agent.actor, ticket, "And again.")
        plain = SmtpTransport.from_url(secured.url, timeout_seconds=5)
        outcome = await deliver_outbox(
            runtime, senders={Channel.EMAIL.value: email_sender(runtime, plain)}
        )
        assert outcome == {"sent": 0, "retry": 1, "dead": 0}
        assert len(secured.received) == 1
    finally:
        secured.stop()
