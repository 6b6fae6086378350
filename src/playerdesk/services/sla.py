"""SLA clocks on tickets: which policy applies, starting, pausing and stopping the clocks as
the conversation moves, and the check that records warnings and breaches.

Deadlines are stored (`sla_clocks.next_check_at`, indexed), so the check loads only the
clocks something can happen to, and several workers can check at once (PostgreSQL rows are
claimed with SKIP LOCKED). The calendar and policy configuration is read through a short
per-process cache (services.floor_config).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, select, update

from playerdesk.db.models import (
    Player,
    SlaClockRow,
    SlaEventRow,
    Ticket,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import BusinessCalendar
from playerdesk.domain.enums import Channel, Priority, TicketStatus
from playerdesk.domain.events import SlaAlert
from playerdesk.domain.sla import (
    SlaClock,
    SlaClockEvent,
    SlaMetric,
    SlaPolicyRule,
    SlaTicketFacts,
    cancel_clock,
    check_clock,
    match_policy,
    next_check_at,
    pause_clock,
    remaining,
    resume_clock,
    start_clock,
    stop_clock,
)
from playerdesk.services.floor_config import FloorConfig, floor_config

CHECK_BATCH = 500
PAUSED_STATUSES = frozenset({TicketStatus.PENDING.value, TicketStatus.ON_HOLD.value})
DONE_STATUSES = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})


def clock_of(row: SlaClockRow | Row[Any]) -> SlaClock:
    return SlaClock(
        metric=SlaMetric(row.metric),
        target=timedelta(seconds=row.target_seconds),
        warning_ratio=row.warning_ratio,
        started_at=row.started_at,
        due_at=row.due_at,
        warn_at=row.warn_at,
        consumed=timedelta(microseconds=row.consumed_microseconds),
        running_since=row.running_since,
        stopped_at=row.stopped_at,
        cancelled=row.cancelled,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
    )


def clock_values(clock: SlaClock) -> dict[str, object]:
    """A clock as the columns of its row (all but its ids)."""
    return {
        "target_seconds": int(clock.target.total_seconds()),
        "warning_ratio": clock.warning_ratio,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "consumed_microseconds": clock.consumed // timedelta(microseconds=1),
        "running_since": clock.running_since,
        "stopped_at": clock.stopped_at,
        "cancelled": clock.cancelled,
        "warned_at": clock.warned_at,
        "breached_at": clock.breached_at,
        "next_check_at": next_check_at(clock),
    }


def _store(row: SlaClockRow, clock: SlaClock) -> None:
    for name, value in clock_values(clock).items():
        setattr(row, name, value)


# The chat hot path (a wait starting or answered on every turn of a conversation) speaks
# Core with statements built once, like services.messages: the ORM's unit of work costs
# more here than the SQL does.
_CLOCKS: Table = SlaClockRow.__table__  # type: ignore[assignment]
_RESTART_CLOCK = update(_CLOCKS).where(
    _CLOCKS.c.ticket_id == bindparam("target_ticket_id"),
    _CLOCKS.c.metric == bindparam("target_metric"),
)
_INSERT_CLOCK = insert(_CLOCKS)
_RUNNING_RESPONSE_CLOCKS = select(_CLOCKS).where(
    _CLOCKS.c.ticket_id == bindparam("target_ticket_id"),
    _CLOCKS.c.metric.in_([SlaMetric.FIRST_RESPONSE.value, SlaMetric.NEXT_RESPONSE.value]),
    _CLOCKS.c.stopped_at.is_(None),
)
_UPDATE_CLOCK = update(_CLOCKS).where(_CLOCKS.c.id == bindparam("target_clock_id"))


async def _clock_rows(uow: UnitOfWork, ticket_id: int) -> dict[SlaMetric, SlaClockRow]:
    rows = await uow.session.scalars(select(SlaClockRow).where(SlaClockRow.ticket_id == ticket_id))
    return {SlaMetric(row.metric): row for row in rows}


def _start(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    rows: dict[SlaMetric, SlaClockRow],
    metric: SlaMetric,
    policy: SlaPolicyRule,
    calendar: BusinessCalendar,
) -> None:
    target = policy.targets.target_for(metric)
    row = rows.get(metric)
    if target is None:
        if row is not None and row.stopped_at is None:
            _store(row, cancel_clock(clock_of(row), now=uow.clock.now(), calendar=calendar))
        return
    clock = start_clock(
        metric=metric,
        target=target,
        warning_ratio=policy.warning_ratio,
        now=uow.clock.now(),
        calendar=calendar,
    )
    if ticket.status in PAUSED_STATUSES:
        clock = pause_clock(clock, now=uow.clock.now(), calendar=calendar)
    if row is None:
        row = SlaClockRow(ticket_id=ticket.id, metric=metric.value)
        uow.session.add(row)
        rows[metric] = row
    _store(row, clock)


def _facts(ticket: Ticket, *, vip_tier: str | None) -> SlaTicketFacts:
    return SlaTicketFacts(
        channel=Channel(ticket.channel),
        priority=Priority(ticket.priority),
        vip_tier=vip_tier,
        team_id=ticket.team_id,
    )


async def start_ticket_clocks(uow: UnitOfWork, *, ticket: Ticket, vip_tier: str | None) -> None:
    """A new ticket: pick its policy and start first response and resolution. The first
    player message is covered by the first-response clock, so it waits from now."""
    config = await floor_config(uow)
    match = _match(config, _facts(ticket, vip_tier=vip_tier))
    if match is None:
        ticket.sla_policy_id = None
        return
    policy_id, policy = match
    ticket.sla_policy_id = policy_id
    calendar = config.calendar_for(ticket.team_id)
    rows: dict[SlaMetric, SlaClockRow] = {}
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        _start(uow, ticket=ticket, rows=rows, metric=metric, policy=policy, calendar=calendar)


def _match(config: FloorConfig, facts: SlaTicketFacts) -> tuple[int, SlaPolicyRule] | None:
    rule = match_policy(rules=[rule for _, rule in config.sla_policies], facts=facts)
    if rule is None:
        return None
    return next((policy_id, item) for policy_id, item in config.sla_policies if item is rule)


async def wait_started(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """A player message with nobody owing them an answer (the caller has set
    `waiting_since`): the next-response clock starts afresh. The first wait is covered by
    the first-response clock, so nothing starts before the first agent reply."""
    if ticket.first_response_at is None or ticket.sla_policy_id is None:
        return
    config = await floor_config(uow)
    policy = config.sla_policy(ticket.sla_policy_id)
    target = policy.targets.next_response if policy is not None else None
    if policy is None or target is None:
        return
    now = uow.clock.now()
    calendar = config.calendar_for(ticket.team_id)
    clock = start_clock(
        metric=SlaMetric.NEXT_RESPONSE,
        target=target,
        warning_ratio=policy.warning_ratio,
        now=now,
        calendar=calendar,
    )
    if ticket.status in PAUSED_STATUSES:
        clock = pause_clock(clock, now=now, calendar=calendar)
    values = clock_values(clock)
    restarted = await uow.session.execute(
        _RESTART_CLOCK,
        {
            "target_ticket_id": ticket.id,
            "target_metric": SlaMetric.NEXT_RESPONSE.value,
            **values,
        },
    )
    if restarted.rowcount == 0:  # type: ignore[attr-defined]
        await uow.session.execute(
            _INSERT_CLOCK,
            {"ticket_id": ticket.id, "metric": SlaMetric.NEXT_RESPONSE.value, **values},
        )


async def wait_answered(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """A public agent reply answered the waiting player (the caller has cleared
    `waiting_since`): the response clocks stop. A bot reply never comes here."""
    if ticket.sla_policy_id is None:
        return  # no policy, no clocks
    calendar = (await floor_config(uow)).calendar_for(ticket.team_id)
    now = uow.clock.now()
    running = (
        await uow.session.execute(_RUNNING_RESPONSE_CLOCKS, {"target_ticket_id": ticket.id})
    ).all()
    for row in running:
        stopped = stop_clock(clock_of(row), now=now, calendar=calendar)
        await uow.session.execute(
            _UPDATE_CLOCK, {"target_clock_id": row.id, **clock_values(stopped)}
        )


async def status_changed(uow: UnitOfWork, *, ticket: Ticket, before: str) -> None:
    """Pending on the player or on hold pauses every clock; back to work resumes them;
    resolving stops resolution (met or breached) and cancels the response clocks."""
    after = ticket.status
    if after in DONE_STATUSES:
        ticket.waiting_since = None
    watched = PAUSED_STATUSES | DONE_STATUSES
    # New -> open (a first reply) changes no clock; without a policy there are none.
    if before == after or (before not in watched and after not in watched):
        return
    if ticket.sla_policy_id is None:
        return
    config = await floor_config(uow)
    calendar = config.calendar_for(ticket.team_id)
    now = uow.clock.now()
    for metric, row in (await _clock_rows(uow, ticket.id)).items():
        clock = clock_of(row)
        if after in DONE_STATUSES:
            halt = stop_clock if metric is SlaMetric.RESOLUTION else cancel_clock
            clock = halt(clock, now=now, calendar=calendar)
        elif after in PAUSED_STATUSES:
            clock = pause_clock(clock, now=now, calendar=calendar)
        else:
            clock = resume_clock(clock, now=now, calendar=calendar)
        _store(row, clock)


async def reapply_policy(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """Channel, priority, team or VIP tier changed: running clocks take the new policy's
    targets (and the new team's calendar), keeping the business time already used."""
    config = await floor_config(uow)
    vip_tier = await uow.session.scalar(
        select(Player.vip_tier).where(Player.id == ticket.player_id)
    )
    match = _match(config, _facts(ticket, vip_tier=vip_tier))
    ticket.sla_policy_id = match[0] if match is not None else None
    calendar = config.calendar_for(ticket.team_id)
    now = uow.clock.now()
    for metric, row in (await _clock_rows(uow, ticket.id)).items():
        clock = clock_of(row)
        if clock.is_stopped:
            continue
        target = match[1].targets.target_for(metric) if match is not None else None
        if target is None:
            _store(row, cancel_clock(clock, now=now, calendar=calendar))
            continue
        was_running = clock.is_running
        paused = pause_clock(clock, now=now, calendar=calendar)
        assert match is not None
        paused = replace(paused, target=target, warning_ratio=match[1].warning_ratio)
        if paused.warned_at is None:
            paused = replace(paused, warn_at=None)
        if paused.breached_at is None:
            paused = replace(paused, due_at=None)
        _store(row, resume_clock(paused, now=now, calendar=calendar) if was_running else paused)


@dataclass(frozen=True, kw_only=True)
class RecordedSlaEvent:
    ticket: Ticket
    event: SlaClockEvent


async def check_due_clocks(uow: UnitOfWork, *, batch: int = CHECK_BATCH) -> list[RecordedSlaEvent]:
    """Record the warnings and breaches whose time has come, inside the caller's
    transaction; returns them so the caller can escalate."""
    now = uow.clock.now()
    # A clock is claimed together with its ticket, both skipping rows another transaction
    # holds (SQLite ignores the clause). Everywhere else a ticket is locked before its
    # clocks: a replying agent, an escalation repricing them. Holding clocks here while
    # waiting for their ticket would close that circle into a deadlock; a clock whose ticket
    # is busy is simply checked on the next pass.
    query = (
        select(SlaClockRow, Ticket)
        .join(Ticket, Ticket.id == SlaClockRow.ticket_id)
        .where(SlaClockRow.next_check_at <= now)
        .order_by(SlaClockRow.next_check_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    recorded: list[RecordedSlaEvent] = []
    for row, ticket in (await uow.session.execute(query)).all():
        clock, events = check_clock(clock_of(row), now=now)
        _store(row, clock)
        for event in events:
            uow.session.add(
                SlaEventRow(
                    ticket_id=row.ticket_id,
                    metric=event.metric.value,
                    kind=event.transition.value,
                    due_at=clock.due_at or event.occurred_at,
                    occurred_at=event.occurred_at,
                    detected_at=event.detected_at,
                )
            )
            uow.publish_on_commit(
                SlaAlert(
                    occurred_at=event.occurred_at,
                    ticket_id=ticket.id,
                    ticket_number=ticket.number,
                    metric=event.metric.value,
                    kind="warning" if event.transition.value == "warning" else "breach",
                    due_at=clock.due_at or event.occurred_at,
                    team_id=ticket.team_id,
                    assignee_id=ticket.assignee_id,
                )
            )
            recorded.append(RecordedSlaEvent(ticket=ticket, event=event))
    return recorded


@dataclass(frozen=True, kw_only=True)
class ClockView:
    """One clock as the API and the console show it."""

    metric: SlaMetric
    state: str
    target_seconds: int
    due_at: datetime | None
    warn_at: datetime | None
    remaining_seconds: int
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None


async def clock_views(uow: UnitOfWork, *, ticket_ids: Sequence[int]) -> dict[int, list[ClockView]]:
    """The SLA of many tickets in one query (inbox lists, the API)."""
    if not ticket_ids:
        return {}
    config = await floor_config(uow)
    now = uow.clock.now()
    result: dict[int, list[ClockView]] = {ticket_id: [] for ticket_id in ticket_ids}
    rows = await uow.session.execute(
        select(SlaClockRow, Ticket.team_id)
        .join(Ticket, Ticket.id == SlaClockRow.ticket_id)
        .where(SlaClockRow.ticket_id.in_(ticket_ids))
        .order_by(SlaClockRow.ticket_id, SlaClockRow.id)
    )
    for row, team_id in rows:
        clock = clock_of(row)
        left = remaining(clock, now=now, calendar=config.calendar_for(team_id))
        result[row.ticket_id].append(
            ClockView(
                metric=clock.metric,
                state=clock.state.value,
                target_seconds=row.target_seconds,
                due_at=clock.due_at,
                warn_at=clock.warn_at,
                remaining_seconds=int(left.total_seconds()),
                warned_at=clock.warned_at,
                breached_at=clock.breached_at,
                stopped_at=clock.stopped_at,
            )
        )
    return result


@dataclass(frozen=True, kw_only=True)
class TicketSla:
    """A ticket's SLA at a glance: the worst state of its clocks and the next deadline."""

    policy_id: int | None
    state: str  # "breached", "warning", "running", "paused", "met" or "none"
    next_due_at: datetime | None
    clocks: list[ClockView]


def summarize(*, policy_id: int | None, clocks: list[ClockView]) -> TicketSla:
    live = [clock for clock in clocks if clock.stopped_at is None]
    if any(clock.breached_at is not None for clock in live):
        state = "breached"
    elif any(clock.warned_at is not None for clock in live):
        state = "warning"
    elif any(clock.state == "running" for clock in live):
        state = "running"
    elif live:
        state = "paused"
    elif any(clock.state == "breached" for clock in clocks):
        state = "breached"
    elif clocks:
        state = "met"
    else:
        state = "none"
    upcoming = [clock.due_at for clock in live if clock.due_at and clock.breached_at is None]
    return TicketSla(
        policy_id=policy_id, state=state, next_due_at=min(upcoming, default=None), clocks=clocks
    )


async def ticket_slas(uow: UnitOfWork, *, tickets: Sequence[Ticket]) -> dict[int, TicketSla]:
    """The SLA summary of each ticket, in one query (read alongside a ticket the caller may
    already read)."""
    views = await clock_views(uow, ticket_ids=[ticket.id for ticket in tickets])
    return {
        ticket.id: summarize(policy_id=ticket.sla_policy_id, clocks=views.get(ticket.id, []))
        for ticket in tickets
    }
