"""Live chat: the player's widget conversation, receipts, typing and agent presence."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Update,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from playerdesk.clock import Clock
from playerdesk.db.models import Agent, Attachment, ChannelIdentity, Message, Player, Ticket
from playerdesk.db.uow import Publisher, UnitOfWork
from playerdesk.domain.enums import Channel, MessageKind, Presence, TicketStatus
from playerdesk.domain.errors import NotFound, PermissionDenied, ValidationFailed
from playerdesk.domain.events import PresenceChanged, ReadReceipt, TypingChanged
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit, outbound, routing
from playerdesk.services import tickets as ticket_service
from playerdesk.services.attachments import AttachmentContent, AttachmentPolicy, store_attachment
from playerdesk.services.floor_config import floor_config
from playerdesk.services.messages import MessageLimits, PostedMessage, add_player_message
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.players import (
    PlayerFields,
    PlayerPolicy,
    attach_email,
    match_or_create_player,
)
from playerdesk.services.routing import RoutingPolicy
from playerdesk.storage.attachments import AttachmentStore

SUBJECT_CHARS = 80
HISTORY_LIMIT = 500


@dataclass(frozen=True, kw_only=True)
class WidgetIdentity:
    """Who is behind a widget: an anonymous visitor, or a casino player the casino vouched
    for (identity verification). Exactly one is set."""

    visitor_id: str | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        if (self.visitor_id is None) == (self.external_id is None):
            raise ValueError("a widget identity is a visitor or a verified player")


@dataclass(frozen=True, kw_only=True)
class Conversation:
    player_id: int | None
    ticket: Ticket | None


async def _find_player(uow: UnitOfWork, identity: WidgetIdentity) -> Player | None:
    if identity.external_id is not None:
        return await uow.session.scalar(
            select(Player).where(Player.external_id == identity.external_id)
        )
    return await uow.session.scalar(
        select(Player)
        .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
        .where(
            ChannelIdentity.channel == Channel.WEB_CHAT.value,
            ChannelIdentity.address == identity.visitor_id,
        )
    )


async def _find_or_create_player(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    fields: PlayerFields,
    policy: PlayerPolicy,
) -> Player:
    player = await _find_player(uow, identity)
    if player is not None:
        return player
    if identity.external_id is not None:
        return await match_or_create_player(
            uow,
            actor=Actor.system(),
            external_id=identity.external_id,
            fields=fields,
            policy=policy,
        )
    now = uow.clock.now()
    player = Player(
        language=fields.language or policy.default_language,
        name=fields.name,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(player)
    await uow.session.flush()
    assert identity.visitor_id is not None
    uow.session.add(
        ChannelIdentity(
            player_id=player.id,
            channel=Channel.WEB_CHAT.value,
            address=identity.visitor_id,
            created_at=now,
        )
    )
    return player


async def widget_player(
    uow: UnitOfWork, *, identity: WidgetIdentity, fields: PlayerFields, policy: PlayerPolicy
) -> Player:
    """The player behind a widget, made if they have none yet. Flushes; never commits."""
    return await _find_or_create_player(uow, identity=identity, fields=fields, policy=policy)


def _open_chats() -> Select[Ticket]:
    """Web-chat tickets that are not closed, newest first: a player's live conversation is
    the first of theirs."""
    return (
        select(Ticket)
        .where(
            Ticket.channel == Channel.WEB_CHAT.value,
            Ticket.status != TicketStatus.CLOSED.value,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


async def _open_chat(uow: UnitOfWork, player_id: int, *, for_update: bool = False) -> Ticket | None:
    """The player's live conversation: the newest web-chat ticket that is not closed."""
    query = _open_chats().where(Ticket.player_id == player_id)
    if for_update:
        query = query.with_for_update()
    return await uow.session.scalar(query)


async def _identity_open_chat(
    uow: UnitOfWork, identity: WidgetIdentity, *, for_update: bool
) -> Ticket | None:
    """The identity's live conversation in one statement (the identity joined to tickets),
    locked for writing when asked. None when there is no player or no open chat."""
    verified = identity.external_id is not None
    return await uow.session.scalar(
        _identity_open_chat_query(verified=verified, for_update=for_update),
        {"identity": identity.external_id if verified else identity.visitor_id},
    )


# Statements of the hot path are built once (see services/messages.py), with the
# identity as the bound parameter `identity`.
@functools.cache
def _identity_open_chat_query(*, verified: bool, for_update: bool = False) -> Select[Ticket]:
    query = _open_chats()
    if verified:
        query = query.join(Player, Player.id == Ticket.player_id).where(
            Player.external_id == bindparam("identity")
        )
    else:
        query = query.join(ChannelIdentity, ChannelIdentity.player_id == Ticket.player_id).where(
            ChannelIdentity.channel == Channel.WEB_CHAT.value,
            ChannelIdentity.address == bindparam("identity"),
        )
    if for_update:
        query = query.with_for_update(of=Ticket)
    return query


async def find_conversation(uow: UnitOfWork, *, identity: WidgetIdentity) -> Conversation:
    ticket = await _identity_open_chat(uow, identity, for_update=False)
    if ticket is not None:
        return Conversation(player_id=ticket.player_id, ticket=ticket)
    player = await _find_player(uow, identity)
    return Conversation(player_id=player.id if player else None, ticket=None)


async def conversation_history(
    uow: UnitOfWork, *, identity: WidgetIdentity, after_id: int
) -> tuple[Conversation, list[Message]]:
    """What the widget shows: public messages of the live conversation after `after_id`,
    oldest first; when more than HISTORY_LIMIT are missing, the newest of them."""
    conversation = await find_conversation(uow, identity=identity)
    if conversation.ticket is None:
        return conversation, []
    rows = await uow.session.scalars(
        select(Message)
        .where(
            Message.ticket_id == conversation.ticket.id,
            Message.kind == MessageKind.REPLY.value,
            Message.id > after_id,
        )
        .options(selectinload(Message.attachments))
        .order_by(Message.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return conversation, list(reversed(rows.all()))


def _subject_from(body: str, *, fallback: str) -> str:
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    if not first_line:
        return fallback
    return first_line if len(first_line) <= SUBJECT_CHARS else first_line[: SUBJECT_CHARS - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class WidgetPost:
    ticket: Ticket
    posted: PostedMessage


async def post_widget_message(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    body: str,
    client_msg_id: str | None,
    attachment_ids: list[int],
    claimed_ticket_id: int | None,
    fields: PlayerFields,
    policy: PlayerPolicy,
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> WidgetPost:
    """A player's chat message: into the live conversation, or a new one when there is none.

    `claimed_ticket_id` is the conversation the widget believes it is in; a message aimed at
    someone else's ticket is refused and audited.
    """
    ticket = await _identity_open_chat(uow, identity, for_update=True)
    if claimed_ticket_id is not None and (ticket is None or ticket.id != claimed_ticket_id):
        # The widget may still show a conversation of its own that was closed meanwhile:
        # that is not an attack, the message simply starts a new conversation below.
        player = await _find_player(uow, identity)
        owner = await uow.session.scalar(
            select(Ticket.player_id).where(Ticket.id == claimed_ticket_id)
        )
        if player is None or owner != player.id:
            await _refuse_foreign_ticket(
                uow, player_id=player.id if player else None, ticket_id=claimed_ticket_id
            )
    if ticket is None:
        ticket = await _start_conversation(
            uow,
            identity=identity,
            fields=fields,
            policy=policy,
            subject=_subject_from(body, fallback="Chat"),
            routing_policy=routing_policy,
        )
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
    return WidgetPost(ticket=ticket, posted=posted)


async def _conversation_for_writing(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    fields: PlayerFields,
    policy: PlayerPolicy,
    subject: str,
    routing_policy: RoutingPolicy,
) -> Ticket:
    ticket = await _identity_open_chat(uow, identity, for_update=True)
    if ticket is not None:
        return ticket
    return await _start_conversation(
        uow,
        identity=identity,
        fields=fields,
        policy=policy,
        subject=subject,
        routing_policy=routing_policy,
    )


async def _start_conversation(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    fields: PlayerFields,
    policy: PlayerPolicy,
    subject: str,
    routing_policy: RoutingPolicy,
) -> Ticket:
    """No open chat for the identity yet: the player (found or created) gets a new one."""
    player = await _find_or_create_player(uow, identity=identity, fields=fields, policy=policy)
    ticket = await _open_chat(uow, player.id, for_update=True)
    if ticket is not None:
        return ticket  # opened meanwhile by a concurrent first message
    return await ticket_service.open_ticket_in_transaction(
        uow,
        actor=Actor.system(),
        player=player,
        channel=Channel.WEB_CHAT,
        subject=subject,
        language=player.language,
        routing_policy=routing_policy,
    )


async def upload_widget_attachment(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    store: AttachmentStore,
    attachment_policy: AttachmentPolicy,
    player_policy: PlayerPolicy,
    fields: PlayerFields,
    filename: str,
    data: bytes,
    routing_policy: RoutingPolicy,
) -> Attachment:
    """A player's upload (an ID document, a screenshot) into their conversation."""
    ticket = await _conversation_for_writing(
        uow,
        identity=identity,
        fields=fields,
        policy=player_policy,
        subject=filename,
        routing_policy=routing_policy,
    )
    attachment = await store_attachment(
        uow,
        actor=Actor.system(),
        store=store,
        policy=attachment_policy,
        ticket_id=ticket.id,
        filename=filename,
        data=data,
    )
    await uow.commit()
    return attachment


async def download_widget_attachment(
    uow: UnitOfWork, *, identity: WidgetIdentity, store: AttachmentStore, attachment_id: int
) -> AttachmentContent:
    """Only files of the player's own tickets; anything else looks like it does not exist."""
    player = await _find_player(uow, identity)
    attachment = await uow.session.get(Attachment, attachment_id)
    owner = await uow.session.get(Ticket, attachment.ticket_id) if attachment else None
    if attachment is None or player is None or owner is None or owner.player_id != player.id:
        raise NotFound("no such attachment", field="attachment_id")
    data = await store.get(attachment.sha256)
    audit.record(
        uow,
        actor=Actor.system(),
        action="attachment.downloaded",
        entity_type="attachment",
        entity_id=attachment.id,
        details={"ticket_id": attachment.ticket_id, "by": "player"},
    )
    await uow.commit()
    return AttachmentContent(attachment=attachment, data=data)


async def _refuse_foreign_ticket(uow: UnitOfWork, *, player_id: int | None, ticket_id: int) -> None:
    audit.record(
        uow,
        actor=Actor.system(),
        action="widget.foreign_ticket_refused",
        entity_type="ticket",
        entity_id=ticket_id,
        details={"player_id": player_id},
    )
    await uow.commit()
    raise PermissionDenied("this conversation is not yours", field="ticket_id")


def _raised_to(column: InstrumentedAttribute[int | None], name: str) -> ColumnElement[int | None]:
    """The watermark moved up to the parameter `name`, never down."""
    value = bindparam(name, type_=BigInteger())
    return case((func.coalesce(column, 0) < value, value), else_=column)


@functools.cache
def _player_receipt_update(*, verified: bool, delivered: bool, read: bool) -> Update:
    """UPDATE the identity's open chat's watermarks, only where one moves, RETURNING them."""
    values: dict[str, ColumnElement[int | None]] = {}
    moves: list[ColumnElement[bool]] = []
    for column, given in (
        (Ticket.player_delivered_up_to, delivered),
        (Ticket.player_read_up_to, read),
    ):
        if given:
            values[column.key] = _raised_to(column, f"new_{column.key}")
            moves.append(func.coalesce(column, 0) < bindparam(f"new_{column.key}"))
    open_chat = (
        _identity_open_chat_query(verified=verified).with_only_columns(Ticket.id).scalar_subquery()
    )
    return (
        update(Ticket)
        .where(Ticket.id == open_chat, or_(*moves))
        .values(values)
        .returning(
            Ticket.id, Ticket.player_id, Ticket.player_delivered_up_to, Ticket.player_read_up_to
        )
        .execution_options(synchronize_session=False)
    )


async def record_player_receipt(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    delivered_up_to: int | None,
    read_up_to: int | None,
) -> None:
    """The widget received / showed agent messages up to these ids. Watermarks only grow.

    Receipts come with nearly every message, so this is one UPDATE of the identity's open
    chat that only matches when a watermark moves, returning what the event needs."""
    if read_up_to is not None:
        delivered_up_to = max(delivered_up_to or 0, read_up_to)
    if delivered_up_to is None and read_up_to is None:
        return
    verified = identity.external_id is not None
    statement = _player_receipt_update(
        verified=verified, delivered=delivered_up_to is not None, read=read_up_to is not None
    )
    parameters: dict[str, object] = {
        "identity": identity.external_id if verified else identity.visitor_id
    }
    if delivered_up_to is not None:
        parameters["new_player_delivered_up_to"] = delivered_up_to
    if read_up_to is not None:
        parameters["new_player_read_up_to"] = read_up_to
    row = (await uow.session.execute(statement, parameters)).first()
    if row is None:
        return  # no open chat, or nothing moved
    uow.publish_on_commit(
        ReadReceipt(
            occurred_at=uow.clock.now(),
            ticket_id=row.id,
            player_id=row.player_id,
            side="player",
            delivered_up_to=row.player_delivered_up_to,
            read_up_to=row.player_read_up_to,
        )
    )
    await uow.commit()


_AGENT_READ_UPDATE = (
    update(Ticket)
    .where(
        Ticket.id == bindparam("ticket_id"),
        func.coalesce(Ticket.agent_read_up_to, 0) < bindparam("read_up_to", type_=BigInteger()),
    )
    .values(agent_read_up_to=bindparam("read_up_to"))
    .returning(Ticket.player_id)
    .execution_options(synchronize_session=False)
)


async def record_agent_read(
    uow: UnitOfWork, *, actor: Actor, ticket_id: int, read_up_to: int
) -> None:
    actor.require(Permission.TICKETS_READ)
    player_id = await uow.session.scalar(
        _AGENT_READ_UPDATE, {"ticket_id": ticket_id, "read_up_to": read_up_to}
    )
    if player_id is None:
        if await uow.session.scalar(select(Ticket.id).where(Ticket.id == ticket_id)) is None:
            raise NotFound("no such ticket", field="ticket_id")
        return  # already read that far
    uow.publish_on_commit(
        ReadReceipt(
            occurred_at=uow.clock.now(),
            ticket_id=ticket_id,
            player_id=player_id,
            side="agent",
            delivered_up_to=None,
            read_up_to=read_up_to,
        )
    )
    await uow.commit()


async def signal_typing(
    *,
    publish: Publisher,
    clock: Clock,
    ticket_id: int,
    player_id: int,
    side: Literal["player", "agent"],
    agent_id: int | None,
    typing: bool,
) -> None:
    """Typing is relayed, never stored: no transaction, straight to the bus."""
    await publish(
        TypingChanged(
            occurred_at=clock.now(),
            ticket_id=ticket_id,
            player_id=player_id,
            side=side,
            agent_id=agent_id,
            typing=typing,
        )
    )


async def set_presence(
    uow: UnitOfWork, *, actor: Actor, presence: Presence | None, routing_policy: RoutingPolicy
) -> Presence:
    """An agent goes online, away or offline. `None` is a heartbeat from an open console:
    the agent is still there, in whatever presence they chose. Returns the presence.

    Coming online (or back from a stale console) serves the agent's queues at once; going
    offline hands their live conversations back to routing. Away keeps what they have and
    takes nothing new."""
    if actor.agent_id is None:
        raise ValidationFailed("only agents have a presence", field="presence")
    agent = await uow.session.get(Agent, actor.agent_id)
    if agent is None:
        raise NotFound("no such agent", field="agent_id")
    now = uow.clock.now()
    was_reachable = (
        agent.presence == Presence.ONLINE.value
        and agent.last_seen_at is not None
        and agent.last_seen_at > routing.online_since(now)
    )
    agent.last_seen_at = now
    if presence is not None and agent.presence != presence.value:
        agent.presence = presence.value
        uow.publish_on_commit(
            PresenceChanged(occurred_at=now, agent_id=agent.id, presence=presence.value)
        )
    if agent.presence == Presence.ONLINE.value and not was_reachable:
        await uow.session.flush()
        await routing.capacity_freed(uow, agent_id=agent.id, policy=routing_policy)
    elif agent.presence == Presence.OFFLINE.value and presence is Presence.OFFLINE:
        await routing.release_agent_tickets(
            uow, agent_id=agent.id, reason="offline", policy=routing_policy
        )
    await uow.commit()
    return Presence(agent.presence)


async def agents_available(uow: UnitOfWork) -> bool:
    """Is anyone able to take a chat now: the bot, when it answers web chat first (it hands
    over to the queue), or an active agent online with a live console and on shift (busy
    agents count: the chat then waits in the queue, with its place shown)."""
    if Channel.WEB_CHAT.value in (await floor_config(uow)).bot_channels:
        return True
    floor = await routing.candidates(uow, team_id=None, manager_id=None, now=uow.clock.now())
    return any(agent.available for agent in floor)


async def leave_offline_message(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    email: str,
    name: str | None,
    body: str,
    policy: PlayerPolicy,
    limits: MessageLimits,
    language: str | None,
    routing_policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> Ticket:
    """Nobody is online: the message becomes an email ticket, answered by email; the player
    gets the acknowledgement with its number at once."""
    fields = PlayerFields(email=email, name=name, language=language)
    player = await _find_player(uow, identity)
    if player is not None:
        await attach_email(uow, player=player, email=email)
    else:
        player = await match_or_create_player(
            uow,
            actor=Actor.system(),
            external_id=identity.external_id,
            fields=fields,
            policy=policy,
        )
        if identity.visitor_id is not None:
            uow.session.add(
                ChannelIdentity(
                    player_id=player.id,
                    channel=Channel.WEB_CHAT.value,
                    address=identity.visitor_id,
                    created_at=uow.clock.now(),
                )
            )
    ticket = await ticket_service.open_ticket_in_transaction(
        uow,
        actor=Actor.system(),
        player=player,
        channel=Channel.EMAIL,
        subject=_subject_from(body, fallback="Message from the chat"),
        language=language or player.language,
        routing_policy=routing_policy,
    )
    await add_player_message(
        uow,
        ticket=ticket,
        body=body,
        client_msg_id=None,
        attachment_ids=[],
        limits=limits,
        routing_policy=routing_policy,
    )
    await outbound.acknowledge_new_ticket(uow, ticket=ticket, player=player, policy=mail_policy)
    await uow.commit()
    return ticket
