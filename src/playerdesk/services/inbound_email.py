"""Mail that reaches PlayerDesk (SMTP receiver or IMAP polling) becomes a ticket, or a
message on the ticket it answers. Robots are never answered, bounces mark the address as
failing, our own mail never opens a ticket, and anything accepted is kept, even unread."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import func, select, update

from playerdesk.db.models import Agent, Attachment, ChannelIdentity, EmailRecord, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, Channel, MessageKind, TicketStatus
from playerdesk.domain.errors import (
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from playerdesk.domain.mail import (
    MADE_UP_ID_DOMAIN,
    MailKind,
    ParsedMail,
    returned_message_ids,
    ticket_number_in,
)
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.players import normalise_email
from playerdesk.services import audit, outbound
from playerdesk.services.attachments import AttachmentPolicy, store_attachment
from playerdesk.services.messages import MessageLimits, add_message, add_player_message
from playerdesk.services.outbound import MailPolicy, is_our_message_id, mark_address_failing
from playerdesk.services.players import PlayerFields, PlayerPolicy, match_or_create_player
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.tickets import open_ticket_in_transaction
from playerdesk.storage.attachments import AttachmentStore

log = structlog.get_logger(__name__)

NO_SUBJECT = "(no subject)"
# Whoever wrote an unreadable mail, its ticket needs a player: this one stands in.
UNKNOWN_SENDER_ID = "playerdesk:unknown-sender"
_FROM_HEADER = re.compile(rb"^from:[^\r\n]*?([^\s<>\"@]+@[^\s<>\"]+\.[^\s<>\"]+)", re.I | re.M)
_SUBJECT_HEADER = re.compile(rb"^subject:[ \t]*([^\r\n]*)", re.I | re.M)


class Outcome(StrEnum):
    CREATED = "created"  # a new ticket
    APPENDED = "appended"  # a message on the ticket it answers
    DUPLICATE = "duplicate"  # the same mail arrived before
    OURS = "ours"  # our own mail came back (a loop): ignored
    AGENT_NOTE = "agent_note"  # an agent wrote from their own address: a note, no ticket
    AUTO_REPLY = "auto_reply"  # noted on its ticket (if any), never answered
    BOUNCE = "bounce"  # the address marked failing, noted on its ticket
    UNREADABLE = "unreadable"  # kept as a raw .eml with the error on a ticket


@dataclass(frozen=True, kw_only=True)
class InboundPolicies:
    mail: MailPolicy
    players: PlayerPolicy
    messages: MessageLimits
    attachments: AttachmentPolicy
    routing: RoutingPolicy


@dataclass(frozen=True, kw_only=True)
class Received:
    outcome: Outcome
    ticket_id: int | None = None
    ticket_number: int | None = None


def fallback_message_id(raw: bytes) -> str:
    """A mail without a Message-ID is still recognised when it arrives twice."""
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@{MADE_UP_ID_DOMAIN}"


def _client_msg_id(rfc_message_id: str) -> str:
    # Message-IDs may be long; the message's idempotency key is bounded.
    return "email:" + hashlib.sha256(rfc_message_id.encode()).hexdigest()[:40]


async def _seen_before(uow: UnitOfWork, rfc_message_id: str) -> EmailRecord | None:
    return await uow.session.scalar(
        select(EmailRecord).where(
            EmailRecord.direction == "in", EmailRecord.rfc_message_id == rfc_message_id
        )
    )


async def _thread_ticket(uow: UnitOfWork, *, mail: ParsedMail) -> Ticket | None:
    """The ticket a mail answers: by In-Reply-To / References (newest first), else by the
    `[#1234]` in its subject when the sender is that ticket's player (so nobody adds to a
    stranger's ticket by guessing a number)."""
    wanted = [ref for ref in [mail.in_reply_to, *reversed(mail.references)] if ref]
    if mail.kind is MailKind.BOUNCE:
        wanted += returned_message_ids(mail)
    if wanted:
        records = (
            await uow.session.execute(
                select(EmailRecord.rfc_message_id, EmailRecord.ticket_id).where(
                    EmailRecord.rfc_message_id.in_(wanted)
                )
            )
        ).all()
        by_id: dict[str, int] = {row[0]: row[1] for row in records}
        for ref in wanted:
            if ref in by_id:
                return await uow.session.get(Ticket, by_id[ref], with_for_update=True)
    number = ticket_number_in(mail.subject)
    if number is None or mail.from_address is None:
        return None
    ticket = await uow.session.scalar(
        select(Ticket).where(Ticket.number == number).with_for_update()
    )
    if ticket is None:
        return None
    sender_owns_it = await uow.session.scalar(
        select(func.count())
        .select_from(ChannelIdentity)
        .where(
            ChannelIdentity.player_id == ticket.player_id,
            ChannelIdentity.channel == Channel.EMAIL.value,
            func.lower(ChannelIdentity.address) == mail.from_address.lower(),
        )
    )
    return ticket if sender_owns_it else None


def _record(
    *,
    ticket_id: int,
    mail: ParsedMail | None,
    rfc_message_id: str,
    kind: MailKind,
    source: str,
    raw_sha256: str,
    raw_size: int,
    uow: UnitOfWork,
    message_id: int | None = None,
    error: str | None = None,
    subject: str = "",
    from_address: str | None = None,
) -> EmailRecord:
    record = EmailRecord(
        ticket_id=ticket_id,
        message_id=message_id,
        direction="in",
        rfc_message_id=rfc_message_id,
        in_reply_to=mail.in_reply_to if mail else None,
        references=list(mail.references) if mail else [],
        from_address=mail.from_address if mail else from_address,
        to_addresses=list(mail.to_addresses) if mail else [],
        subject=(mail.subject if mail else subject)[:500],
        kind=kind.value,
        source=source[:100],
        raw_sha256=raw_sha256,
        raw_size=raw_size,
        error=error,
        created_at=uow.clock.now(),
    )
    uow.session.add(record)
    return record


async def _system_note(
    uow: UnitOfWork, *, ticket: Ticket, text: str, policies: InboundPolicies
) -> int:
    posted = await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        author=None,
        kind=MessageKind.NOTE,
        body=text,
        client_msg_id=None,
        attachment_ids=[],
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    return posted.message.id


async def _store_mail_attachments(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    mail: ParsedMail,
    store: AttachmentStore,
    policy: AttachmentPolicy,
) -> tuple[list[int], list[str]]:
    """Store what the attachment rules allow; name what they refused (the raw mail keeps
    it, so an agent can still get at it)."""
    stored: list[int] = []
    refused: list[str] = []
    for item in mail.attachments:
        try:
            attachment = await store_attachment(
                uow,
                actor=Actor.system(),
                store=store,
                policy=policy,
                ticket_id=ticket.id,
                filename=item.filename,
                data=item.data,
            )
        except (PayloadTooLarge, UnsupportedMediaType) as error:
            refused.append(f"{item.filename} ({error})")
            continue
        stored.append(attachment.id)
    return stored, refused


async def _agent_writing(uow: UnitOfWork, address: str | None) -> Agent | None:
    if address is None:
        return None
    return await uow.session.scalar(select(Agent).where(func.lower(Agent.email) == address))


def _sender_email(mail: ParsedMail) -> str | None:
    address = mail.reply_to or mail.from_address
    if not address:
        return None
    try:
        return normalise_email(address, field="from")
    except DomainError:
        return None


async def receive_email(
    uow: UnitOfWork,
    *,
    mail: ParsedMail,
    raw: bytes,
    source: str,
    store: AttachmentStore,
    policies: InboundPolicies,
) -> Received:
    """Take one received mail in one transaction (commits)."""
    rfc_message_id = mail.message_id or fallback_message_id(raw)
    if await _seen_before(uow, rfc_message_id) is not None:
        return Received(outcome=Outcome.DUPLICATE)
    if policies.mail.is_own_address(mail.from_address) or is_our_message_id(
        mail.message_id, policy=policies.mail
    ):
        log.info("email_loop_ignored", source=source)
        return Received(outcome=Outcome.OURS)

    ticket = await _thread_ticket(uow, mail=mail)
    raw_sha256 = await store.put(raw)

    if mail.kind is not MailKind.MESSAGE:
        return await _robot_mail(
            uow,
            mail=mail,
            ticket=ticket,
            rfc_message_id=rfc_message_id,
            source=source,
            raw_sha256=raw_sha256,
            raw_size=len(raw),
            policies=policies,
        )

    agent = await _agent_writing(uow, mail.from_address)
    if agent is not None:
        # An agent's own mail never opens a ticket; on a thread it is their note.
        if ticket is None or ticket.status == TicketStatus.CLOSED.value:
            log.info("email_from_agent_ignored", agent_id=agent.id, source=source)
            return Received(outcome=Outcome.OURS)
        message_id = await _system_note(
            uow,
            ticket=ticket,
            text=f"{agent.name} ({agent.email}):\n\n{mail.shown_text or mail.text}",
            policies=policies,
        )
        _record(
            uow=uow,
            ticket_id=ticket.id,
            mail=mail,
            rfc_message_id=rfc_message_id,
            kind=MailKind.MESSAGE,
            source=source,
            raw_sha256=raw_sha256,
            raw_size=len(raw),
            message_id=message_id,
        )
        await uow.commit()
        return Received(
            outcome=Outcome.AGENT_NOTE, ticket_id=ticket.id, ticket_number=ticket.number
        )

    sender = _sender_email(mail)
    if ticket is not None and ticket.status == TicketStatus.CLOSED.value:
        # A closed ticket stays closed: the answer starts a follow-up.
        ticket = None
    created = ticket is None
    if ticket is None:
        ticket, player = await _open_ticket(uow, mail=mail, sender=sender, policies=policies)
    else:
        found = await uow.session.get(Player, ticket.player_id)
        assert found is not None
        player = found
    if sender is not None:
        await _clear_failing(uow, address=sender)

    attachment_ids, refused = await _store_mail_attachments(
        uow, ticket=ticket, mail=mail, store=store, policy=policies.attachments
    )
    body = mail.shown_text.strip() or mail.text.strip()
    if not body and not attachment_ids:
        body = NO_SUBJECT if not mail.subject else mail.subject
    posted = await add_player_message(
        uow,
        ticket=ticket,
        body=body[: policies.messages.max_chars],
        client_msg_id=_client_msg_id(rfc_message_id),
        attachment_ids=attachment_ids,
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    _record(
        uow=uow,
        ticket_id=ticket.id,
        mail=mail,
        rfc_message_id=rfc_message_id,
        kind=MailKind.MESSAGE,
        source=source,
        raw_sha256=raw_sha256,
        raw_size=len(raw),
        message_id=posted.message.id,
    )
    problems = [*mail.defects, *(f"attachment not kept: {item}" for item in refused)]
    if problems:
        await _system_note(
            uow,
            ticket=ticket,
            text="Email received with problems (the original is kept):\n- " + "\n- ".join(problems),
            policies=policies,
        )
    if created:
        await outbound.acknowledge_new_ticket(
            uow, ticket=ticket, player=player, policy=policies.mail
        )
    await uow.commit()
    return Received(
        outcome=Outcome.CREATED if created else Outcome.APPENDED,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
    )


async def _open_ticket(
    uow: UnitOfWork, *, mail: ParsedMail, sender: str | None, policies: InboundPolicies
) -> tuple[Ticket, Player]:
    languages = policies.players.languages
    language = mail.language if mail.language in languages else None
    player = await match_or_create_player(
        uow,
        actor=Actor.system(),
        external_id=None if sender else UNKNOWN_SENDER_ID,
        fields=PlayerFields(email=sender, name=mail.from_name, language=language),
        policy=policies.players,
    )
    ticket = await open_ticket_in_transaction(
        uow,
        actor=Actor.system(),
        player=player,
        channel=Channel.EMAIL,
        subject=(mail.subject.strip() or NO_SUBJECT)[:300],
        language=language or player.language,
        routing_policy=policies.routing,
    )
    return ticket, player


async def _clear_failing(uow: UnitOfWork, *, address: str) -> None:
    """The player wrote from the address again: deliveries may work now."""
    await uow.session.execute(
        update(ChannelIdentity)
        .where(
            ChannelIdentity.channel == Channel.EMAIL.value,
            ChannelIdentity.address == address,
            ChannelIdentity.delivery_failed_at.is_not(None),
        )
        .values(delivery_failed_at=None, delivery_failure=None)
    )


async def _robot_mail(
    uow: UnitOfWork,
    *,
    mail: ParsedMail,
    ticket: Ticket | None,
    rfc_message_id: str,
    source: str,
    raw_sha256: str,
    raw_size: int,
    policies: InboundPolicies,
) -> Received:
    """Auto-replies and bounces: recorded where they belong, never answered, never a new
    ticket; a bounce marks the addresses that failed."""
    if mail.kind is MailKind.BOUNCE:
        for address in mail.failed_recipients:
            await mark_address_failing(
                uow,
                channel=Channel.EMAIL.value,
                address=address,
                reason=mail.failure_reason or "bounced",
            )
        note = "Delivery failed to {who}: {why}".format(
            who=", ".join(mail.failed_recipients) or "the player",
            why=mail.failure_reason or "the mail bounced",
        )
        outcome = Outcome.BOUNCE
    else:
        note = "Automatic reply received: " + (mail.shown_text or mail.subject)[:1000]
        outcome = Outcome.AUTO_REPLY
    if ticket is None or ticket.status == TicketStatus.CLOSED.value:
        await uow.commit()
        log.info("email_robot_without_open_ticket", kind=mail.kind.value, source=source)
        return Received(outcome=outcome)
    message_id = await _system_note(uow, ticket=ticket, text=note, policies=policies)
    _record(
        uow=uow,
        ticket_id=ticket.id,
        mail=mail,
        rfc_message_id=rfc_message_id,
        kind=mail.kind,
        source=source,
        raw_sha256=raw_sha256,
        raw_size=raw_size,
        message_id=message_id,
    )
    await uow.commit()
    return Received(outcome=outcome, ticket_id=ticket.id, ticket_number=ticket.number)


@dataclass(frozen=True, kw_only=True)
class OriginalEmail:
    filename: str
    data: bytes


async def original_email(
    uow: UnitOfWork, *, actor: Actor, ticket_id: int, message_id: int, store: AttachmentStore
) -> OriginalEmail:
    """The mail a message came from, byte for byte (headers, quoted history, every part),
    for an agent who needs more than the shown text. It holds personal data: audited."""
    actor.require(Permission.TICKETS_READ)
    record = await uow.session.scalar(
        select(EmailRecord).where(
            EmailRecord.message_id == message_id,
            EmailRecord.ticket_id == ticket_id,
            EmailRecord.direction == "in",
        )
    )
    if record is None or record.raw_sha256 is None:
        raise NotFound("this message did not come by email", field="message_id")
    data = await store.get(record.raw_sha256)
    audit.record(
        uow,
        actor=actor,
        action="email.original_viewed",
        entity_type="message",
        entity_id=message_id,
        details={"ticket_id": ticket_id},
    )
    await uow.commit()
    return OriginalEmail(filename=f"ticket-{ticket_id}-message-{message_id}.eml", data=data)


async def messages_from_email(uow: UnitOfWork, *, actor: Actor, message_ids: list[int]) -> set[int]:
    """Which of these messages came by email (their original can be opened)."""
    actor.require(Permission.TICKETS_READ)
    if not message_ids:
        return set()
    rows = await uow.session.scalars(
        select(EmailRecord.message_id).where(
            EmailRecord.message_id.in_(message_ids),
            EmailRecord.direction == "in",
            EmailRecord.raw_sha256.is_not(None),
        )
    )
    return {message_id for message_id in rows.all() if message_id is not None}


def _header_hint(raw: bytes, pattern: re.Pattern[bytes]) -> str | None:
    found = pattern.search(raw[: 64 * 1024])
    if found is None:
        return None
    return found.group(1).decode("utf-8", "replace").strip() or None


async def keep_unreadable_email(
    uow: UnitOfWork,
    *,
    raw: bytes,
    error: str,
    source: str,
    store: AttachmentStore,
    policies: InboundPolicies,
) -> Received:
    """A mail we accepted but cannot take (too big, not parseable): kept whole as a `.eml`
    on a ticket of its own, with the error, for an agent to look at. Commits."""
    rfc_message_id = fallback_message_id(raw)
    if await _seen_before(uow, rfc_message_id) is not None:
        return Received(outcome=Outcome.DUPLICATE)
    sender_hint = _header_hint(raw, _FROM_HEADER)
    try:
        sender = normalise_email(sender_hint, field="from") if sender_hint else None
    except DomainError:
        sender = None
    subject = (_header_hint(raw, _SUBJECT_HEADER) or NO_SUBJECT)[:200]
    player = await match_or_create_player(
        uow,
        actor=Actor.system(),
        external_id=None if sender else UNKNOWN_SENDER_ID,
        fields=PlayerFields(email=sender),
        policy=policies.players,
    )
    ticket = await open_ticket_in_transaction(
        uow,
        actor=Actor.system(),
        player=player,
        channel=Channel.EMAIL,
        subject=subject,
        language=player.language,
        routing_policy=policies.routing,
    )
    sha256 = await store.put(raw)
    # Not through store_attachment: the raw mail is kept whatever its size and type.
    original = Attachment(
        ticket_id=ticket.id,
        filename="original.eml",
        content_type="message/rfc822",
        size=len(raw),
        sha256=sha256,
        created_at=uow.clock.now(),
    )
    uow.session.add(original)
    await uow.session.flush()
    posted = await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        author=None,
        kind=MessageKind.NOTE,
        body=f"This email could not be read ({error}). The original is attached as original.eml.",
        client_msg_id=None,
        attachment_ids=[original.id],
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    _record(
        uow=uow,
        ticket_id=ticket.id,
        mail=None,
        rfc_message_id=rfc_message_id,
        kind=MailKind.MESSAGE,
        source=source,
        raw_sha256=sha256,
        raw_size=len(raw),
        message_id=posted.message.id,
        error=error[:2000],
        subject=subject,
        from_address=sender,
    )
    await uow.commit()
    return Received(outcome=Outcome.UNREADABLE, ticket_id=ticket.id, ticket_number=ticket.number)
