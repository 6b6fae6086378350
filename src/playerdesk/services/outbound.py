"""Everything PlayerDesk sends goes through the outbox: a row written in the transaction
that decided to send, delivered afterwards by a job that retries with backoff and
dead-letters what keeps failing. Email is the first channel; messengers add theirs."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from babel.dates import format_timedelta
from sqlalchemy import BigInteger, bindparam, case, func, or_, select, update

from playerdesk.db.models import (
    Agent,
    AgentTeam,
    Attachment,
    ChannelIdentity,
    EmailRecord,
    Message,
    OutboxItem,
    OutboxProviderId,
    Player,
    SlaClockRow,
    Ticket,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AgentRole, AuthorKind, Channel
from playerdesk.domain.errors import NotFound, ValidationFailed
from playerdesk.domain.events import OutboxItemChanged, ReadReceipt
from playerdesk.domain.mail import (
    MailKind,
    OutboxStatus,
    is_made_up_message_id,
    subject_with_number,
)
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.sla import SlaMetric
from playerdesk.i18n import translations
from playerdesk.services import audit

log = structlog.get_logger(__name__)

# Channels whose replies are emails: a form is answered by mail, as is a chat left offline.
EMAIL_CHANNELS = frozenset({Channel.EMAIL.value, Channel.FORM.value})
# Channels answered in the player's messenger chat (the chat is their channel identity).
MESSENGER_CHANNELS = frozenset(
    {Channel.TELEGRAM.value, Channel.WHATSAPP.value, Channel.VIBER.value}
)
# Messengers whose sender delivers a reply's files (Telegram's sendDocument).
CHANNELS_WITH_FILES = frozenset({Channel.TELEGRAM.value})
MAX_REFERENCES = 20
# However many failures, the next attempt is at most this far away.
MAX_RETRY_DELAY = timedelta(hours=6)
# WhatsApp's customer-service window: a free-form reply only this long after the player's
# last message; later, only an approved template message reaches them.
WHATSAPP_SERVICE_WINDOW = timedelta(hours=24)


PROVIDER_ID_CHARS = 200  # outbox_provider_ids.provider_message_id


class Purpose:
    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"
    ESCALATION = "escalation"
    # The desk's own answer in a messenger chat (a greeting, a deep link confirmed...).
    NOTICE = "notice"


@dataclass(frozen=True, kw_only=True)
class MailPolicy:
    from_address: str
    from_name: str
    # Addresses that are ours (the sender address, aliases, polled mailboxes), lower-case.
    own_addresses: frozenset[str]
    acknowledgement_promise: str | None
    max_attempts: int
    first_retry: timedelta
    lease: timedelta
    max_bytes: int
    max_attachments: int
    # Where the console is reached from outside, for links in mails to staff (optional).
    public_url: str | None = None

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "playerdesk.localhost"

    def is_own_address(self, address: str | None) -> bool:
        return address is not None and address.lower() in self.own_addresses


def new_message_id(policy: MailPolicy) -> str:
    """A Message-ID of ours (without brackets): inbound mail answering it threads to the
    ticket, and mail that carries it back to us is recognised as our own."""
    return f"pd.{uuid.uuid4().hex}@{policy.domain}"


def is_our_message_id(message_id: str | None, *, policy: MailPolicy) -> bool:
    return (
        bool(message_id)
        and str(message_id).startswith("pd.")
        and str(message_id).endswith("@" + policy.domain)
    )


def retry_delay(*, attempts: int, first_retry: timedelta) -> timedelta:
    """Exponential backoff: the first retry after `first_retry`, then twice as long each."""
    delay: timedelta = first_retry * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY_DELAY)


# --- writing: inside the caller's transaction ------------------------------------------


async def _thread_of(uow: UnitOfWork, *, ticket_id: int) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for the next mail of a ticket: the newest mail the
    player sent (else the newest we sent), and the chain that led to it."""
    found = (
        await uow.session.scalars(
            select(EmailRecord)
            .where(EmailRecord.ticket_id == ticket_id, EmailRecord.error.is_(None))
            .order_by(EmailRecord.id.desc())
            .limit(20)
        )
    ).all()
    rows = [row for row in found if not is_made_up_message_id(row.rfc_message_id)]
    if not rows:
        return None, []
    inbound = [row for row in rows if row.direction == "in" and row.kind == MailKind.MESSAGE]
    parent = inbound[0] if inbound else rows[0]
    chain = [*parent.references, parent.rfc_message_id]
    return parent.rfc_message_id, list(dict.fromkeys(chain))[-MAX_REFERENCES:]


async def enqueue_email(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    player: Player,
    purpose: str,
    subject: str,
    text: str,
    html_body: str,
    attachments: list[Attachment],
    message_id: int | None,
    policy: MailPolicy,
    auto_submitted: bool = False,
) -> OutboxItem:
    """Write one email to the outbox and to the ticket's thread; the caller commits."""
    if not player.email:
        raise ValidationFailed("the player has no email address to answer", field="player")
    rfc_message_id = new_message_id(policy)
    in_reply_to, references = await _thread_of(uow, ticket_id=ticket.id)
    now = uow.clock.now()
    payload: dict[str, Any] = {
        "from": policy.from_address,
        "from_name": policy.from_name,
        "to": player.email,
        "to_name": player.name,
        "subject": subject,
        "text": text,
        "html": html_body,
        "message_id": rfc_message_id,
        "in_reply_to": in_reply_to,
        "references": references,
        "language": ticket.language,
        "auto_submitted": auto_submitted,
        "ticket_number": ticket.number,
        "attachments": [
            {"sha256": item.sha256, "filename": item.filename, "content_type": item.content_type}
            for item in attachments
        ],
    }
    item = OutboxItem(
        channel=Channel.EMAIL.value,
        purpose=purpose,
        ticket_id=ticket.id,
        message_id=message_id,
        recipient=player.email,
        idempotency_key=rfc_message_id,
        payload=payload,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(item)
    uow.session.add(
        EmailRecord(
            ticket_id=ticket.id,
            message_id=message_id,
            direction="out",
            rfc_message_id=rfc_message_id,
            in_reply_to=in_reply_to,
            references=references,
            from_address=policy.from_address,
            to_addresses=[player.email],
            subject=subject,
            kind=MailKind.MESSAGE.value,
            source="outbox",
            raw_size=0,
            created_at=now,
        )
    )
    await uow.session.flush()
    return item


def _paragraphs_html(text: str) -> str:
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + html.escape(block).replace("\n", "<br>") + "</p>" for block in blocks if block
    )


def _mail_html(*, language: str, body_html: str, footer: str) -> str:
    """The HTML alternative: the same words as the text part, escaped, in a plain frame."""
    return (
        f'<!DOCTYPE html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        '</head><body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;'
        'line-height:1.5;color:#1f2933">'
        f"{body_html}"
        '<hr style="border:none;border-top:1px solid #d9dee3;margin:24px 0 12px">'
        f'<p style="font-size:12px;color:#66717e">{html.escape(footer)}</p>'
        "</body></html>"
    )


async def send_agent_reply(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    message: Message,
    attachments: list[Attachment],
    policy: MailPolicy,
) -> OutboxItem | None:
    """An agent's public reply on a ticket answered by email becomes a mail to the player,
    in the ticket's language; other channels are answered where the player is."""
    if ticket.channel not in EMAIL_CHANNELS:
        return None
    player = await uow.session.get(Player, ticket.player_id)
    if player is None or not player.email:
        return None
    gettext = translations(ticket.language).gettext
    footer = gettext(
        "Ticket #{number}. Reply to this email to continue the conversation; keep the "
        "number in the subject."
    ).format(number=ticket.number)
    text = f"{message.body}\n\n-- \n{policy.from_name}\n{footer}\n"
    return await enqueue_email(
        uow,
        ticket=ticket,
        player=player,
        purpose=Purpose.REPLY,
        subject=subject_with_number(ticket.subject, number=ticket.number, reply=True),
        text=text,
        html_body=_mail_html(
            language=ticket.language,
            body_html=_paragraphs_html(message.body) + f"<p>{html.escape(policy.from_name)}</p>",
            footer=footer,
        ),
        attachments=attachments,
        message_id=message.id,
        policy=policy,
    )


async def send_messenger_reply(
    uow: UnitOfWork, *, ticket: Ticket, message: Message
) -> OutboxItem | None:
    """A public reply (an agent's or the bot's, with the bot's buttons) on a messenger
    conversation goes to the player's chat through the outbox, in the reply's transaction;
    other channels are answered elsewhere. The sender renders it for the provider."""
    if ticket.channel not in MESSENGER_CHANNELS:
        return None
    if message.attachments and ticket.channel not in CHANNELS_WITH_FILES:
        # Refused, not silently dropped: the agent learns it before the player misses it.
        raise ValidationFailed(
            f"replies on {ticket.channel} carry text only for now: send the file another way",
            field="attachment_ids",
        )
    chat = await uow.session.scalar(
        select(ChannelIdentity.address)
        .where(
            ChannelIdentity.player_id == ticket.player_id,
            ChannelIdentity.channel == ticket.channel,
        )
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )
    if chat is None:
        return None
    now = uow.clock.now()
    if ticket.channel == Channel.WHATSAPP.value and message.author_kind == AuthorKind.AGENT.value:
        closes_at = await whatsapp_window_closes_at(uow, ticket=ticket)
        if closes_at is None or closes_at <= now:
            # Meta refuses it (error 131047) after the send; the agent learns it now.
            raise ValidationFailed(
                "the player last wrote on WhatsApp more than 24 hours ago: outside "
                "WhatsApp's customer-service window only an approved template message can "
                "be sent",
                field="body",
            )
    item = OutboxItem(
        channel=ticket.channel,
        purpose=Purpose.REPLY,
        ticket_id=ticket.id,
        message_id=message.id,
        recipient=chat,
        idempotency_key=f"{ticket.channel}:message:{message.id}",
        payload={
            "chat_id": chat,
            "text": message.body,
            "quick_replies": [
                {"id": str(item["id"]), "label": str(item["label"])}
                for item in message.quick_replies or []
            ],
            "language": ticket.language,
            "ticket_number": ticket.number,
            # The sender reads the bytes from the attachment store when it sends.
            "attachments": [
                {
                    "sha256": item.sha256,
                    "filename": item.filename,
                    "content_type": item.content_type,
                }
                for item in message.attachments
            ],
        },
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(item)
    await uow.session.flush()
    return item


async def whatsapp_window_closes_at(uow: UnitOfWork, *, ticket: Ticket) -> datetime | None:
    """When WhatsApp's 24-hour customer-service window of this conversation closes (the
    player's last message plus 24 hours); None when the player never wrote on it or the
    conversation is not on WhatsApp."""
    if ticket.channel != Channel.WHATSAPP.value:
        return None
    last: datetime | None = await uow.session.scalar(
        select(func.max(Message.created_at)).where(
            Message.ticket_id == ticket.id, Message.author_kind == AuthorKind.PLAYER.value
        )
    )
    if last is None:
        return None
    return last + WHATSAPP_SERVICE_WINDOW


async def _first_response_target(uow: UnitOfWork, *, ticket_id: int) -> timedelta | None:
    seconds = await uow.session.scalar(
        select(SlaClockRow.target_seconds).where(
            SlaClockRow.ticket_id == ticket_id,
            SlaClockRow.metric == SlaMetric.FIRST_RESPONSE.value,
            SlaClockRow.cancelled.is_(False),
        )
    )
    return timedelta(seconds=seconds) if seconds else None


async def acknowledge_new_ticket(
    uow: UnitOfWork, *, ticket: Ticket, player: Player, policy: MailPolicy
) -> OutboxItem | None:
    """The mail that tells a player their request arrived: its number and when to expect
    an answer (the first-response target of the ticket's SLA policy), in their language."""
    if not player.email:
        return None
    gettext = translations(ticket.language).gettext
    target = await _first_response_target(uow, ticket_id=ticket.id)
    if target is not None:
        promise = gettext("We will answer within {duration}.").format(
            duration=format_timedelta(target, locale=ticket.language, threshold=2)
        )
    else:
        promise = policy.acknowledgement_promise or gettext("We will answer as soon as we can.")
    greeting = (
        gettext("Hello {name},").format(name=player.name) if player.name else gettext("Hello,")
    )
    body = "\n\n".join(
        [
            greeting,
            gettext("Thank you for contacting us. Your request has the number #{number}.").format(
                number=ticket.number
            ),
            promise,
            gettext("To add something, reply to this email and keep the number in the subject."),
        ]
    )
    footer = gettext("This is an automatic confirmation.")
    return await enqueue_email(
        uow,
        ticket=ticket,
        player=player,
        purpose=Purpose.ACKNOWLEDGEMENT,
        subject=subject_with_number(ticket.subject, number=ticket.number, reply=True),
        text=f"{body}\n\n-- \n{policy.from_name}\n{footer}\n",
        html_body=_mail_html(
            language=ticket.language,
            body_html=_paragraphs_html(body) + f"<p>{html.escape(policy.from_name)}</p>",
            footer=footer,
        ),
        attachments=[],
        message_id=None,
        policy=policy,
        auto_submitted=True,
    )


async def notify_supervisors_of_escalation(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    level: int,
    reason: str,
    policy: MailPolicy,
) -> list[OutboxItem]:
    """Mail the supervisors of the ticket's team (all supervisors when the team has none)
    that it was escalated, each in their first language. Not part of the player's thread:
    nothing is recorded in it."""
    supervisors = select(Agent).where(
        Agent.role == AgentRole.SUPERVISOR.value, Agent.is_active.is_(True)
    )
    recipients: list[Agent] = []
    if ticket.team_id is not None:
        recipients = list(
            (
                await uow.session.scalars(
                    supervisors.join(AgentTeam, AgentTeam.agent_id == Agent.id).where(
                        AgentTeam.team_id == ticket.team_id
                    )
                )
            ).all()
        )
    if not recipients:
        recipients = list((await uow.session.scalars(supervisors)).all())
    now = uow.clock.now()
    items: list[OutboxItem] = []
    for agent in recipients:
        language = agent.languages[0] if agent.languages else "en"
        gettext = translations(language).gettext
        subject = gettext("Escalated: #{number} {subject}").format(
            number=ticket.number, subject=ticket.subject
        )
        lines = [
            gettext("Ticket #{number} was escalated to level {level}.").format(
                number=ticket.number, level=level
            ),
            gettext("Reason: {reason}").format(reason=reason),
            gettext("Priority: {priority}").format(priority=ticket.priority),
        ]
        if policy.public_url:
            lines.append(f"{policy.public_url.rstrip('/')}/console/tickets/{ticket.id}")
        text = "\n".join(lines)
        rfc_message_id = new_message_id(policy)
        item = OutboxItem(
            channel=Channel.EMAIL.value,
            purpose=Purpose.ESCALATION,
            ticket_id=ticket.id,
            message_id=None,
            recipient=agent.email,
            idempotency_key=rfc_message_id,
            payload={
                "from": policy.from_address,
                "from_name": policy.from_name,
                "to": agent.email,
                "to_name": agent.name,
                "subject": subject,
                "text": text + "\n",
                "html": _mail_html(
                    language=language, body_html=_paragraphs_html(text), footer=policy.from_name
                ),
                "message_id": rfc_message_id,
                "in_reply_to": None,
                "references": [],
                "language": language,
                "auto_submitted": True,
                "ticket_number": ticket.number,
                "attachments": [],
            },
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        uow.session.add(item)
        items.append(item)
    return items


# --- delivering: the job's side ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A claimed outbox row, detached from its session for the sender."""

    id: int
    channel: str
    recipient: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    # This attempt follows one that a worker started but never finished (it crashed).
    resumed: bool


def _due(now: datetime) -> Any:
    return or_(
        (OutboxItem.status == OutboxStatus.PENDING.value) & (OutboxItem.next_attempt_at <= now),
        (OutboxItem.status == OutboxStatus.SENDING.value) & (OutboxItem.lease_until <= now),
    )


async def claim_due(
    uow: UnitOfWork, *, policy: MailPolicy, limit: int = 20, channels: frozenset[str] | None = None
) -> list[Delivery]:
    """Take up to `limit` due rows for this worker and commit the lease, so other workers
    (FOR UPDATE SKIP LOCKED on PostgreSQL) and a restarted one leave them alone until it
    ends. A row whose lease ran out was being sent when its worker died: it goes again,
    with the same idempotency key."""
    now = uow.clock.now()
    query = select(OutboxItem).where(_due(now)).order_by(OutboxItem.next_attempt_at).limit(limit)
    if channels is not None:
        query = query.where(OutboxItem.channel.in_(channels))
    if uow.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await uow.session.scalars(query)).all())
    deliveries: list[Delivery] = []
    for row in rows:
        resumed = row.status == OutboxStatus.SENDING.value
        row.status = OutboxStatus.SENDING.value
        row.attempts += 1
        row.lease_until = now + policy.lease
        deliveries.append(
            Delivery(
                id=row.id,
                channel=row.channel,
                recipient=row.recipient,
                idempotency_key=row.idempotency_key,
                payload=dict(row.payload),
                attempts=row.attempts,
                resumed=resumed,
            )
        )
    if deliveries:
        await uow.commit()
    return deliveries


async def _held(uow: UnitOfWork, *, item_id: int) -> OutboxItem | None:
    """The row, if this attempt still holds it (an admin may have retried it meanwhile)."""
    row = await uow.session.get(OutboxItem, item_id, with_for_update=True)
    if row is None or row.status != OutboxStatus.SENDING.value:
        return None
    return row


def _changed(uow: UnitOfWork, row: OutboxItem) -> None:
    uow.publish_on_commit(
        OutboxItemChanged(
            occurred_at=uow.clock.now(),
            outbox_id=row.id,
            ticket_id=row.ticket_id,
            message_id=row.message_id,
            channel=row.channel,
            status=row.status,
            attempts=row.attempts,
            error=row.last_error,
        )
    )


async def record_sent(uow: UnitOfWork, *, item_id: int, provider_message_id: str | None) -> bool:
    row = await _held(uow, item_id=item_id)
    if row is None:
        return False
    row.status = OutboxStatus.SENT.value
    row.sent_at = uow.clock.now()
    row.lease_until = None
    row.provider_message_id = provider_message_id
    # A reply sent in parts has one id per part, comma-separated: each can be reported on.
    # (Messenger ids are short; a longer one, an email server's, is never reported on.)
    for part in (provider_message_id or "").split(","):
        part_id = part.strip()
        if part_id and len(part_id) <= PROVIDER_ID_CHARS:
            uow.session.add(
                OutboxProviderId(outbox_id=row.id, channel=row.channel, provider_message_id=part_id)
            )
    _changed(uow, row)
    await uow.commit()
    return True


async def record_failure(
    uow: UnitOfWork,
    *,
    item_id: int,
    error: str,
    permanent: bool,
    bad_address: bool = False,
    policy: MailPolicy,
) -> OutboxStatus | None:
    """A failed attempt: retried later with backoff, or dead-lettered when the failure is
    permanent (the message was refused) or the attempts are used up; a refused address is
    marked failing for the agents."""
    row = await _held(uow, item_id=item_id)
    if row is None:
        return None
    now = uow.clock.now()
    row.last_error = error[:2000]
    row.lease_until = None
    if permanent or row.attempts >= policy.max_attempts:
        row.status = OutboxStatus.DEAD.value
        row.dead_at = now
        if bad_address:
            await mark_address_failing(
                uow, channel=row.channel, address=row.recipient, reason=row.last_error
            )
    else:
        row.status = OutboxStatus.PENDING.value
        row.next_attempt_at = now + retry_delay(
            attempts=row.attempts, first_retry=policy.first_retry
        )
    _changed(uow, row)
    await uow.commit()
    return OutboxStatus(row.status)


# What a messenger may report on a message we sent, as the desk records it: `seen` is
# Viber's word for WhatsApp's `read`.
DELIVERED_STATES = frozenset({"delivered"})
READ_STATES = frozenset({"read", "seen"})


def _raised(column: Any, name: str) -> Any:
    """The watermark moved up to the parameter `name`, never down."""
    value = bindparam(name, type_=BigInteger())
    return case((func.coalesce(column, 0) < value, value), else_=column)


# One statement that only matches when a watermark moves, returning what the event needs.
# Reading a message implies it arrived, so `read` raises both.
_PLAYER_RECEIPT_UPDATE = (
    update(Ticket)
    .where(
        Ticket.id == bindparam("ticket_id"),
        or_(
            func.coalesce(Ticket.player_delivered_up_to, 0)
            < bindparam("delivered_up_to", type_=BigInteger()),
            func.coalesce(Ticket.player_read_up_to, 0)
            < bindparam("read_up_to", type_=BigInteger()),
        ),
    )
    .values(
        player_delivered_up_to=_raised(Ticket.player_delivered_up_to, "delivered_up_to"),
        player_read_up_to=_raised(Ticket.player_read_up_to, "read_up_to"),
    )
    .returning(Ticket.player_id, Ticket.player_delivered_up_to, Ticket.player_read_up_to)
    .execution_options(synchronize_session=False)
)


async def _raise_player_receipts(
    uow: UnitOfWork, *, ticket_id: int, message_id: int, read: bool
) -> bool:
    """The player's messenger received (or showed) our messages up to `message_id`: the
    ticket's watermarks, the same the widget's receipts move, rise to it and never fall.
    The console hears it as it hears the widget's. False when nothing moved."""
    row = (
        await uow.session.execute(
            _PLAYER_RECEIPT_UPDATE,
            {
                "ticket_id": ticket_id,
                "delivered_up_to": message_id,
                "read_up_to": message_id if read else 0,
            },
        )
    ).first()
    if row is None:
        return False
    uow.publish_on_commit(
        ReadReceipt(
            occurred_at=uow.clock.now(),
            ticket_id=ticket_id,
            player_id=row.player_id,
            side="player",
            delivered_up_to=row.player_delivered_up_to,
            read_up_to=row.player_read_up_to,
        )
    )
    return True


async def _reported_row(
    uow: UnitOfWork, *, channel: str, provider_message_id: str
) -> OutboxItem | None:
    """The outbox row that sent this provider message (locked)."""
    found = await uow.session.scalars(
        select(OutboxItem)
        .join(OutboxProviderId, OutboxProviderId.outbox_id == OutboxItem.id)
        .where(
            OutboxProviderId.channel == channel,
            OutboxProviderId.provider_message_id == provider_message_id,
        )
        .order_by(OutboxItem.id.desc())
        .limit(1)
        .with_for_update(of=OutboxItem)
    )
    return found.first()


async def record_provider_status(
    uow: UnitOfWork, *, channel: str, provider_message_id: str, status: str, error: str | None
) -> str:
    """A messenger's report on a message we sent (WhatsApp: sent, delivered, read, failed;
    Viber: delivered, seen, failed), committed.

    `delivered` and `read` (`seen`) raise the ticket's receipt watermarks to the reply the
    outbox row carried (read implies delivered; never lowered, so a late or repeated report
    changes nothing), and the console shows them under the reply. A failure after the send
    dead-letters the row with the provider's reason, so the agent sees it under the reply.
    Anything else (`sent`: the row already says so) is only logged. Returns what was done,
    for the caller's log: unknown, delivered, read, failed, unchanged or logged."""
    row = await _reported_row(uow, channel=channel, provider_message_id=provider_message_id)
    if row is None:
        log.info("provider_status_unknown_message", channel=channel, status=status)
        return "unknown"
    if status in DELIVERED_STATES or status in READ_STATES:
        read = status in READ_STATES
        moved = (
            row.ticket_id is not None
            and row.message_id is not None
            and await _raise_player_receipts(
                uow, ticket_id=row.ticket_id, message_id=row.message_id, read=read
            )
        )
        await uow.commit()
        outcome = ("read" if read else "delivered") if moved else "unchanged"
        log.info(
            "provider_status", channel=channel, outbox_id=row.id, status=status, outcome=outcome
        )
        return outcome
    if status != "failed":
        log.info("provider_status", channel=channel, outbox_id=row.id, status=status)
        return "logged"
    if row.status == OutboxStatus.DEAD.value:
        return "unchanged"
    now = uow.clock.now()
    row.status = OutboxStatus.DEAD.value
    row.dead_at = now
    row.lease_until = None
    row.last_error = (error or f"{channel} reported the message failed")[:2000]
    _changed(uow, row)
    await uow.commit()
    log.info("provider_status_failed", channel=channel, outbox_id=row.id)
    return "failed"


async def mark_address_failing(
    uow: UnitOfWork, *, channel: str, address: str, reason: str | None
) -> int:
    """Deliveries to this address fail (refused, bounced): the console warns the agent.
    Returns how many identities were marked."""
    result = await uow.session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
        .values(delivery_failed_at=uow.clock.now(), delivery_failure=(reason or "")[:500])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True)
class DeliveryState:
    status: str
    attempts: int
    error: str | None


async def delivery_states(
    uow: UnitOfWork, *, actor: Actor, message_ids: list[int]
) -> dict[int, DeliveryState]:
    """How the outbound copies of these messages fared (the console shows it under each
    reply); messages that went nowhere else are absent."""
    actor.require(Permission.TICKETS_READ)
    if not message_ids:
        return {}
    rows = await uow.session.execute(
        select(OutboxItem.message_id, OutboxItem.status, OutboxItem.attempts, OutboxItem.last_error)
        .where(OutboxItem.message_id.in_(message_ids))
        .order_by(OutboxItem.id)
    )
    return {
        message_id: DeliveryState(status=status, attempts=attempts, error=error)
        for message_id, status, attempts, error in rows.all()
        if message_id is not None
    }


@dataclass(frozen=True, kw_only=True)
class AddressFailure:
    address: str
    since: datetime
    reason: str | None


async def failing_address(
    uow: UnitOfWork, *, actor: Actor, ticket: Ticket
) -> AddressFailure | None:
    """The player's email address, when mail to it bounced or was refused: replies on a
    ticket answered by email may not reach them."""
    actor.require(Permission.TICKETS_READ)
    if ticket.channel not in EMAIL_CHANNELS:
        return None
    identity = await uow.session.scalar(
        select(ChannelIdentity)
        .join(Player, Player.email == ChannelIdentity.address)
        .where(
            Player.id == ticket.player_id,
            ChannelIdentity.channel == Channel.EMAIL.value,
            ChannelIdentity.delivery_failed_at.is_not(None),
        )
    )
    if identity is None or identity.delivery_failed_at is None:
        return None
    return AddressFailure(
        address=identity.address,
        since=identity.delivery_failed_at,
        reason=identity.delivery_failure,
    )


# --- admins --------------------------------------------------------------------------


async def list_outbox(
    uow: UnitOfWork, *, actor: Actor, status: OutboxStatus | None, limit: int = 100
) -> list[OutboxItem]:
    actor.require(Permission.CHANNELS_MANAGE)
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxItem.status == status.value)
    return list((await uow.session.scalars(query)).all())


async def outbox_counts(uow: UnitOfWork, *, actor: Actor) -> dict[str, int]:
    actor.require(Permission.CHANNELS_MANAGE)
    rows = await uow.session.execute(
        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    )
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({str(status): int(count) for status, count in rows.all()})
    return counts


async def retry_dead(uow: UnitOfWork, *, actor: Actor, item_id: int) -> OutboxItem:
    """An admin sends a dead-lettered message again (after fixing the address or the
    server): attempts start over."""
    actor.require(Permission.CHANNELS_MANAGE)
    row = await uow.session.get(OutboxItem, item_id, with_for_update=True)
    if row is None:
        raise NotFound("no such outbox message", field="outbox_id")
    if row.status != OutboxStatus.DEAD.value:
        raise ValidationFailed("only a dead-lettered message is retried", field="outbox_id")
    now = uow.clock.now()
    await uow.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == row.id)
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=now, dead_at=None)
    )
    await uow.session.refresh(row)
    audit.record(
        uow,
        actor=actor,
        action="outbox.retried",
        entity_type="outbox",
        entity_id=row.id,
        details={"channel": row.channel, "ticket_id": row.ticket_id},
    )
    _changed(uow, row)
    await uow.commit()
    return row
