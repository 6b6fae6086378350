"""The support floor as a whole: the periodic tick that keeps promises (SLA checks,
escalations, nobody stranded with an agent who left, queues served) and the live picture a
supervisor runs the floor by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import and_, func, or_, select

from playerdesk.db.models import Agent, AgentTeam, SlaClockRow, Team, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Presence
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.routing import UNITS_PER_CHAT
from playerdesk.domain.shifts import Rota
from playerdesk.services import escalation, routing, sla
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.routing import RoutingPolicy

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class TickResult:
    sla_events: int
    escalations: int
    released: int
    assigned: int


async def _agents_who_left(uow: UnitOfWork, *, now: datetime) -> list[int]:
    """Agents still holding live conversations (or ones waiting on us) who are gone: signed
    off, console silent past the presence window, or their shift is over."""
    holding = (
        select(Ticket.assignee_id)
        .where(
            Ticket.assignee_id.is_not(None),
            or_(
                and_(
                    Ticket.channel.in_(routing.LIVE_CHANNELS),
                    Ticket.status.in_(routing.UNRESOLVED_STATUSES),
                ),
                Ticket.status.in_(routing.LOADED_STATUSES),
            ),
        )
        .distinct()
    )
    agents = (await uow.session.scalars(select(Agent).where(Agent.id.in_(holding)))).all()
    if not agents:
        return []
    rota = Rota(await routing.schedules_for(uow, agent_ids=[agent.id for agent in agents], now=now))
    gone = []
    for agent in agents:
        reachable = (
            agent.is_active
            and agent.presence != Presence.OFFLINE.value
            and agent.last_seen_at is not None
            and agent.last_seen_at > routing.online_since(now)
        )
        if not reachable or not rota.on_shift(agent_id=agent.id, at=now):
            gone.append(agent.id)
    return gone


async def run_floor_tick(
    uow: UnitOfWork, *, policy: RoutingPolicy, mail_policy: MailPolicy
) -> TickResult:
    """One pass, one transaction: record due SLA warnings and breaches and escalate on them,
    escalate tickets unresolved too long, take conversations back from agents who left and
    serve every queue. Safe to run in several workers at once."""
    now = uow.clock.now()
    events = await sla.check_due_clocks(uow)
    escalations = await escalation.escalate_for_sla_events(
        uow, events=events, policy=policy, mail_policy=mail_policy
    )
    escalations += await escalation.escalate_unresolved(uow, policy=policy, mail_policy=mail_policy)
    released = 0
    for agent_id in await _agents_who_left(uow, now=now):
        released += await routing.release_agent_tickets(
            uow, agent_id=agent_id, reason="agent_left", policy=policy
        )
    assigned = await routing.drain_queues(uow, team_ids=None, policy=policy)
    await uow.commit()
    result = TickResult(
        sla_events=len(events), escalations=escalations, released=released, assigned=assigned
    )
    if events or escalations or released or assigned:
        log.info("floor_tick", **result.__dict__)
    return result


@dataclass(frozen=True, kw_only=True)
class QueueView:
    team_id: int | None
    team_name: str | None
    waiting: int
    longest_wait_seconds: int
    agents_available: int


@dataclass(frozen=True, kw_only=True)
class AgentView:
    agent_id: int
    name: str
    presence: str
    reachable: bool
    on_shift: bool
    languages: list[str]
    load_units: int
    capacity_units: int


@dataclass(frozen=True, kw_only=True)
class AtRiskView:
    ticket_id: int
    number: int
    subject: str
    metric: str
    state: str  # "warning" or "breached"
    due_at: datetime | None
    team_id: int | None
    assignee_id: int | None
    priority: str


@dataclass(frozen=True, kw_only=True)
class FloorSnapshot:
    at: datetime
    queues: list[QueueView]
    agents: list[AgentView]
    online_by_language: dict[str, int]
    at_risk: list[AtRiskView]


AT_RISK_LIMIT = 200


async def at_risk_tickets(uow: UnitOfWork, *, limit: int = AT_RISK_LIMIT) -> list[AtRiskView]:
    """Running clocks past their warning (or breached and not yet answered), soonest due
    first: the "at risk" view."""
    rows = await uow.session.execute(
        select(SlaClockRow, Ticket)
        .join(Ticket, Ticket.id == SlaClockRow.ticket_id)
        .where(
            SlaClockRow.stopped_at.is_(None),
            SlaClockRow.warned_at.is_not(None),
            Ticket.status.in_(routing.UNRESOLVED_STATUSES),
        )
        .order_by(SlaClockRow.due_at, SlaClockRow.id)
        .limit(limit)
    )
    return [
        AtRiskView(
            ticket_id=ticket.id,
            number=ticket.number,
            subject=ticket.subject,
            metric=clock.metric,
            state="breached" if clock.breached_at is not None else "warning",
            due_at=clock.due_at,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            priority=ticket.priority,
        )
        for clock, ticket in rows
    ]


async def floor_snapshot(uow: UnitOfWork, *, actor: Actor) -> FloorSnapshot:
    """Queues and their waits, who is online by language and how loaded, at-risk tickets."""
    actor.require(Permission.FLOOR_READ)
    now = uow.clock.now()
    agents = (
        await uow.session.scalars(
            select(Agent).where(Agent.is_active.is_(True)).order_by(Agent.name, Agent.id)
        )
    ).all()
    rota = Rota(await routing.schedules_for(uow, agent_ids=None, now=now))
    memberships: dict[int, set[int]] = {}
    for agent_id, team_id in await uow.session.execute(
        select(AgentTeam.agent_id, AgentTeam.team_id)
    ):
        memberships.setdefault(agent_id, set()).add(team_id)
    agent_views = []
    available_ids = set()
    by_language: dict[str, int] = {}
    for agent in agents:
        reachable = (
            agent.presence == Presence.ONLINE.value
            and agent.last_seen_at is not None
            and agent.last_seen_at > routing.online_since(now)
        )
        shift = rota.on_shift(agent_id=agent.id, at=now)
        if reachable and shift:
            available_ids.add(agent.id)
            for language in agent.languages or []:
                by_language[language] = by_language.get(language, 0) + 1
        agent_views.append(
            AgentView(
                agent_id=agent.id,
                name=agent.name,
                presence=agent.presence,
                reachable=reachable,
                on_shift=shift,
                languages=list(agent.languages or []),
                load_units=agent.load_units,
                capacity_units=agent.max_concurrent_chats * UNITS_PER_CHAT,
            )
        )
    team_names: dict[int, str] = {
        int(team_id): name
        for team_id, name in await uow.session.execute(select(Team.id, Team.name))
    }
    queues = []
    for queue_team, waiting, oldest in await uow.session.execute(
        select(Ticket.team_id, func.count(), func.min(Ticket.queued_at))
        .where(Ticket.queued_at.is_not(None))
        .group_by(Ticket.team_id)
    ):
        serving = sum(
            1
            for agent_id in available_ids
            if queue_team is None or queue_team in memberships.get(agent_id, set())
        )
        queues.append(
            QueueView(
                team_id=queue_team,
                team_name=team_names.get(queue_team) if queue_team is not None else None,
                waiting=int(waiting),
                longest_wait_seconds=max(0, int((now - oldest).total_seconds())) if oldest else 0,
                agents_available=serving,
            )
        )
    queues.sort(key=lambda queue: (-queue.longest_wait_seconds, queue.team_name or ""))
    return FloorSnapshot(
        at=now,
        queues=queues,
        agents=agent_views,
        online_by_language=dict(sorted(by_language.items())),
        at_risk=await at_risk_tickets(uow),
    )
