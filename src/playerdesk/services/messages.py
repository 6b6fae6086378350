"""Messages on a ticket: replies and internal notes, idempotent on the client's id."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert

from playerdesk.db.models import Attachment, BotTurn, Message, Ticket
from playerdesk.db.statements import insert_unless_conflict
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, BotState, MessageKind, TicketStatus
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.events import AttachmentRef, MessagePosted, QuickReply, TicketUpdated
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.redaction import redact_card_numbers
from playerdesk.domain.state import status_after_message
from playerdesk.services import routing, sla
from playerdesk.services.routing import RoutingPolicy

MAX_CLIENT_MSG_ID = 100
MAX_ATTACHMENTS_PER_MESSAGE = 10

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
BOT_TURNS: Table = BotTurn.__table__  # type: ignore[assignment]

# The hot path's statements are built once: building SQL expressions per call costs more
# CPU than the ORM adds to them (and a built statement keeps its cache key).
_TICKET_FOR_UPDATE = select(Ticket).where(Ticket.id == bindparam("ticket_id")).with_for_update()
# SET takes the parameters' other keys: the columns a message changes.
_UPDATE_TICKET = update(TICKETS).where(TICKETS.c.id == bindparam("target_ticket_id"))


@functools.cache
def _insert_message(dialect: str) -> Insert:
    return insert_unless_conflict(dialect, MESSAGES, on=["ticket_id", "client_msg_id"]).returning(
        MESSAGES.c.id
    )


@dataclass(frozen=True, kw_only=True)
class MessageLimits:
    max_chars: int


@dataclass(frozen=True, kw_only=True)
class PostedMessage:
    message: Message
    created: bool


def _check_body(body: str, *, limits: MessageLimits, has_attachments: bool) -> str:
    text = body.strip()
    if not text and not has_attachments:
        raise ValidationFailed("a message needs text or an attachment", field="body")
    if len(text) > limits.max_chars:
        raise ValidationFailed(f"at most {limits.max_chars} characters", field="body")
    return text


async def _existing(uow: UnitOfWork, *, ticket_id: int, client_msg_id: str) -> Message | None:
    return await uow.session.scalar(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.client_msg_id == client_msg_id)
        .options(selectinload(Message.attachments))
    )


async def _claim_attachments(
    uow: UnitOfWork, *, ticket_id: int, attachment_ids: list[int]
) -> list[Attachment]:
    wanted = list(dict.fromkeys(attachment_ids))
    if len(wanted) > MAX_ATTACHMENTS_PER_MESSAGE:
        raise ValidationFailed(
            f"at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments", field="attachment_ids"
        )
    if not wanted:
        return []
    found = list(
        (await uow.session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))).all()
    )
    usable = {
        item.id: item for item in found if item.ticket_id == ticket_id and item.message_id is None
    }
    missing = [attachment_id for attachment_id in wanted if attachment_id not in usable]
    if missing:
        raise ValidationFailed(
            f"attachments {missing} are not unused uploads on this ticket", field="attachment_ids"
        )
    return [usable[attachment_id] for attachment_id in wanted]


async def add_message(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    author_kind: AuthorKind,
    author: Actor | None,
    kind: MessageKind,
    body: str,
    client_msg_id: str | None,
    attachment_ids: list[int],
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
    quick_replies: Sequence[QuickReply] = (),
) -> PostedMessage:
    """Add a message inside the caller's transaction; the caller commits.

    The caller holds the ticket row locked (FOR UPDATE on PostgreSQL; SQLite's write lock).
    This is the hot path of live chat, so it speaks Core where the ORM adds nothing: one
    INSERT (a replayed `client_msg_id` inserts nothing) and one UPDATE of the ticket.
    """
    if client_msg_id is not None:
        if not 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID:
            raise ValidationFailed(f"1 to {MAX_CLIENT_MSG_ID} characters", field="client_msg_id")
        if attachment_ids:
            # A replay's attachments were claimed by the original: answer before checking them.
            existing = await _existing(uow, ticket_id=ticket.id, client_msg_id=client_msg_id)
            if existing is not None:
                return PostedMessage(message=existing, created=False)
    if kind is MessageKind.NOTE and author_kind not in (AuthorKind.AGENT, AuthorKind.SYSTEM):
        raise ValidationFailed("only agents write internal notes", field="kind")

    attachments = await _claim_attachments(uow, ticket_id=ticket.id, attachment_ids=attachment_ids)
    text, card_count = redact_card_numbers(
        _check_body(body, limits=limits, has_attachments=bool(attachments))
    )
    now: datetime = uow.clock.now()
    before_status = TicketStatus(ticket.status)
    after_status = status_after_message(before_status, author=author_kind, kind=kind)

    author_agent_id = author.agent_id if author is not None else None
    values = {
        "ticket_id": ticket.id,
        "author_kind": author_kind.value,
        "author_agent_id": author_agent_id,
        "kind": kind.value,
        "body": text,
        "redacted": card_count > 0,
        "client_msg_id": client_msg_id,
        "created_at": now,
        "quick_replies": [item.model_dump() for item in quick_replies] or None,
    }
    message_id = await uow.session.scalar(_insert_message(uow.dialect), values)
    if message_id is None:
        # The same client id was stored before (a resend), or by a concurrent request that
        # committed first: answer with that message.
        assert client_msg_id is not None
        existing = await _existing(uow, ticket_id=ticket.id, client_msg_id=client_msg_id)
        if existing is None:
            raise Conflict("the message could not be stored; retry", field="client_msg_id")
        return PostedMessage(message=existing, created=False)
    # The row is written; this object only carries it back to the caller.
    message = Message(id=message_id, **values)
    set_committed_value(message, "attachments", attachments)
    for attachment in attachments:
        attachment.message_id = message_id

    public_agent_reply = author_kind is AuthorKind.AGENT and kind is MessageKind.REPLY
    changes: dict[str, object] = {"updated_at": now}
    if public_agent_reply and ticket.first_response_at is None:
        changes["first_response_at"] = now
    if kind is MessageKind.REPLY:
        changes["last_message_at"] = now
    if after_status is not before_status:
        changes["status"] = after_status.value
        changes["resolved_at"] = None
    # SLA: a player message starts a wait unless one is running; a public agent reply ends
    # it (a bot reply does not). Kept on the ticket so that a chat's following messages
    # cost the clocks nothing.
    wait_starts = author_kind is AuthorKind.PLAYER and ticket.waiting_since is None
    wait_ends = public_agent_reply and ticket.waiting_since is not None
    if wait_starts:
        changes["waiting_since"] = now
    elif wait_ends:
        changes["waiting_since"] = None
    bot_answers = ticket.bot_state == BotState.ACTIVE.value
    if bot_answers and public_agent_reply:
        changes["bot_state"] = BotState.HANDED_OFF.value  # a person took the conversation
    await uow.session.execute(_UPDATE_TICKET, {"target_ticket_id": ticket.id, **changes})
    for key, value in changes.items():
        # Keep the loaded ticket in step with its row without marking it dirty.
        set_committed_value(ticket, key, value)
    announced: dict[str, list[str | int | None]] = {}
    if after_status is not before_status:
        await _status_moved(uow, ticket=ticket, before=before_status, policy=routing_policy)
        announced["status"] = [before_status.value, after_status.value]
    if "bot_state" in changes:
        announced["bot_state"] = [BotState.ACTIVE.value, BotState.HANDED_OFF.value]
    if announced:
        uow.publish_on_commit(
            TicketUpdated(
                occurred_at=now,
                ticket_id=ticket.id,
                player_id=ticket.player_id,
                changes=announced,
                status=ticket.status,
                priority=ticket.priority,
                team_id=ticket.team_id,
                assignee_id=ticket.assignee_id,
            )
        )
    if wait_starts:
        await sla.wait_started(uow, ticket=ticket)
    elif wait_ends:
        await sla.wait_answered(uow, ticket=ticket)
    if bot_answers and author_kind is AuthorKind.PLAYER:
        # The bot job answers it after the commit (services.bot).
        await uow.session.execute(
            insert(BOT_TURNS).values(
                ticket_id=ticket.id, message_id=message_id, created_at=now, due_at=now, attempts=0
            )
        )
    uow.publish_on_commit(
        MessagePosted(
            occurred_at=now,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            player_id=ticket.player_id,
            channel=ticket.channel,
            message_id=message_id,
            author_kind=author_kind.value,
            author_agent_id=author_agent_id,
            author_name=author.name if author is not None else None,
            kind=kind.value,
            body=text,
            attachments=[
                AttachmentRef(
                    id=item.id,
                    filename=item.filename,
                    content_type=item.content_type,
                    size=item.size,
                )
                for item in attachments
            ],
            client_msg_id=client_msg_id,
            assignee_id=ticket.assignee_id,
            team_id=ticket.team_id,
            quick_replies=list(quick_replies),
        )
    )
    return PostedMessage(message=message, created=True)


async def _status_moved(
    uow: UnitOfWork, *, ticket: Ticket, before: TicketStatus, policy: RoutingPolicy
) -> None:
    """A message moved the ticket (a player reopening it, a first reply taking it into
    work): clocks pause or resume, the load follows, a reopened one is routed again (unless
    the bot answers it: it routes when it hands over)."""
    await sla.status_changed(uow, ticket=ticket, before=before.value)
    await routing.settle_load(
        uow, ticket=ticket, previous_assignee_id=ticket.assignee_id, policy=policy
    )
    reopened = ticket.status == TicketStatus.OPEN.value and before is not TicketStatus.NEW
    if reopened and ticket.bot_state != BotState.ACTIVE.value:
        await routing.route_reopened(uow, ticket=ticket, policy=policy)


async def add_player_message(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    body: str,
    client_msg_id: str | None,
    attachment_ids: list[int],
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> PostedMessage:
    """A player's public message inside the caller's transaction; the caller commits."""
    return await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.PLAYER,
        author=None,
        kind=MessageKind.REPLY,
        body=body,
        client_msg_id=client_msg_id,
        attachment_ids=attachment_ids,
        limits=limits,
        routing_policy=routing_policy,
    )


async def ticket_for_update(uow: UnitOfWork, ticket_id: int) -> Ticket:
    ticket = await uow.session.scalar(_TICKET_FOR_UPDATE, {"ticket_id": ticket_id})
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    return ticket


async def post_player_message(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    body: str,
    client_msg_id: str | None,
    attachment_ids: list[int],
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> PostedMessage:
    """A player's message arriving through a channel (the channel adapter is the actor)."""
    actor.require(Permission.TICKETS_WRITE)
    ticket = await ticket_for_update(uow, ticket_id)
    posted = await add_player_message(
        uow,
        ticket=ticket,
        body=body,
        client_msg_id=client_msg_id,
        attachment_ids=attachment_ids,
        limits=limits,
        routing_policy=routing_policy,
    )
    if posted.created:
        await uow.commit()
    return posted


async def list_messages(
    uow: UnitOfWork, *, actor: Actor, ticket_id: int, include_notes: bool = True
) -> list[Message]:
    actor.require(Permission.TICKETS_READ)
    if await uow.session.get(Ticket, ticket_id) is None:
        raise NotFound("no such ticket", field="ticket_id")
    query = (
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .options(selectinload(Message.attachments))
        .order_by(Message.id)
    )
    if not include_notes:
        query = query.where(Message.kind == MessageKind.REPLY.value)
    return list((await uow.session.scalars(query)).all())
