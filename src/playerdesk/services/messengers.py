"""Messages that reach PlayerDesk through a messenger (Telegram first; WhatsApp and Viber
follow the same path). The sender's chat is a channel identity of a player; their open
conversation on that messenger gets the message, or a new ticket opens, routed, timed and
answered by the bot the same way as a live chat. A provider's retry is recognised by the
provider's own message id and ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import ChannelIdentity, Message, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, Channel, TicketStatus
from playerdesk.domain.errors import Conflict, PayloadTooLarge, UnsupportedMediaType
from playerdesk.domain.files import safe_filename, sniff_content_type
from playerdesk.domain.permissions import Actor
from playerdesk.services import audit
from playerdesk.services.attachments import AttachmentPolicy, store_attachment
from playerdesk.services.messages import MessageLimits, add_player_message
from playerdesk.services.outbound import mark_address_failing
from playerdesk.services.players import PlayerPolicy
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.tickets import open_ticket_in_transaction
from playerdesk.storage.attachments import AttachmentStore

log = structlog.get_logger(__name__)

SUBJECT_CHARS = 80


class MessengerOutcome(StrEnum):
    CREATED = "created"  # a new ticket
    APPENDED = "appended"  # a message on the player's open conversation
    DUPLICATE = "duplicate"  # the provider delivered the same message before
    IGNORED = "ignored"  # nothing to add it to (a button under a conversation now closed)


@dataclass(frozen=True, kw_only=True)
class MessengerPolicies:
    players: PlayerPolicy
    messages: MessageLimits
    routing: RoutingPolicy


@dataclass(frozen=True, kw_only=True)
class MessengerSender:
    """Who wrote, as the messenger tells it: `address` is the chat we answer to."""

    channel: Channel
    address: str
    name: str | None
    # The language the player's app is set to (an IETF tag such as "pt-br"), if told.
    language_tag: str | None


@dataclass(frozen=True, kw_only=True)
class MessengerReceived:
    outcome: MessengerOutcome
    ticket_id: int | None = None
    ticket_number: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MessengerFile:
    """A file the player sent, downloaded from the messenger."""

    filename: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class MessengerFiles:
    """The files of one message, and where and under which rules they are kept. `refused`
    are notes on files the adapter could not take (too large to download, say)."""

    files: Sequence[MessengerFile]
    refused: Sequence[str]
    store: AttachmentStore
    policy: AttachmentPolicy


class FileTooLarge(Exception):
    """The file is over the attachment size limit (`size`: its size, or how much was read
    before we stopped)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file of {size} bytes is over the limit")
        self.size = size


class FileTypeRefused(Exception):
    """The file's first bytes already show a type the desk refuses (`content_type`, None
    when unknown): the rest is not downloaded."""

    def __init__(self, content_type: str | None) -> None:
        super().__init__(f"type not allowed ({content_type or 'unknown type'})")
        self.content_type = content_type


async def downloaded_file(
    *,
    filename: str,
    declared_size: int | None,
    download: Callable[[int], Awaitable[bytes]] | None,
    explained: tuple[type[Exception], ...],
    unexplained: tuple[type[Exception], ...],
    store: AttachmentStore,
    policy: AttachmentPolicy,
    log_event: str,
    log_context: dict[str, object],
) -> MessengerFiles:
    """A file a player sent on a messenger, fetched by `download(max_bytes)` (None: the
    messenger cannot be reached from here), or the note that stands in for it: over the
    size limit (as declared, or as read), of a refused type, or not downloadable. Errors in
    `explained` are logged with their message, those in `unexplained` by their type only
    (an HTTP client's message may hold a URL with a token in it)."""
    files: list[MessengerFile] = []
    refused: list[str] = []
    if declared_size is not None and declared_size > policy.max_bytes:
        refused.append(refused_too_large(filename=filename, size=declared_size, policy=policy))
    elif download is None:
        refused.append(refused_unreachable(filename=filename))
    else:
        try:
            data = await download(policy.max_bytes)
        except FileTooLarge as error:
            size = declared_size or error.size
            refused.append(refused_too_large(filename=filename, size=size, policy=policy))
        except FileTypeRefused as error:
            refused.append(refused_type(filename=filename, content_type=error.content_type))
        except explained + unexplained as error:
            reason = str(error) if isinstance(error, explained) else type(error).__name__
            log.warning(f"{log_event}_download_failed", error=reason, **log_context)
            refused.append(refused_unreachable(filename=filename))
        else:
            files.append(MessengerFile(filename=filename, data=data))
    if refused:
        log.info(f"{log_event}_refused", note=refused[0], **log_context)
    return MessengerFiles(files=files, refused=refused, store=store, policy=policy)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def refused_too_large(*, filename: str, size: int, policy: AttachmentPolicy) -> str:
    """The note standing in for a file over the size limit, in the player's message: the
    agent sees what was sent and why it is missing, and can ask for it another way."""
    return (
        f"[a file that could not be accepted: {safe_filename(filename)}, too large "
        f"({_megabytes(size)}; the limit is {_megabytes(policy.max_bytes)})]"
    )


def refused_type(*, filename: str, content_type: str | None) -> str:
    return (
        f"[a file that could not be accepted: {safe_filename(filename)}, type not allowed "
        f"({content_type or 'unknown type'})]"
    )


def refused_unreachable(*, filename: str) -> str:
    return (
        f"[a file that could not be downloaded from the messenger: {safe_filename(filename)}; "
        "ask the player to send it again]"
    )


async def _store_files(
    uow: UnitOfWork, *, ticket_id: int, files: MessengerFiles
) -> tuple[list[int], list[str]]:
    """Store what the attachment rules allow; a note for each file they refuse."""
    stored: list[int] = []
    refused = list(files.refused)
    for item in files.files:
        try:
            attachment = await store_attachment(
                uow,
                actor=Actor.system(),
                store=files.store,
                policy=files.policy,
                ticket_id=ticket_id,
                filename=item.filename,
                data=item.data,
            )
        except PayloadTooLarge:
            refused.append(
                refused_too_large(filename=item.filename, size=len(item.data), policy=files.policy)
            )
            continue
        except UnsupportedMediaType:
            refused.append(
                refused_type(filename=item.filename, content_type=sniff_content_type(item.data))
            )
            continue
        stored.append(attachment.id)
    return stored, refused


async def seen_before(
    uow: UnitOfWork, *, sender: MessengerSender, provider_message_key: str
) -> bool:
    """The provider delivered this message before (read-only: an adapter asks before it
    downloads a retried message's file again)."""
    player_id = await uow.session.scalar(
        select(ChannelIdentity.player_id).where(
            ChannelIdentity.channel == sender.channel.value,
            ChannelIdentity.address == sender.address,
        )
    )
    if player_id is None:
        return False
    return await _seen_before(uow, player_id=player_id, client_msg_id=provider_message_key)


def supported_language(tag: str | None, *, policy: PlayerPolicy) -> str | None:
    primary = (tag or "").split("-")[0].strip().lower()
    return primary if primary in policy.languages else None


async def _player_of(uow: UnitOfWork, *, sender: MessengerSender) -> Player | None:
    return await uow.session.scalar(
        select(Player)
        .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
        .where(
            ChannelIdentity.channel == sender.channel.value,
            ChannelIdentity.address == sender.address,
        )
        # Messages of one chat are taken one at a time (a provider delivers in parallel).
        .with_for_update(of=Player)
    )


async def _new_player(uow: UnitOfWork, *, sender: MessengerSender, policy: PlayerPolicy) -> Player:
    """A player known only by this chat; a concurrent first message of the same chat that
    committed first wins, and its player is returned."""
    now = uow.clock.now()
    try:
        async with uow.session.begin_nested():
            player = Player(
                external_id=None,
                name=(sender.name or "").strip()[:200] or None,
                language=supported_language(sender.language_tag, policy=policy)
                or policy.default_language,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(player)
            await uow.session.flush()
            uow.session.add(
                ChannelIdentity(
                    player_id=player.id,
                    channel=sender.channel.value,
                    address=sender.address,
                    created_at=now,
                )
            )
            await uow.session.flush()
    except IntegrityError as exc:
        existing = await _player_of(uow, sender=sender)
        if existing is None:
            raise Conflict("the player changed while we saved; retry", field="player") from exc
        return existing
    audit.record(
        uow,
        actor=Actor.system(),
        action="player.created",
        entity_type="player",
        entity_id=player.id,
        details={"channel": sender.channel.value},
    )
    return player


async def messenger_player(
    uow: UnitOfWork, *, sender: MessengerSender, policy: PlayerPolicy
) -> Player:
    """The chat's player, made now (known only by this chat) if it never wrote: for what a
    chat asks of the desk besides messages (a callback, a deep link). Inside the caller's
    transaction; the player row is locked, as when a message is taken."""
    player = await _player_of(uow, sender=sender)
    return player if player is not None else await _new_player(uow, sender=sender, policy=policy)


async def _seen_before(uow: UnitOfWork, *, player_id: int, client_msg_id: str) -> bool:
    found = await uow.session.scalar(
        select(Message.id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.player_id == player_id, Message.client_msg_id == client_msg_id)
        .limit(1)
    )
    return found is not None


async def _open_conversation(uow: UnitOfWork, *, player_id: int, channel: Channel) -> Ticket | None:
    """The player's newest conversation on this messenger that is not closed (a resolved
    one is reopened by their message, as a chat or an email thread is)."""
    return await uow.session.scalar(
        select(Ticket)
        .where(
            Ticket.player_id == player_id,
            Ticket.channel == channel.value,
            Ticket.status != TicketStatus.CLOSED.value,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
        .with_for_update()
    )


def _subject(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= SUBJECT_CHARS:
        return first_line
    return first_line[: SUBJECT_CHARS - 1].rstrip() + "…"


async def _clear_failing(uow: UnitOfWork, *, sender: MessengerSender) -> None:
    """The player wrote from the chat again: replies may reach it now (they had blocked
    the bot, say, and unblocked it)."""
    await uow.session.execute(
        update(ChannelIdentity)
        .where(
            ChannelIdentity.channel == sender.channel.value,
            ChannelIdentity.address == sender.address,
            ChannelIdentity.delivery_failed_at.is_not(None),
        )
        .values(delivery_failed_at=None, delivery_failure=None)
    )


async def receive_messenger_message(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    body: str,
    provider_message_key: str,
    policies: MessengerPolicies,
    files: MessengerFiles | None = None,
) -> MessengerReceived:
    """Take one message from a messenger in one transaction (commits): its text, and the
    files it carried stored as the message's attachments (a file the rules refuse becomes a
    note in the body). `provider_message_key` names the message for good (e.g.
    `telegram:<chat>:<message>`): the same key again is a provider's retry."""
    player = await _player_of(uow, sender=sender)
    if player is not None and await _seen_before(
        uow, player_id=player.id, client_msg_id=provider_message_key
    ):
        return MessengerReceived(outcome=MessengerOutcome.DUPLICATE)
    if player is None:
        player = await _new_player(uow, sender=sender, policy=policies.players)
    ticket = await _open_conversation(uow, player_id=player.id, channel=sender.channel)
    created = ticket is None
    if ticket is None:
        ticket = await open_ticket_in_transaction(
            uow,
            actor=Actor.system(),
            player=player,
            channel=sender.channel,
            subject=_subject(body) or _first_filename(files) or sender.channel.value,
            language=player.language,
            routing_policy=policies.routing,
        )
    attachment_ids: list[int] = []
    if files is not None:
        attachment_ids, refused = await _store_files(uow, ticket_id=ticket.id, files=files)
        body = "\n\n".join([*refused, body.strip()]).strip()
    posted = await add_player_message(
        uow,
        ticket=ticket,
        body=body.strip()[: policies.messages.max_chars],
        client_msg_id=provider_message_key,
        attachment_ids=attachment_ids,
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    if not posted.created:
        # A retry that raced the original on the same conversation.
        return MessengerReceived(
            outcome=MessengerOutcome.DUPLICATE,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            message_id=posted.message.id,
        )
    await _clear_failing(uow, sender=sender)
    await uow.commit()
    log.info(
        "messenger_message_taken",
        channel=sender.channel.value,
        ticket_id=ticket.id,
        message_id=posted.message.id,
        created=created,
    )
    return MessengerReceived(
        outcome=MessengerOutcome.CREATED if created else MessengerOutcome.APPENDED,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        message_id=posted.message.id,
    )


def _first_filename(files: MessengerFiles | None) -> str:
    if files is None or not files.files:
        return ""
    return safe_filename(files.files[0].filename)[:SUBJECT_CHARS]


async def _button_label(uow: UnitOfWork, *, ticket_id: int, button_id: str) -> str | None:
    """The label of the bot's button with this id, from its newest message that offered it
    (the bot recognises a pressed button by its label, as the widget sends it)."""
    offered = await uow.session.scalars(
        select(Message.quick_replies)
        .where(
            Message.ticket_id == ticket_id,
            Message.author_kind == AuthorKind.BOT.value,
            Message.quick_replies.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(20)
    )
    for buttons in offered:
        for item in buttons or []:
            if item.get("id") == button_id:
                return str(item.get("label") or "") or None
    return None


async def receive_messenger_button(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    button_id: str,
    provider_message_key: str,
    policies: MessengerPolicies,
) -> MessengerReceived:
    """A quick-reply button the player pressed under a bot message: their message is the
    button's label, on the conversation it was offered in (commits). A button of a
    conversation that is closed, or one we never offered, is ignored."""
    player = await _player_of(uow, sender=sender)
    if player is None:
        return MessengerReceived(outcome=MessengerOutcome.IGNORED)
    if await _seen_before(uow, player_id=player.id, client_msg_id=provider_message_key):
        return MessengerReceived(outcome=MessengerOutcome.DUPLICATE)
    ticket = await _open_conversation(uow, player_id=player.id, channel=sender.channel)
    if ticket is None:
        return MessengerReceived(outcome=MessengerOutcome.IGNORED)
    label = await _button_label(uow, ticket_id=ticket.id, button_id=button_id)
    if label is None:
        log.info("messenger_button_unknown", channel=sender.channel.value, ticket_id=ticket.id)
        return MessengerReceived(outcome=MessengerOutcome.IGNORED, ticket_id=ticket.id)
    posted = await add_player_message(
        uow,
        ticket=ticket,
        body=label,
        client_msg_id=provider_message_key,
        attachment_ids=[],
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    if not posted.created:
        return MessengerReceived(outcome=MessengerOutcome.DUPLICATE, ticket_id=ticket.id)
    await _clear_failing(uow, sender=sender)
    await uow.commit()
    return MessengerReceived(
        outcome=MessengerOutcome.APPENDED,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        message_id=posted.message.id,
    )


# --- what a messenger tells us about the chat and our messages -------------------------


async def mark_messenger_unreachable(
    uow: UnitOfWork, *, channel: Channel, address: str, reason: str
) -> int:
    """The player left the chat (unsubscribed, blocked the bot): replies will not reach
    them until they write again, and the console warns the agent (commits). Returns how
    many identities were marked."""
    marked = await mark_address_failing(uow, channel=channel.value, address=address, reason=reason)
    await uow.commit()
    return marked


async def mark_messenger_reachable(uow: UnitOfWork, *, channel: Channel, address: str) -> None:
    """The player (re)subscribed to the chat: replies may reach it again (commits)."""
    sender = MessengerSender(channel=channel, address=address, name=None, language_tag=None)
    await _clear_failing(uow, sender=sender)
    await uow.commit()
