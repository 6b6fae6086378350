"""What a messenger chat brings besides new messages (Telegram first): a player's edit of a
message they sent, a callback they ask for from the chat, and the short answers the desk
gives in the chat outside any conversation (a greeting, a deep link's confirmation, the
steps of a callback request), sent through the outbox like replies, so that they are
retried and never sent twice."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import Callback, ChannelIdentity, Message, OutboxItem, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import TicketStatus
from playerdesk.domain.errors import NotFound
from playerdesk.domain.mail import OutboxStatus
from playerdesk.domain.phone import CallbackSource
from playerdesk.services import callbacks, outbound
from playerdesk.services.callbacks import CallbackPolicy
from playerdesk.services.messages import add_player_message
from playerdesk.services.messengers import (
    MessengerOutcome,
    MessengerPolicies,
    MessengerReceived,
    MessengerSender,
    messenger_player,
    receive_messenger_message,
    supported_language,
)
from playerdesk.services.players import PlayerPolicy

log = structlog.get_logger(__name__)

# How much of the edited message an edit quotes, for the agent to recognise it.
QUOTE_CHARS = 200


# --- the desk's answers in the chat ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChatMessage:
    """One message to a chat: its text, and a keyboard or other markup as the messenger
    takes it (the adapter renders it)."""

    text: str
    markup: dict[str, Any] | None = None


async def chat_language(uow: UnitOfWork, *, sender: MessengerSender, policy: PlayerPolicy) -> str:
    """The language to answer a chat in: its player's (an agent or the casino may have set
    it), else the one the messenger app is set to when the desk has it, else the default."""
    language = await uow.session.scalar(
        select(Player.language)
        .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
        .where(
            ChannelIdentity.channel == sender.channel.value,
            ChannelIdentity.address == sender.address,
        )
    )
    if language in policy.languages:
        return str(language)
    return supported_language(sender.language_tag, policy=policy) or policy.default_language


async def send_chat_notice(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    key: str,
    messages: Sequence[ChatMessage],
    language: str,
) -> bool:
    """The desk's answer to a chat, outside any conversation, written to the outbox (one
    row: its messages go in order). `key` names the answer for good (the provider's id of
    what it answers): the same key again, a provider's retry, writes nothing and returns
    False. Commits."""
    exists = await uow.session.scalar(
        select(OutboxItem.id).where(OutboxItem.idempotency_key == key).limit(1)
    )
    if exists is not None:
        return False
    now = uow.clock.now()
    try:
        async with uow.session.begin_nested():
            uow.session.add(
                OutboxItem(
                    channel=sender.channel.value,
                    purpose=outbound.Purpose.NOTICE,
                    ticket_id=None,
                    message_id=None,
                    recipient=sender.address,
                    idempotency_key=key,
                    payload={
                        "chat_id": sender.address,
                        "messages": [
                            {"text": message.text, "markup": message.markup} for message in messages
                        ],
                        "language": language,
                    },
                    status=OutboxStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        await uow.rollback()
        return False  # the same retry, taken at the same moment elsewhere
    await uow.commit()
    return True


# --- edits -----------------------------------------------------------------------------


def _quote(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def edited_body(*, earlier: str | None, now_reads: str) -> str:
    """The player's message that stands for their edit: what the message said (when the
    desk has it), then what it says now. The thread keeps both, so an answer given to the
    first version still makes sense, and the agent sees what changed."""
    if earlier is None:
        return f"[edited message]\n{now_reads}"
    return f'[edited message; it said: "{_quote(earlier)}"]\n{now_reads}'


async def receive_messenger_edit(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    original_key: str,
    edit_key: str,
    body: str,
    policies: MessengerPolicies,
) -> MessengerReceived:
    """The player changed a message they sent (`original_key`, its provider key) to `body`:
    a new message of theirs on the conversation the message is on, quoting what it said
    (edited_body). `edit_key` names this edit (one per edit: an edit of the edit is another)
    and a provider's retry of it changes nothing. An edit of a message on a closed
    conversation is ignored (that matter is done; a new question comes as a new message);
    an edit of a message the desk never had is taken as a new message. Commits."""
    found = (
        await uow.session.execute(
            select(Message.body, Message.ticket_id)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(ChannelIdentity, ChannelIdentity.player_id == Ticket.player_id)
            .where(
                ChannelIdentity.channel == sender.channel.value,
                ChannelIdentity.address == sender.address,
                Message.client_msg_id == original_key,
            )
            .limit(1)
        )
    ).first()
    if found is None:
        return await receive_messenger_message(
            uow,
            sender=sender,
            body=edited_body(earlier=None, now_reads=body),
            provider_message_key=edit_key,
            policies=policies,
        )
    earlier, ticket_id = found
    ticket = await uow.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id).with_for_update()
    )
    if ticket is None or ticket.status == TicketStatus.CLOSED.value:
        log.info("messenger_edit_of_closed_conversation", ticket_id=ticket_id)
        return MessengerReceived(outcome=MessengerOutcome.IGNORED, ticket_id=ticket_id)
    posted = await add_player_message(
        uow,
        ticket=ticket,
        body=edited_body(earlier=earlier, now_reads=body.strip())[: policies.messages.max_chars],
        client_msg_id=edit_key,
        attachment_ids=[],
        limits=policies.messages,
        routing_policy=policies.routing,
    )
    if not posted.created:
        return MessengerReceived(
            outcome=MessengerOutcome.DUPLICATE, ticket_id=ticket.id, ticket_number=ticket.number
        )
    await uow.commit()
    log.info(
        "messenger_edit_taken",
        channel=sender.channel.value,
        ticket_id=ticket.id,
        message_id=posted.message.id,
    )
    return MessengerReceived(
        outcome=MessengerOutcome.APPENDED,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        message_id=posted.message.id,
    )


# --- callbacks -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequestedCallback:
    callback_id: int
    phone: str
    # The chat's player's own: they may choose its window.
    own: bool


async def request_messenger_callback(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    phone: str,
    source: CallbackSource,
    language: str,
    policy: CallbackPolicy,
    player_policy: PlayerPolicy,
) -> RequestedCallback:
    """ "Call me back" from a messenger chat that shared its own number: the callback is the
    chat's player's (made now if the chat never wrote), as soon as possible until they
    choose a window; limited per chat and per number like any request. A number already
    waiting for a call keeps that callback, which may be another player's. Commits."""
    player = await messenger_player(uow, sender=sender, policy=player_policy)
    callback = await callbacks.request_callback(
        uow,
        phone=phone,
        window_from=None,
        window_until=None,
        language=language,
        reason="",
        source=source,
        # The rate limit's key: the chat, as the help centre's is the address.
        ip_key=f"{sender.channel.value}:{sender.address}"[:64],
        policy=policy,
        player=player,
    )
    return RequestedCallback(
        callback_id=callback.id, phone=callback.phone, own=callback.player_id == player.id
    )


async def choose_messenger_callback_window(
    uow: UnitOfWork,
    *,
    sender: MessengerSender,
    callback_id: int,
    window_from: datetime | None,
    window_until: datetime | None,
) -> Callback:
    """The chat's player chooses when to be called back, on their own callback only (the
    button carries the callback's id, and a chat could send any). Commits."""
    player_id = await uow.session.scalar(
        select(ChannelIdentity.player_id).where(
            ChannelIdentity.channel == sender.channel.value,
            ChannelIdentity.address == sender.address,
        )
    )
    if player_id is None:
        raise NotFound("no such callback", field="callback_id")
    return await callbacks.choose_callback_window(
        uow,
        callback_id=callback_id,
        player_id=player_id,
        window_from=window_from,
        window_until=window_until,
    )
