"""Phone calls reported by a PBX (CTI events): the caller matched to a player, the agent's
console popped, the call logged on a ticket, and a callback owed for a missed call."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Table, func, select
from sqlalchemy.sql.dml import Insert

from playerdesk.db.models import Agent, Call, CallEventSeen, Player, Ticket
from playerdesk.db.statements import insert_unless_conflict
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, Channel, MessageKind, TicketStatus
from playerdesk.domain.events import CallRinging, CallTicket
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.phone import (
    CallbackSource,
    CallDirection,
    CallEventKind,
    CallState,
    is_missed,
)
from playerdesk.i18n import translations
from playerdesk.services import callbacks as callback_service
from playerdesk.services.messages import MessageLimits, add_message
from playerdesk.services.phones import find_player_by_phone, phone_number_or_none, player_for_number
from playerdesk.services.players import PlayerPolicy
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.tickets import open_ticket_in_transaction

log = structlog.get_logger(__name__)

CALLS: Table = Call.__table__  # type: ignore[assignment]
CALL_EVENTS: Table = CallEventSeen.__table__  # type: ignore[assignment]
OPEN_STATUSES = (
    TicketStatus.NEW.value,
    TicketStatus.OPEN.value,
    TicketStatus.PENDING.value,
    TicketStatus.ON_HOLD.value,
)
MAX_OPEN_TICKETS_SHOWN = 5


@functools.cache
def _insert_call(dialect: str) -> Insert:
    return insert_unless_conflict(dialect, CALLS, on=["external_call_id"])


@functools.cache
def _insert_event_seen(dialect: str) -> Insert:
    return insert_unless_conflict(dialect, CALL_EVENTS, on=["call_id", "event"]).returning(
        CALL_EVENTS.c.id
    )


@dataclass(frozen=True, kw_only=True)
class PhonePolicy:
    default_region: str | None
    players: PlayerPolicy
    limits: MessageLimits
    routing: RoutingPolicy
    # The language of the notes the system writes on tickets (agents read them).
    note_language: str


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """One event as the PBX reports it."""

    kind: CallEventKind
    call_id: str
    direction: CallDirection
    from_number: str
    to_number: str
    queue: str | None = None
    agent_email: str | None = None
    cause: str | None = None
    recording_url: str | None = None
    duration_seconds: int | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CallEventResult:
    call: Call
    # The PBX sent this (call, event) before: nothing was changed.
    duplicate: bool
    callback_id: int | None = None


async def open_phone_ticket(uow: UnitOfWork, *, player_id: int) -> Ticket | None:
    return await uow.session.scalar(
        select(Ticket)
        .where(
            Ticket.player_id == player_id,
            Ticket.channel == Channel.PHONE.value,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
        .with_for_update()
    )


async def _call_for(uow: UnitOfWork, *, event: CallEvent, number: str | None, at: datetime) -> Call:
    await uow.session.execute(
        _insert_call(uow.dialect),
        {
            "external_call_id": event.call_id,
            "direction": event.direction.value,
            "from_number": event.from_number[:40],
            "to_number": event.to_number[:40],
            "player_number": number,
            "state": CallState.RINGING.value,
            "started_at": at,
        },
    )
    call = await uow.session.scalar(
        select(Call).where(Call.external_call_id == event.call_id).with_for_update()
    )
    assert call is not None
    return call


async def _agent_by_email(uow: UnitOfWork, email: str | None) -> Agent | None:
    if not email:
        return None
    agent = await uow.session.scalar(
        select(Agent).where(func.lower(Agent.email) == email.strip().lower(), Agent.is_active)
    )
    if agent is None:
        # The PBX knows extensions we do not: the call is still logged, without an agent.
        log.info("cti_unknown_agent")
    return agent


def _format_duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"


def call_note(call: Call, *, agent: Agent | None, missed: bool, language: str) -> str:
    """The internal note that logs a call on its ticket, in the floor's language."""
    _ = translations(language).gettext
    lines = [
        _("Inbound call") if call.direction == CallDirection.INBOUND.value else _("Outbound call"),
        _("Number: {number}").format(
            number=call.player_number
            or (
                call.from_number
                if call.direction == CallDirection.INBOUND.value
                else call.to_number
            )
        ),
        _("Duration: {duration}").format(duration=_format_duration(call.duration_seconds or 0)),
    ]
    if missed:
        outcome = _("Missed; a callback is queued") if call.player_number else _("Missed")
    elif call.answered_at is not None:
        outcome = _("Answered")
    else:
        outcome = _("Not answered")
    if call.cause:
        outcome = f"{outcome} ({call.cause})"
    lines.append(_("Outcome: {outcome}").format(outcome=outcome))
    if agent is not None:
        lines.append(_("Agent: {name}").format(name=agent.name))
    if call.queue:
        lines.append(_("Queue: {queue}").format(queue=call.queue))
    if call.recording_url:
        lines.append(_("Recording: {url}").format(url=call.recording_url))
    return "\n".join(lines)


async def _ticket_for_call(
    uow: UnitOfWork, *, actor: Actor, call: Call, player: Player, policy: PhonePolicy
) -> Ticket:
    """The player's open phone ticket, else a new one (routed and timed as any ticket; one
    an agent answered is theirs)."""
    if call.ticket_id is not None:
        ticket = await uow.session.scalar(
            select(Ticket).where(Ticket.id == call.ticket_id).with_for_update()
        )
        if ticket is not None and ticket.status in OPEN_STATUSES:
            return ticket
    ticket = await open_phone_ticket(uow, player_id=player.id)
    if ticket is None:
        _ = translations(policy.note_language).gettext
        subject = _("Phone call from {number}").format(number=call.player_number or _("withheld"))
        ticket = await open_ticket_in_transaction(
            uow,
            actor=actor,
            player=player,
            channel=Channel.PHONE,
            subject=subject,
            language=player.language,
            assignee_id=call.agent_id if call.answered_at is not None else None,
            routing_policy=policy.routing,
        )
    call.ticket_id = ticket.id
    return ticket


async def _publish_ringing(
    uow: UnitOfWork, *, call: Call, player: Player | None, at: datetime
) -> None:
    assert call.agent_id is not None
    tickets: list[Ticket] = []
    if player is not None:
        tickets = list(
            await uow.session.scalars(
                select(Ticket)
                .where(Ticket.player_id == player.id, Ticket.status.in_(OPEN_STATUSES))
                .order_by(Ticket.last_message_at.desc(), Ticket.id.desc())
                .limit(MAX_OPEN_TICKETS_SHOWN)
            )
        )
    phone_ticket = next((t.id for t in tickets if t.channel == Channel.PHONE.value), None)
    uow.publish_on_commit(
        CallRinging(
            occurred_at=at,
            call_id=call.id,
            external_call_id=call.external_call_id,
            state=call.state,
            direction=call.direction,
            agent_id=call.agent_id,
            number=call.player_number
            or (
                call.from_number
                if call.direction == CallDirection.INBOUND.value
                else call.to_number
            ),
            queue=call.queue,
            player_id=player.id if player is not None else None,
            player_name=player.name if player is not None else None,
            vip_tier=player.vip_tier if player is not None else None,
            open_tickets=[
                CallTicket(id=t.id, number=t.number, subject=t.subject, status=t.status)
                for t in tickets
            ],
            phone_ticket_id=call.ticket_id or phone_ticket,
        )
    )


async def record_call_event(
    uow: UnitOfWork, *, actor: Actor, event: CallEvent, policy: PhonePolicy
) -> CallEventResult:
    """Apply one PBX event, once: a repeat of the same (call, event) changes nothing."""
    actor.require(Permission.CTI_EVENTS)
    now = uow.clock.now()
    at = event.occurred_at or now
    inbound = event.direction is CallDirection.INBOUND
    number = phone_number_or_none(
        event.from_number if inbound else event.to_number, default_region=policy.default_region
    )
    call = await _call_for(uow, event=event, number=number, at=at)
    seen = await uow.session.scalar(
        _insert_event_seen(uow.dialect),
        {"call_id": call.id, "event": event.kind.value, "received_at": now},
    )
    if seen is None:
        return CallEventResult(call=call, duplicate=True)
    agent = await _agent_by_email(uow, event.agent_email)
    if agent is not None:
        call.agent_id = agent.id
    if event.queue:
        call.queue = event.queue.strip()[:100] or call.queue
    player: Player | None = None
    if call.player_id is not None:
        player = await uow.session.get(Player, call.player_id)
    elif number is not None:
        player = await find_player_by_phone(
            uow, number=number, default_region=policy.default_region
        )
        call.player_id = player.id if player is not None else None

    callback_id: int | None = None
    if event.kind is CallEventKind.NEW_CALL:
        call.started_at = min(call.started_at, at)
    elif event.kind is CallEventKind.ANSWER:
        call.answered_at = at
        if call.state != CallState.ENDED.value:
            call.state = CallState.ANSWERED.value
    else:
        callback_id = await _hang_up(
            uow,
            actor=actor,
            call=call,
            event=event,
            at=at,
            player=player,
            agent=agent,
            policy=policy,
        )
    if (
        event.kind is not CallEventKind.HANGUP
        and call.agent_id is not None
        and call.state != CallState.ENDED.value
    ):
        await _publish_ringing(uow, call=call, player=player, at=now)
    log.info(
        "cti_event",
        call_id=call.id,
        call_event=event.kind.value,
        player_id=call.player_id,
        ticket_id=call.ticket_id,
    )
    await uow.commit()
    return CallEventResult(call=call, duplicate=False, callback_id=callback_id)


async def _hang_up(
    uow: UnitOfWork,
    *,
    actor: Actor,
    call: Call,
    event: CallEvent,
    at: datetime,
    player: Player | None,
    agent: Agent | None,
    policy: PhonePolicy,
) -> int | None:
    """End the call, log it on a ticket, and queue a callback for a missed inbound call."""
    call.state = CallState.ENDED.value
    call.ended_at = at
    if event.cause:
        call.cause = event.cause.strip().lower()[:40]
    if event.recording_url:
        call.recording_url = event.recording_url[:1000]
    if event.duration_seconds is not None:
        call.duration_seconds = event.duration_seconds
    elif call.answered_at is not None:
        call.duration_seconds = max(0, int((at - call.answered_at).total_seconds()))
    else:
        call.duration_seconds = 0
    if player is None:
        player = await player_for_number(
            uow,
            number=call.player_number,
            default_region=policy.default_region,
            default_language=policy.players.default_language,
        )
        call.player_id = player.id
    if agent is None and call.agent_id is not None:
        agent = await uow.session.get(Agent, call.agent_id)
    missed = is_missed(
        direction=CallDirection(call.direction),
        answered=call.answered_at is not None,
        cause=call.cause,
    )
    ticket = await _ticket_for_call(uow, actor=actor, call=call, player=player, policy=policy)
    await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        author=None,
        kind=MessageKind.NOTE,
        body=call_note(
            call,
            agent=agent,
            missed=missed and call.player_number is not None,
            language=policy.note_language,
        ),
        client_msg_id=f"call:{call.id}",
        attachment_ids=[],
        limits=policy.limits,
        routing_policy=policy.routing,
    )
    if not (missed and call.player_number is not None):
        return None
    _ = translations(policy.note_language).gettext
    callback = await callback_service.queue_callback(
        uow,
        player=player,
        phone=call.player_number,
        source=CallbackSource.MISSED_CALL,
        reason=_("Missed call"),
        window_from=None,
        window_until=None,
        language=player.language,
        call_id=call.id,
        ticket_id=ticket.id,
        requested_ip=None,
    )
    return callback.id
