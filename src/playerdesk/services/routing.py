"""Routing: every new or reopened conversation goes to a team and, when somebody can take
it, to an agent; otherwise it waits in its team's queue until somebody can.

Agent load is kept as a number on the agent row (`load_units`, 100 = one live chat) and
each ticket remembers what it adds (`Ticket.load_units`), so a routing decision never counts
tickets. Automatic assignment raises the load with a conditional UPDATE, which is what
keeps capacity from being exceeded when two processes assign at the same moment.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
    update,
)

from playerdesk.db.models import (
    Agent,
    AgentShift,
    AgentTeam,
    Player,
    ShiftRow,
    Ticket,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel, Presence, Priority, TicketStatus
from playerdesk.domain.events import QueuePositionChanged
from playerdesk.domain.permissions import Actor
from playerdesk.domain.routing import (
    DEFAULT_CHANNEL_WEIGHTS,
    UNITS_PER_CHAT,
    AgentCapacity,
    RoutingFacts,
    choose_agent,
    choose_team,
    estimate_wait,
    queue_rank,
)
from playerdesk.domain.shifts import Rota, ScheduledShift, ShiftPattern, on_shift
from playerdesk.services import audit
from playerdesk.services.floor_config import floor_config
from playerdesk.services.ticket_events import changes_since, publish_ticket_updated

log = structlog.get_logger(__name__)

# An agent whose console has not been heard from for this long is not counted as online.
PRESENCE_STALE_AFTER = timedelta(seconds=90)
# Statuses in which a ticket waits on us and so weighs on its assignee.
LOADED_STATUSES = frozenset({TicketStatus.NEW.value, TicketStatus.OPEN.value})
UNRESOLVED_STATUSES = frozenset(
    {
        TicketStatus.NEW.value,
        TicketStatus.OPEN.value,
        TicketStatus.PENDING.value,
        TicketStatus.ON_HOLD.value,
    }
)
# Conversations a player is waiting in right now: released whenever their agent leaves.
LIVE_CHANNELS = frozenset(
    {
        Channel.WEB_CHAT.value,
        Channel.TELEGRAM.value,
        Channel.WHATSAPP.value,
        Channel.VIBER.value,
        Channel.PHONE.value,
    }
)
DRAIN_BATCH = 50
QUEUE_POSITIONS_PUBLISHED = 100
# Places counted ahead of a waiting conversation before "more than this" is said instead.
QUEUE_COUNTED_AHEAD = 200
HANDLING_TIME_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True)
class RoutingPolicy:
    channel_weights: Mapping[Channel, int] = field(
        default_factory=lambda: dict(DEFAULT_CHANNEL_WEIGHTS)
    )
    vip_tiers: Sequence[str] = ()

    def weight(self, channel: str) -> int:
        return self.channel_weights.get(Channel(channel), UNITS_PER_CHAT)


def online_since(now: datetime) -> datetime:
    return now - PRESENCE_STALE_AFTER


def load_of(ticket: Ticket, policy: RoutingPolicy) -> int:
    """What a ticket adds to its assignee's load in its present state."""
    if ticket.assignee_id is None or ticket.status not in LOADED_STATUSES:
        return 0
    return policy.weight(ticket.channel)


async def settle_load(
    uow: UnitOfWork, *, ticket: Ticket, previous_assignee_id: int | None, policy: RoutingPolicy
) -> int | None:
    """Bring agent loads in line with the ticket's assignee and status after a change.
    Returns the agent whose load went down (capacity freed), if any."""
    counted = ticket.load_units
    now_units = load_of(ticket, policy)
    if previous_assignee_id == ticket.assignee_id and counted == now_units:
        return None
    freed: int | None = None
    changes: list[tuple[int, ColumnElement[int]]] = []
    if previous_assignee_id is not None and counted:
        lowered = case((Agent.load_units > counted, Agent.load_units - counted), else_=0)
        changes.append((previous_assignee_id, lowered))
        if now_units < counted or previous_assignee_id != ticket.assignee_id:
            freed = previous_assignee_id
    if ticket.assignee_id is not None and now_units:
        changes.append((ticket.assignee_id, Agent.load_units + now_units))
    # In agent id order: two chats moving in opposite directions at once (A to B, B to A)
    # would otherwise each hold one agent's row and wait for the other's.
    for agent_id, load in sorted(changes, key=lambda change: change[0]):
        await uow.session.execute(update(Agent).where(Agent.id == agent_id).values(load_units=load))
    ticket.load_units = now_units
    return freed


async def routing_facts(
    uow: UnitOfWork, *, ticket: Ticket, player: Player | None = None
) -> RoutingFacts:
    """What routing needs to know; pass the ticket's player when it is already loaded."""
    if player is None:
        row = (
            await uow.session.execute(
                select(Player.vip_tier, Player.personal_manager_id).where(
                    Player.id == ticket.player_id
                )
            )
        ).one()
        vip_tier, manager_id = row.vip_tier, row.personal_manager_id
    else:
        vip_tier, manager_id = player.vip_tier, player.personal_manager_id
    return RoutingFacts(
        channel=Channel(ticket.channel),
        topic=ticket.topic,
        language=ticket.language,
        priority=Priority(ticket.priority),
        vip_tier=vip_tier,
        personal_manager_id=manager_id,
    )


def _schedule_window(now: datetime) -> ColumnElement[bool]:
    """Schedule entries that can matter around `now` (a night shift started yesterday)."""
    today = now.date()
    return and_(
        AgentShift.starts_on <= today + timedelta(days=1),
        or_(AgentShift.ends_on.is_(None), AgentShift.ends_on >= today - timedelta(days=2)),
    )


async def schedules_for(
    uow: UnitOfWork, *, agent_ids: Sequence[int] | None, now: datetime
) -> list[ScheduledShift]:
    query = (
        select(AgentShift, ShiftRow)
        .join(ShiftRow, ShiftRow.id == AgentShift.shift_id)
        .where(_schedule_window(now))
    )
    if agent_ids is not None:
        query = query.where(AgentShift.agent_id.in_(agent_ids))
    return [
        ScheduledShift(
            agent_id=entry.agent_id,
            pattern=shift_pattern(shift),
            starts_on=entry.starts_on,
            ends_on=entry.ends_on,
        )
        for entry, shift in (await uow.session.execute(query)).all()
    ]


def shift_pattern(shift: ShiftRow) -> ShiftPattern:
    return ShiftPattern(
        start_minute=shift.start_minute,
        end_minute=shift.end_minute,
        weekdays=frozenset(shift.weekdays),
        time_zone=shift.time_zone,
    )


# Every new chat runs these, so they are built once with bound parameters (building SQL
# expressions costs more CPU than running them) and speak Core: no ORM bookkeeping.
_AGENTS: Table = Agent.__table__  # type: ignore[assignment]
_AGENT_TEAMS: Table = AgentTeam.__table__  # type: ignore[assignment]
_AGENT_SHIFTS: Table = AgentShift.__table__  # type: ignore[assignment]
_SHIFTS: Table = ShiftRow.__table__  # type: ignore[assignment]


@functools.cache
def _candidates_query(*, by_team: bool, with_manager: bool) -> Select[Any]:
    member: ColumnElement[bool] = (
        _AGENTS.c.id.in_(
            select(_AGENT_TEAMS.c.agent_id).where(_AGENT_TEAMS.c.team_id == bindparam("team_id"))
        )
        if by_team
        else false()
    )
    # Schedule entries that can matter around now: a night shift may have started yesterday.
    in_window = and_(
        _AGENT_SHIFTS.c.agent_id == _AGENTS.c.id,
        _AGENT_SHIFTS.c.starts_on <= bindparam("window_end"),
        or_(
            _AGENT_SHIFTS.c.ends_on.is_(None),
            _AGENT_SHIFTS.c.ends_on >= bindparam("window_start"),
        ),
    )
    query = (
        select(
            _AGENTS.c.id,
            _AGENTS.c.languages,
            _AGENTS.c.max_concurrent_chats,
            _AGENTS.c.load_units,
            _AGENTS.c.last_assigned_at,
            member.label("in_team"),
            _AGENT_SHIFTS.c.starts_on,
            _AGENT_SHIFTS.c.ends_on,
            _SHIFTS.c.start_minute,
            _SHIFTS.c.end_minute,
            _SHIFTS.c.weekdays,
            _SHIFTS.c.time_zone,
        )
        .select_from(
            _AGENTS.outerjoin(_AGENT_SHIFTS, in_window).outerjoin(
                _SHIFTS, _SHIFTS.c.id == _AGENT_SHIFTS.c.shift_id
            )
        )
        .where(
            _AGENTS.c.is_active.is_(True),
            _AGENTS.c.presence == Presence.ONLINE.value,
            _AGENTS.c.last_seen_at > bindparam("seen_after"),
        )
    )
    if by_team:
        query = query.where(
            or_(member, _AGENTS.c.id == bindparam("manager_id")) if with_manager else member
        )
    return query


async def candidates(
    uow: UnitOfWork, *, team_id: int | None, manager_id: int | None, now: datetime
) -> list[AgentCapacity]:
    """Agents who could take a conversation of `team_id` now (and the VIP's manager). With
    no team (an installation without teams) the whole floor is one team. One query, the
    agents' shifts joined in: this runs for every new chat."""
    today = now.date()
    query = _candidates_query(by_team=team_id is not None, with_manager=manager_id is not None)
    params: dict[str, object] = {
        "seen_after": online_since(now),
        "window_start": today - timedelta(days=2),
        "window_end": today + timedelta(days=1),
    }
    if team_id is not None:
        params.update(team_id=team_id, manager_id=manager_id)
    agents: dict[int, Any] = {}
    schedules: list[ScheduledShift] = []
    for row in (await uow.session.execute(query, params)).all():
        agents.setdefault(row.id, row)
        if row.starts_on is not None:
            schedules.append(
                ScheduledShift(
                    agent_id=row.id,
                    pattern=ShiftPattern(
                        start_minute=row.start_minute,
                        end_minute=row.end_minute,
                        weekdays=frozenset(row.weekdays),
                        time_zone=row.time_zone,
                    ),
                    starts_on=row.starts_on,
                    ends_on=row.ends_on,
                )
            )
    never = datetime.min.replace(tzinfo=now.tzinfo)
    rota = Rota(schedules)
    return [
        AgentCapacity(
            agent_id=row.id,
            languages=frozenset(row.languages or []),
            # Only membership of this team matters to the decision being made.
            team_ids=frozenset({team_id}) if team_id is not None and row.in_team else frozenset(),
            capacity_units=row.max_concurrent_chats * UNITS_PER_CHAT,
            load_units=row.load_units,
            idle_since=row.last_assigned_at or never,
            available=rota.on_shift(agent_id=row.id, at=now),
        )
        for row in agents.values()
    ]


_CLAIM_CAPACITY = (
    update(_AGENTS)
    .where(
        _AGENTS.c.id == bindparam("agent_id"),
        _AGENTS.c.load_units + bindparam("weight")
        <= _AGENTS.c.max_concurrent_chats * UNITS_PER_CHAT,
    )
    .values(
        load_units=_AGENTS.c.load_units + bindparam("weight"), last_assigned_at=bindparam("now")
    )
    .returning(_AGENTS.c.id)
)


async def _claim_capacity(uow: UnitOfWork, *, agent_id: int, weight: int, now: datetime) -> bool:
    """Raise the agent's load only if it stays within capacity: atomic, so concurrent
    assignments to the same agent can never add up past it."""
    claimed = await uow.session.scalar(
        _CLAIM_CAPACITY, {"agent_id": agent_id, "weight": weight, "now": now}
    )
    return claimed is not None


@dataclass(frozen=True, kw_only=True)
class RoutingOutcome:
    team_id: int | None
    assignee_id: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class _Assignment:
    agent_id: int | None  # None: nobody with room, the ticket waits
    reason: str
    serving: int  # agents available to the ticket's queue (for a wait estimate)


async def _assign_best(
    uow: UnitOfWork, *, ticket: Ticket, facts: RoutingFacts, policy: RoutingPolicy
) -> _Assignment:
    now = uow.clock.now()
    weight = policy.weight(ticket.channel)
    pool = await candidates(
        uow,
        team_id=ticket.team_id,
        manager_id=facts.personal_manager_id if facts.vip_tier else None,
        now=now,
    )
    serving = sum(
        1
        for agent in pool
        if agent.available and (ticket.team_id is None or ticket.team_id in agent.team_ids)
    )
    while True:
        choice = choose_agent(facts=facts, team_id=ticket.team_id, agents=pool, weight_units=weight)
        if choice is None:
            return _Assignment(agent_id=None, reason="queued", serving=serving)
        if await _claim_capacity(uow, agent_id=choice.agent_id, weight=weight, now=now):
            return _Assignment(agent_id=choice.agent_id, reason=choice.reason, serving=serving)
        # Somebody else filled that agent meanwhile: decide again without them.
        pool = [agent for agent in pool if agent.agent_id != choice.agent_id]


async def route_ticket(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    policy: RoutingPolicy,
    announce_change: bool = True,
    player: Player | None = None,
) -> RoutingOutcome:
    """Route inside the caller's transaction: a team if it has none, then the best agent
    with room, else the team's queue. Never raises for a conversation no rule matches.
    With `announce_change=False` the caller announces (see `announce`) after its own
    events, e.g. after `ticket.created`. `player`: the ticket's player, if loaded."""
    with uow.session.no_autoflush:  # the ticket's changes go out in one UPDATE at the end
        return await _route(
            uow, ticket=ticket, policy=policy, announce_change=announce_change, player=player
        )


async def _route(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    policy: RoutingPolicy,
    announce_change: bool,
    player: Player | None,
) -> RoutingOutcome:
    before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
    facts = await routing_facts(uow, ticket=ticket, player=player)
    reason = "kept_team"
    if ticket.team_id is None:
        config = await floor_config(uow)
        choice = choose_team(rules=config.routing_rules, facts=facts, purposes=config.purposes)
        reason = choice.reason
        if choice.team_id is None:
            log.info("routing_no_team", ticket_id=ticket.id, topic=ticket.topic)
        elif choice.reason == "general":
            log.info("routing_unmatched", ticket_id=ticket.id, topic=ticket.topic)
        ticket.team_id = choice.team_id
    assignment = await _assign_best(uow, ticket=ticket, facts=facts, policy=policy)
    if assignment.agent_id is not None:
        reason = assignment.reason
        ticket.assignee_id = assignment.agent_id
        ticket.load_units = policy.weight(ticket.channel)
        ticket.queued_at = None
        action = "ticket.routed"
    else:
        ticket.queued_at = ticket.queued_at or uow.clock.now()
        ticket.queue_rank = queue_rank(facts=facts, vip_tiers=policy.vip_tiers)
        action = "ticket.queued"
    audit.record(
        uow,
        actor=Actor.system(),
        action=action,
        entity_type="ticket",
        entity_id=ticket.id,
        details={"team_id": ticket.team_id, "assignee_id": ticket.assignee_id, "reason": reason},
    )
    if announce_change:
        await announce(uow, ticket=ticket, before=before, serving=assignment.serving)
    return RoutingOutcome(team_id=ticket.team_id, assignee_id=ticket.assignee_id, reason=reason)


async def announce(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    before: Mapping[str, int | None] | None,
    serving: int | None = None,
) -> None:
    """Tell consoles what routing changed (`before`: team and assignee before it) and a
    waiting player where they stand (`serving`: the agents available to its queue, when
    routing has just counted them)."""
    if before is not None:
        publish_ticket_updated(uow, ticket=ticket, changes=changes_since(ticket, before))
    if ticket.queued_at is not None:
        await uow.session.flush()
        await publish_queue_position(uow, ticket=ticket, serving=serving)


def _same_queue(team_id: int | None) -> ColumnElement[bool]:
    in_team = Ticket.team_id == team_id if team_id is not None else Ticket.team_id.is_(None)
    return and_(Ticket.queued_at.is_not(None), in_team)


def _ahead_of(ticket: Ticket) -> ColumnElement[bool]:
    return and_(
        _same_queue(ticket.team_id),
        or_(
            Ticket.queue_rank > ticket.queue_rank,
            and_(
                Ticket.queue_rank == ticket.queue_rank,
                or_(
                    Ticket.queued_at < ticket.queued_at,
                    and_(Ticket.queued_at == ticket.queued_at, Ticket.id < ticket.id),
                ),
            ),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class QueuePlace:
    position: int  # 1 = next
    # More than QUEUE_COUNTED_AHEAD are ahead: `position` is a floor, not the place.
    more_ahead: bool = False


async def queue_position(uow: UnitOfWork, *, ticket: Ticket) -> QueuePlace | None:
    """Where a waiting conversation stands. Counting stops at QUEUE_COUNTED_AHEAD: a
    team's queue can hold thousands of emails, and a player learns as much from "more
    than 200 ahead" as from the exact number, at a bounded cost per routing decision."""
    if ticket.queued_at is None:
        return None
    counted = select(literal(1)).where(_ahead_of(ticket)).limit(QUEUE_COUNTED_AHEAD).subquery()
    ahead = int(await uow.session.scalar(select(func.count()).select_from(counted)) or 0)
    return QueuePlace(position=ahead + 1, more_ahead=ahead >= QUEUE_COUNTED_AHEAD)


async def _serving(uow: UnitOfWork, *, team_id: int | None) -> int:
    """Agents available to the queue now (all of them for the no-team floor queue)."""
    pool = await candidates(uow, team_id=team_id, manager_id=None, now=uow.clock.now())
    return sum(
        1 for agent in pool if agent.available and (team_id is None or team_id in agent.team_ids)
    )


# Per database and team: (when measured, by the process's monotonic clock; the value).
_handling_times: weakref.WeakKeyDictionary[Any, dict[int | None, tuple[float, timedelta | None]]]
_handling_times = weakref.WeakKeyDictionary()


async def recent_handling_time(uow: UnitOfWork, *, team_id: int | None) -> timedelta | None:
    """How long the team's conversations resolved in the last hour were worked on, kept
    HANDLING_TIME_SECONDS per process: it only feeds a wait estimate, and measuring it on
    every decision that queues cost a query."""
    per_team = _handling_times.setdefault(uow.session.get_bind(), {})
    cached = per_team.get(team_id)
    if cached is not None and time.monotonic() - cached[0] < HANDLING_TIME_SECONDS:
        return cached[1]
    measured = await _measure_handling_time(uow, team_id=team_id)
    per_team[team_id] = (time.monotonic(), measured)
    return measured


async def _measure_handling_time(uow: UnitOfWork, *, team_id: int | None) -> timedelta | None:
    now = uow.clock.now()
    in_team = Ticket.team_id == team_id if team_id is not None else Ticket.team_id.is_(None)
    rows = (
        await uow.session.execute(
            select(Ticket.first_response_at, Ticket.resolved_at)
            .where(
                in_team,
                Ticket.resolved_at > now - timedelta(hours=1),
                Ticket.first_response_at.is_not(None),
            )
            .limit(200)
        )
    ).all()
    spans = [resolved - started for started, resolved in rows if resolved and started]
    if not spans:
        return None
    return sum(spans, timedelta()) / len(spans)


@dataclass(frozen=True, kw_only=True)
class QueueStanding:
    position: int  # 1 = next
    estimated_wait: timedelta | None  # None: nobody serves the queue, or too far to say
    more_ahead: bool = False  # see QueuePlace

    @property
    def estimated_wait_seconds(self) -> int | None:
        return int(self.estimated_wait.total_seconds()) if self.estimated_wait else None


async def queue_standing(
    uow: UnitOfWork, *, ticket: Ticket, serving: int | None = None
) -> QueueStanding | None:
    """Where a waiting conversation stands; None when it is not waiting."""
    place = await queue_position(uow, ticket=ticket)
    if place is None:
        return None
    if place.more_ahead:
        return QueueStanding(position=place.position, estimated_wait=None, more_ahead=True)
    if serving is None:
        serving = await _serving(uow, team_id=ticket.team_id)
    return QueueStanding(
        position=place.position,
        estimated_wait=estimate_wait(
            position=place.position,
            agents_serving=serving,
            recent_handling_time=await recent_handling_time(uow, team_id=ticket.team_id),
        ),
    )


async def publish_queue_position(
    uow: UnitOfWork, *, ticket: Ticket, serving: int | None = None
) -> None:
    standing = await queue_standing(uow, ticket=ticket, serving=serving)
    if standing is None:
        return
    uow.publish_on_commit(
        QueuePositionChanged(
            occurred_at=uow.clock.now(),
            ticket_id=ticket.id,
            player_id=ticket.player_id,
            team_id=ticket.team_id,
            position=standing.position,
            estimated_wait_seconds=standing.estimated_wait_seconds,
            more_ahead=standing.more_ahead,
        )
    )


async def _publish_positions(uow: UnitOfWork, *, team_id: int | None) -> None:
    """Everyone still waiting in a queue that moved learns their new place (the first
    QUEUE_POSITIONS_PUBLISHED of them; the rest hear on the next move)."""
    waiting = (
        await uow.session.scalars(
            select(Ticket)
            .where(_same_queue(team_id))
            .order_by(Ticket.queue_rank.desc(), Ticket.queued_at, Ticket.id)
            .limit(QUEUE_POSITIONS_PUBLISHED)
        )
    ).all()
    if not waiting:
        return
    serving = await _serving(uow, team_id=team_id)
    handling = await recent_handling_time(uow, team_id=team_id)
    now = uow.clock.now()
    for position, ticket in enumerate(waiting, start=1):
        wait = estimate_wait(
            position=position, agents_serving=serving, recent_handling_time=handling
        )
        uow.publish_on_commit(
            QueuePositionChanged(
                occurred_at=now,
                ticket_id=ticket.id,
                player_id=ticket.player_id,
                team_id=team_id,
                position=position,
                estimated_wait_seconds=int(wait.total_seconds()) if wait is not None else None,
            )
        )


async def drain_queues(
    uow: UnitOfWork,
    *,
    team_ids: Sequence[int] | None,
    policy: RoutingPolicy,
    batch: int = DRAIN_BATCH,
) -> int:
    """Give waiting conversations to agents with room, highest rank and longest waiting
    first, inside the caller's transaction: the queues of `team_ids` and the no-team queue,
    or every queue (None). Returns how many were assigned."""
    query = (
        select(Ticket)
        .where(Ticket.queued_at.is_not(None), Ticket.status.in_(LOADED_STATUSES))
        .order_by(Ticket.queue_rank.desc(), Ticket.queued_at, Ticket.id)
        .limit(batch)
    )
    if team_ids is not None:
        # The no-team floor queue is everybody's (an installation without teams).
        query = query.where(or_(Ticket.team_id.in_(team_ids), Ticket.team_id.is_(None)))
    # Several workers may drain at once: each takes tickets nobody else holds (SQLite,
    # which serialises writers anyway, ignores the clause).
    query = query.with_for_update(skip_locked=True)
    waiting = (await uow.session.scalars(query)).all()
    assigned = 0
    full_teams: set[int | None] = set()
    moved: set[int | None] = set()
    for ticket in waiting:
        if ticket.team_id in full_teams:
            continue
        facts = await routing_facts(uow, ticket=ticket)
        before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
        chosen = await _assign_best(uow, ticket=ticket, facts=facts, policy=policy)
        if chosen.agent_id is None:
            # Nobody in this team has room; the VIP manager case is per ticket, keep going.
            if facts.personal_manager_id is None:
                full_teams.add(ticket.team_id)
            continue
        agent_id, reason = chosen.agent_id, chosen.reason
        ticket.assignee_id = agent_id
        ticket.load_units = policy.weight(ticket.channel)
        ticket.queued_at = None
        ticket.updated_at = uow.clock.now()
        audit.record(
            uow,
            actor=Actor.system(),
            action="ticket.routed",
            entity_type="ticket",
            entity_id=ticket.id,
            details={"team_id": ticket.team_id, "assignee_id": agent_id, "reason": reason},
        )
        publish_ticket_updated(uow, ticket=ticket, changes=changes_since(ticket, before))
        moved.add(ticket.team_id)
        assigned += 1
    if moved:
        await uow.session.flush()
        for team_id in moved:
            await _publish_positions(uow, team_id=team_id)
    return assigned


async def teams_of(uow: UnitOfWork, *, agent_id: int) -> list[int]:
    return list(
        (
            await uow.session.scalars(
                select(AgentTeam.team_id).where(AgentTeam.agent_id == agent_id)
            )
        ).all()
    )


async def capacity_freed(uow: UnitOfWork, *, agent_id: int, policy: RoutingPolicy) -> int:
    """An agent has room again (or came online): serve their teams' queues now."""
    return await drain_queues(uow, team_ids=await teams_of(uow, agent_id=agent_id), policy=policy)


async def agent_is_available(uow: UnitOfWork, *, agent_id: int) -> bool:
    """Online with a live console, active and on shift."""
    now = uow.clock.now()
    agent = await uow.session.get(Agent, agent_id)
    if (
        agent is None
        or not agent.is_active
        or agent.presence != Presence.ONLINE.value
        or agent.last_seen_at is None
        or agent.last_seen_at <= online_since(now)
    ):
        return False
    return on_shift(
        schedules=await schedules_for(uow, agent_ids=[agent_id], now=now),
        agent_id=agent_id,
        at=now,
    )


async def route_reopened(uow: UnitOfWork, *, ticket: Ticket, policy: RoutingPolicy) -> None:
    """A conversation came back to life: it stays with its agent when they are there (the
    player keeps talking to the same person), else it is routed like a new one."""
    if ticket.assignee_id is not None and await agent_is_available(
        uow, agent_id=ticket.assignee_id
    ):
        return
    previous = ticket.assignee_id
    ticket.assignee_id = None
    await settle_load(uow, ticket=ticket, previous_assignee_id=previous, policy=policy)
    await route_ticket(uow, ticket=ticket, policy=policy, announce_change=False)
    await announce(uow, ticket=ticket, before={"team_id": ticket.team_id, "assignee_id": previous})


async def release_agent_tickets(
    uow: UnitOfWork, *, agent_id: int, reason: str, policy: RoutingPolicy
) -> int:
    """The agent left (logout, offline, end of shift): nothing may stay stranded with them.
    Live conversations go back to routing whatever their status; email and form tickets
    only while they wait on us. Returns how many were released."""
    tickets = (
        await uow.session.scalars(
            select(Ticket)
            .where(
                Ticket.assignee_id == agent_id,
                or_(
                    and_(Ticket.channel.in_(LIVE_CHANNELS), Ticket.status.in_(UNRESOLVED_STATUSES)),
                    Ticket.status.in_(LOADED_STATUSES),
                ),
            )
            .order_by(Ticket.id)
            .with_for_update()
        )
    ).all()
    for ticket in tickets:
        ticket.assignee_id = None
        await settle_load(uow, ticket=ticket, previous_assignee_id=agent_id, policy=policy)
        audit.record(
            uow,
            actor=Actor.system(),
            action="ticket.released",
            entity_type="ticket",
            entity_id=ticket.id,
            details={"agent_id": agent_id, "reason": reason},
        )
        before = {"team_id": ticket.team_id, "assignee_id": agent_id}
        await route_ticket(uow, ticket=ticket, policy=policy, announce_change=False)
        await announce(uow, ticket=ticket, before=before)
    return len(tickets)


async def recount_loads(uow: UnitOfWork, *, policy: RoutingPolicy) -> int:
    """Recompute every agent's load from the tickets (repair after manual data fixes; the
    tests use it to check the running counts). Returns how many agents were corrected."""
    tickets = (
        await uow.session.scalars(
            select(Ticket).where(
                Ticket.assignee_id.is_not(None), Ticket.status.in_(LOADED_STATUSES)
            )
        )
    ).all()
    expected: dict[int, int] = {}
    for ticket in tickets:
        units = load_of(ticket, policy)
        ticket.load_units = units
        assert ticket.assignee_id is not None
        expected[ticket.assignee_id] = expected.get(ticket.assignee_id, 0) + units
    corrected = 0
    for agent in (await uow.session.scalars(select(Agent))).all():
        if agent.load_units != expected.get(agent.id, 0):
            agent.load_units = expected.get(agent.id, 0)
            corrected += 1
    return corrected
