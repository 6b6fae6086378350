"""Callbacks: players waiting for us to ring them (after a missed call, or asked for from
the widget, the help centre or Telegram), queued by VIP tier then due time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, case, func, select

from playerdesk.db.models import Agent, Callback, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, MessageKind, TicketStatus
from playerdesk.domain.errors import NotFound, TooManyAttempts, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.phone import CallbackSource, CallbackStatus, normalise_phone
from playerdesk.domain.players import check_language
from playerdesk.services import audit, chat
from playerdesk.services.chat import WidgetIdentity
from playerdesk.services.messages import MessageLimits, add_message
from playerdesk.services.phones import player_for_number
from playerdesk.services.players import PlayerFields, PlayerPolicy
from playerdesk.services.routing import RoutingPolicy

log = structlog.get_logger(__name__)

MAX_REASON = 500
MAX_OUTCOME_NOTE = 2000
OPEN_CALLBACK = (CallbackStatus.WAITING.value, CallbackStatus.ASSIGNED.value)
RATE_WINDOW = timedelta(hours=1)
# A window may be asked for at most this far ahead (a week) and must last this long at least.
MAX_WINDOW_AHEAD = timedelta(days=7)


@dataclass(frozen=True, kw_only=True)
class CallbackPolicy:
    default_region: str | None
    languages: list[str]
    default_language: str
    vip_tiers: list[str]
    limit_per_ip: int
    limit_per_phone: int
    # A call that reached nobody is tried again this much later, times the attempts so far;
    # after `max_attempts` the callback is given up (failed).
    retry_delay: timedelta = timedelta(minutes=30)
    max_attempts: int = 3
    limits: MessageLimits | None = None
    routing: RoutingPolicy | None = None


@dataclass(frozen=True, kw_only=True)
class QueuedCallback:
    callback: Callback
    player_name: str | None
    vip_tier: str | None
    agent_name: str | None


async def queue_callback(
    uow: UnitOfWork,
    *,
    player: Player | None,
    phone: str,
    source: CallbackSource,
    reason: str,
    window_from: datetime | None,
    window_until: datetime | None,
    language: str,
    call_id: int | None,
    ticket_id: int | None,
    requested_ip: str | None,
) -> Callback:
    """Queue a callback inside the caller's transaction. A number already waiting for one
    keeps that one (a second missed call does not mean two calls back)."""
    now = uow.clock.now()
    existing = await uow.session.scalar(
        select(Callback)
        .where(Callback.phone == phone, Callback.status.in_(OPEN_CALLBACK))
        .order_by(Callback.id)
        .limit(1)
        .with_for_update()
    )
    if existing is not None:
        existing.ticket_id = existing.ticket_id or ticket_id
        existing.call_id = existing.call_id or call_id
        existing.updated_at = now
        return existing
    callback = Callback(
        player_id=player.id if player is not None else None,
        phone=phone,
        window_from=window_from,
        window_until=window_until,
        due_at=max(window_from or now, now),
        language=language,
        reason=reason.strip()[:MAX_REASON],
        source=source.value,
        status=CallbackStatus.WAITING.value,
        attempts=0,
        call_id=call_id,
        ticket_id=ticket_id,
        requested_ip=requested_ip,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(callback)
    await uow.session.flush()
    return callback


async def _check_rate_limits(
    uow: UnitOfWork, *, ip_key: str, phone: str, policy: CallbackPolicy
) -> None:
    """Per address and per number in an hour; the number's limit also keeps the form from
    being used to have us ring somebody over and over. Counted without a lock, as the
    help-centre forms are."""
    since = uow.clock.now() - RATE_WINDOW
    checks = [
        (Callback.requested_ip == ip_key, policy.limit_per_ip, "ip"),
        (Callback.phone == phone, policy.limit_per_phone, "phone"),
    ]
    for condition, limit, by in checks:
        count, oldest = (
            await uow.session.execute(
                select(func.count(), func.min(Callback.created_at)).where(
                    condition,
                    Callback.source != CallbackSource.MISSED_CALL.value,
                    Callback.created_at > since,
                )
            )
        ).one()
        if count >= limit:
            retry_after = int(((oldest or since) + RATE_WINDOW - uow.clock.now()).total_seconds())
            log.info("callback_rate_limited", by=by, count=count)
            raise TooManyAttempts(
                "too many callback requests; try again later",
                retry_after_seconds=max(retry_after, 1),
            )


def _check_window(
    window_from: datetime | None, window_until: datetime | None, *, now: datetime
) -> None:
    for name, value in (("window_from", window_from), ("window_until", window_until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("give a time with its UTC offset", field=name)
    if window_until is not None:
        if window_until <= now:
            raise ValidationFailed("the window has already passed", field="window_until")
        if window_from is not None and window_until <= window_from:
            raise ValidationFailed("the window ends before it starts", field="window_until")
    if window_from is not None and window_from > now + MAX_WINDOW_AHEAD:
        raise ValidationFailed("at most a week ahead", field="window_from")


async def request_callback(
    uow: UnitOfWork,
    *,
    phone: str,
    window_from: datetime | None,
    window_until: datetime | None,
    language: str | None,
    reason: str,
    source: CallbackSource,
    ip_key: str,
    policy: CallbackPolicy,
    player: Player | None = None,
) -> Callback:
    """A player asks to be called back (public: no agent behind it). The number is checked
    and normalised; requests are rate limited per address and per number. The callback is
    `player`'s when the channel knows who asks (the chat widget); else the number's player,
    found or created."""
    if source is CallbackSource.MISSED_CALL:
        raise ValidationFailed("missed calls queue their own callbacks", field="source")
    number = normalise_phone(phone, default_region=policy.default_region, field="phone")
    if len(reason.strip()) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters", field="reason")
    now = uow.clock.now()
    _check_window(window_from, window_until, now=now)
    wanted_language = check_language(language, supported=policy.languages) if language else None
    await _check_rate_limits(uow, ip_key=ip_key, phone=number, policy=policy)
    if player is None:
        player = await player_for_number(
            uow,
            number=number,
            default_region=policy.default_region,
            default_language=wanted_language or policy.default_language,
        )
    elif not player.phone:
        # Their number from now on, so that the call made back to it, as the PBX reports it,
        # is logged on them (calls find players by number).
        player.phone = number
        player.updated_at = now
    callback = await queue_callback(
        uow,
        player=player,
        phone=number,
        source=source,
        reason=reason,
        window_from=window_from,
        window_until=window_until,
        language=wanted_language or player.language,
        call_id=None,
        ticket_id=None,
        requested_ip=ip_key,
    )
    log.info("callback_requested", callback_id=callback.id, source=source.value)
    await uow.commit()
    return callback


async def request_widget_callback(
    uow: UnitOfWork,
    *,
    identity: WidgetIdentity,
    phone: str,
    window_from: datetime | None,
    window_until: datetime | None,
    language: str,
    reason: str,
    ip_key: str,
    policy: CallbackPolicy,
    player_policy: PlayerPolicy,
) -> Callback:
    """The chat widget's "call me back": the callback is the widget's player's (the casino's
    verified player, or the visitor's own, made now if they never wrote), whichever number
    they give; checked and limited as any player's request."""
    player = await chat.widget_player(
        uow, identity=identity, fields=PlayerFields(language=language), policy=player_policy
    )
    return await request_callback(
        uow,
        phone=phone,
        window_from=window_from,
        window_until=window_until,
        language=language,
        reason=reason,
        source=CallbackSource.WIDGET,
        ip_key=ip_key,
        policy=policy,
        player=player,
    )


async def choose_callback_window(
    uow: UnitOfWork,
    *,
    callback_id: int,
    player_id: int,
    window_from: datetime | None,
    window_until: datetime | None,
) -> Callback:
    """The player who asked for a callback says when to call (Telegram's buttons, after the
    number was shared): the window replaces theirs and the call is due at its start, or now
    (none: as soon as possible). Only their own callback, still open: another player's is
    NotFound, as if it did not exist. Commits."""
    callback = await _load(uow, callback_id)
    if callback.player_id != player_id:
        raise NotFound("no such callback", field="callback_id")
    if callback.status not in OPEN_CALLBACK:
        raise ValidationFailed("this callback is finished", field="callback_id")
    now = uow.clock.now()
    _check_window(window_from, window_until, now=now)
    callback.window_from = window_from
    callback.window_until = window_until
    callback.due_at = max(window_from or now, now)
    callback.updated_at = now
    log.info("callback_window_chosen", callback_id=callback.id)
    await uow.commit()
    return callback


def _vip_rank(tiers: list[str]) -> ColumnElement[int]:
    """The player's tier as a number for ORDER BY: 0 for none, 1 for the lowest tier..."""
    return case(
        {tier: index + 1 for index, tier in enumerate(tiers)}, value=Player.vip_tier, else_=0
    )


async def list_callbacks(
    uow: UnitOfWork,
    *,
    actor: Actor,
    statuses: list[CallbackStatus],
    agent_id: int | None = None,
    limit: int = 100,
    vip_tiers: list[str],
) -> list[QueuedCallback]:
    """The queue: highest VIP tier first, then the earliest due. One query."""
    actor.require(Permission.TICKETS_READ)
    wanted = [status.value for status in statuses] or list(OPEN_CALLBACK)
    query = (
        select(Callback, Player.name, Player.vip_tier, Agent.name)
        .outerjoin(Player, Player.id == Callback.player_id)
        .outerjoin(Agent, Agent.id == Callback.agent_id)
        .where(Callback.status.in_(wanted))
        .order_by(_vip_rank(vip_tiers).desc(), Callback.due_at, Callback.id)
        .limit(limit)
    )
    if agent_id is not None:
        query = query.where(Callback.agent_id == agent_id)
    rows = await uow.session.execute(query)
    return [
        QueuedCallback(callback=row[0], player_name=row[1], vip_tier=row[2], agent_name=row[3])
        for row in rows
    ]


async def _load(uow: UnitOfWork, callback_id: int) -> Callback:
    callback = await uow.session.scalar(
        select(Callback).where(Callback.id == callback_id).with_for_update()
    )
    if callback is None:
        raise NotFound("no such callback", field="callback_id")
    return callback


async def _agent_for(uow: UnitOfWork, *, language: str) -> Agent | None:
    """An active agent who speaks the language: online first, then the fewest callbacks
    already assigned to them."""
    assigned = (
        select(func.count())
        .where(Callback.agent_id == Agent.id, Callback.status == CallbackStatus.ASSIGNED.value)
        .scalar_subquery()
    )
    agents = await uow.session.scalars(
        select(Agent)
        .where(Agent.is_active)
        .order_by(case((Agent.presence == "online", 0), else_=1), assigned, Agent.id)
    )
    # Languages are a JSON list: filtered here, the same way on both engines.
    return next((agent for agent in agents if language in (agent.languages or [])), None)


async def assign_callback(
    uow: UnitOfWork, *, actor: Actor, callback_id: int, agent_id: int | None
) -> Callback:
    """Give a waiting callback to an agent who speaks the player's language: the one named,
    or (none named) the best placed. Agents take callbacks for themselves; giving one to a
    colleague is a supervisor's call."""
    actor.require(Permission.TICKETS_WRITE)
    if agent_id is not None and agent_id != actor.agent_id:
        actor.require(Permission.FLOOR_READ)
    callback = await _load(uow, callback_id)
    if callback.status not in OPEN_CALLBACK:
        raise ValidationFailed("this callback is finished", field="callback_id")
    if callback.agent_id not in (None, actor.agent_id):
        # Taking a colleague's callback away is a supervisor's call, like giving one.
        actor.require(Permission.FLOOR_READ)
    if agent_id is None:
        agent = await _agent_for(uow, language=callback.language)
        if agent is None:
            raise ValidationFailed(
                f"no active agent speaks {callback.language!r}", field="agent_id"
            )
    else:
        agent = await uow.session.get(Agent, agent_id)
        if agent is None or not agent.is_active:
            raise ValidationFailed("no such active agent", field="agent_id")
        if callback.language not in (agent.languages or []):
            raise ValidationFailed(
                f"the agent does not speak {callback.language!r}", field="agent_id"
            )
    callback.agent_id = agent.id
    callback.status = CallbackStatus.ASSIGNED.value
    callback.updated_at = uow.clock.now()
    audit.record(
        uow,
        actor=actor,
        action="callback.assigned",
        entity_type="callback",
        entity_id=callback.id,
        details={"agent_id": agent.id},
    )
    await uow.commit()
    return callback


async def record_callback_outcome(
    uow: UnitOfWork,
    *,
    actor: Actor,
    callback_id: int,
    reached: bool,
    note: str,
    policy: CallbackPolicy,
) -> Callback:
    """After "call now": reached (done, with a note) or not (tried again later, and given up
    after the last attempt). The note is also kept on the callback's ticket, if it has one."""
    actor.require(Permission.TICKETS_WRITE)
    text = note.strip()
    if len(text) > MAX_OUTCOME_NOTE:
        raise ValidationFailed(f"at most {MAX_OUTCOME_NOTE} characters", field="note")
    if reached and not text:
        raise ValidationFailed("say what was agreed on the call", field="note")
    callback = await _load(uow, callback_id)
    if callback.status not in OPEN_CALLBACK:
        raise ValidationFailed("this callback is finished", field="callback_id")
    now = uow.clock.now()
    callback.attempts += 1
    callback.outcome_note = text or None
    callback.updated_at = now
    callback.agent_id = actor.agent_id or callback.agent_id
    if reached:
        callback.status = CallbackStatus.DONE.value
    elif callback.attempts >= policy.max_attempts:
        callback.status = CallbackStatus.FAILED.value
    else:
        # Back in the queue for anyone, later each time.
        callback.status = CallbackStatus.WAITING.value
        callback.agent_id = None
        callback.due_at = now + policy.retry_delay * callback.attempts
    if callback.ticket_id is not None and text and policy.limits and policy.routing:
        ticket = await uow.session.scalar(
            select(Ticket).where(Ticket.id == callback.ticket_id).with_for_update()
        )
        if ticket is not None and ticket.status != TicketStatus.CLOSED.value:
            await add_message(
                uow,
                ticket=ticket,
                author_kind=AuthorKind.AGENT,
                author=actor,
                kind=MessageKind.NOTE,
                body=text,
                client_msg_id=f"callback:{callback.id}:{callback.attempts}",
                attachment_ids=[],
                limits=policy.limits,
                routing_policy=policy.routing,
            )
    audit.record(
        uow,
        actor=actor,
        action="callback.outcome",
        entity_type="callback",
        entity_id=callback.id,
        details={"reached": reached, "status": callback.status, "attempts": callback.attempts},
    )
    await uow.commit()
    return callback
