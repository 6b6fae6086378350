"""Routing and SLA at floor scale: one routing decision and one SLA check pass with
100,000 open tickets and 500 agents, on a real database, printed as JSON.

Set-up (not timed) bulk-inserts the rows the services would have written: teams with
their purposes and routing rules, agents online with their loads, open tickets across
channels and statuses (chats assigned, emails pending, emails waiting in team queues,
tickets on hold) and each ticket's SLA clocks, computed with the domain's clock functions.
A share of the clocks is due now, so the SLA pass has warnings and breaches to record.

Timed:
- `routing_decision`: `services.routing.route_ticket` for a new live chat (a fresh ticket
  row inserted and its player loaded in the same transaction, not timed, as when a ticket
  is opened), until the decision is flushed; --decisions times, each committed, after
  --warm-up decisions that are not timed (the first ones compile and prepare statements,
  once per process);
- `sla_pass`: `services.sla.check_due_clocks` + commit with --due clocks due (at most one
  batch of 500 per pass), --passes times (each pass finds new due clocks);
- `floor_tick`: the whole periodic job (SLA pass, escalations, agents who left, queues).

    .venv/bin/python bench/routing_sla.py
    .venv/bin/python bench/routing_sla.py \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench --reset-database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from playerdesk.clock import FrozenClock
from playerdesk.db.migrate import upgrade_engine
from playerdesk.db.models import (
    Agent,
    AgentTeam,
    Player,
    RoutingRuleRow,
    SlaClockRow,
    Team,
    Ticket,
)
from playerdesk.domain.calendar import BusinessCalendar
from playerdesk.domain.routing import STANDARD_TOPICS, TeamPurpose
from playerdesk.domain.sla import SlaMetric, next_check_at, pause_clock, start_clock
from playerdesk.logging import configure_logging
from playerdesk.runtime import build_runtime, freeze_long_lived_objects
from playerdesk.services import floor, routing, sla
from playerdesk.settings import Settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LANGUAGES = ["en", "pl", "sv"]
CHUNK = 5_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float | int]:
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
        "p99_ms": round(percentile(values, 0.99), 3),
        "max_ms": round(max(values), 3),
    }


async def chunked_insert(connection: object, table: object, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await connection.execute(insert(table), rows[start : start + CHUNK])  # type: ignore[attr-defined]


def clock_row(
    ticket_id: int, metric: SlaMetric, target: timedelta, started: datetime, *, paused: bool
) -> dict[str, object]:
    calendar = BusinessCalendar.around_the_clock()
    clock = start_clock(
        metric=metric, target=target, warning_ratio=0.8, now=started, calendar=calendar
    )
    if paused:
        clock = pause_clock(clock, now=started + timedelta(minutes=1), calendar=calendar)
    return {
        "ticket_id": ticket_id,
        "metric": metric.value,
        "target_seconds": int(target.total_seconds()),
        "warning_ratio": 0.8,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "consumed_microseconds": clock.consumed // timedelta(microseconds=1),
        "running_since": clock.running_since,
        "stopped_at": None,
        "cancelled": False,
        "warned_at": None,
        "breached_at": None,
        "next_check_at": next_check_at(clock),
    }


async def seed(
    runtime: object, *, tickets: int, agents: int, due: int, seed_value: int
) -> dict[str, int]:
    rng = random.Random(seed_value)
    engine = runtime.engine  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        team_ids: list[int] = []
        purposes = {
            "general": TeamPurpose.GENERAL,
            "vip": TeamPurpose.VIP,
            "responsible_gambling": TeamPurpose.RESPONSIBLE_GAMBLING,
        }
        for position, topic in enumerate(STANDARD_TOPICS, start=1):
            team_id = await connection.scalar(
                insert(Team)
                .values(
                    name=topic.title(),
                    description="",
                    purpose=purposes[topic].value if topic in purposes else None,
                    created_at=NOW,
                )
                .returning(Team.id)
            )
            team_ids.append(int(team_id))
            await connection.execute(
                insert(RoutingRuleRow).values(
                    position=position,
                    name=topic,
                    topic=topic,
                    vip="any",
                    team_id=team_id,
                    is_active=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await connection.execute(
            insert(Team).values(name="Senior", description="", purpose="senior", created_at=NOW)
        )
        agent_rows = [
            {
                "email": f"agent{index}@bench.test",
                "name": f"Agent {index}",
                "role": "agent",
                "password_hash": None,
                "languages": ["en", rng.choice(LANGUAGES)],
                "max_concurrent_chats": 5,
                "is_active": True,
                "presence": "online",
                "last_seen_at": NOW,
                "load_units": 0,
                "last_assigned_at": NOW - timedelta(seconds=rng.randint(0, 3600)),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for index in range(agents)
        ]
        await chunked_insert(connection, Agent.__table__, agent_rows)
        agent_ids = [int(i) for i in (await connection.scalars(select(Agent.id))).all()]
        await chunked_insert(
            connection,
            AgentTeam.__table__,
            [
                {"agent_id": agent_id, "team_id": team_ids[index % len(team_ids)]}
                for index, agent_id in enumerate(agent_ids)
            ],
        )
        await chunked_insert(
            connection,
            Player.__table__,
            [
                {
                    "external_id": f"P-{index}",
                    "language": rng.choice(LANGUAGES),
                    "vip_tier": "gold" if index % 50 == 0 else None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for index in range(tickets)
            ],
        )
        player_ids = [
            int(i) for i in (await connection.scalars(select(Player.id).order_by(Player.id))).all()
        ]
        load: dict[int, int] = {}
        ticket_rows = []
        kinds = []
        for index, player_id in enumerate(player_ids):
            share = index % 100
            if share < 2:  # live chats, assigned: 2 %
                kind = ("web_chat", "open", rng.choice(agent_ids), 100)
            elif share < 62:  # emails waiting on the player
                kind = ("email", "pending", rng.choice(agent_ids), 0)
            elif share < 92:  # emails waiting in a team queue
                kind = ("email", "open", None, 0)
            else:
                kind = ("form", "on_hold", rng.choice(agent_ids), 0)
            channel, status, assignee, units = kind
            if assignee is not None and units:
                load[assignee] = load.get(assignee, 0) + units
            opened = NOW - timedelta(minutes=rng.randint(1, 600))
            kinds.append((channel, status, opened))
            ticket_rows.append(
                {
                    "number": 1001 + index,
                    "channel": channel,
                    "subject": "Bench ticket",
                    "status": status,
                    "priority": "normal",
                    "language": "en",
                    "topic": STANDARD_TOPICS[index % len(STANDARD_TOPICS)],
                    "player_id": player_id,
                    "team_id": team_ids[index % len(team_ids)],
                    "assignee_id": assignee,
                    "created_at": opened,
                    "updated_at": opened,
                    "last_message_at": opened,
                    "queued_at": opened if assignee is None else None,
                    "queue_rank": 1,
                    "load_units": units,
                    "escalation_level": 0,
                }
            )
        await chunked_insert(connection, Ticket.__table__, ticket_rows)
        ticket_ids = [
            int(i) for i in (await connection.scalars(select(Ticket.id).order_by(Ticket.id))).all()
        ]
        clock_rows = []
        due_left = due
        for ticket_id, (channel, status, opened) in zip(ticket_ids, kinds, strict=True):
            live = channel == "web_chat"
            paused = status in ("pending", "on_hold")
            resolution = timedelta(minutes=15) if live else timedelta(hours=24)
            started = opened
            if due_left > 0 and not paused:
                started = NOW - resolution - timedelta(seconds=5)  # its deadline has passed
                due_left -= 1
            elif not paused:
                started = NOW - timedelta(seconds=30)  # due later
            clock_rows.append(
                clock_row(ticket_id, SlaMetric.RESOLUTION, resolution, started, paused=paused)
            )
        await chunked_insert(connection, SlaClockRow.__table__, clock_rows)
        for agent_id, units in load.items():
            await connection.execute(
                text("UPDATE agents SET load_units = :units WHERE id = :id"),
                {"units": units, "id": agent_id},
            )
    return {"teams": len(team_ids) + 1, "agents": len(agent_ids), "tickets": len(ticket_ids)}


async def time_routing(
    runtime: object, *, decisions: int, warm_up: int, players: int
) -> tuple[list[float], list[float]]:
    """Decision times (ms): those that found an agent, and those that ended in a queue."""
    assigned: list[float] = []
    queued: list[float] = []
    for index in range(warm_up + decisions):
        async with runtime.uow() as uow:  # type: ignore[attr-defined]
            number = await uow.session.scalar(select(func.max(Ticket.number)))
            now = uow.clock.now()
            ticket = Ticket(
                number=int(number) + 1,
                channel="web_chat",
                subject="New chat",
                status="new",
                priority="normal",
                language=LANGUAGES[index % 3],
                topic=STANDARD_TOPICS[index % 4],
                player_id=1 + index % players,
                created_at=now,
                updated_at=now,
                last_message_at=now,
            )
            uow.session.add(ticket)
            await uow.session.flush()
            # Opening a ticket has its player loaded already and hands it to routing.
            player = await uow.session.get(Player, ticket.player_id)
            started = time.perf_counter()
            await routing.route_ticket(
                uow,
                ticket=ticket,
                policy=runtime.policies.routing,  # type: ignore[attr-defined]
                player=player,
            )
            await uow.session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            if index >= warm_up:
                (queued if ticket.queued_at is not None else assigned).append(elapsed)
            await uow.commit()
    return assigned, queued


async def time_sla_passes(runtime: object, *, passes: int) -> tuple[list[float], int]:
    timings = []
    recorded = 0
    for _ in range(passes):
        async with runtime.uow() as uow:  # type: ignore[attr-defined]
            started = time.perf_counter()
            events = await sla.check_due_clocks(uow)
            await uow.commit()
            timings.append((time.perf_counter() - started) * 1000)
            recorded += len(events)
    return timings, recorded


async def time_floor_ticks(runtime: object, *, ticks: int) -> list[float]:
    timings = []
    for _ in range(ticks):
        async with runtime.uow() as uow:  # type: ignore[attr-defined]
            started = time.perf_counter()
            await floor.run_floor_tick(
                uow,
                policy=runtime.policies.routing,  # type: ignore[attr-defined]
                mail_policy=runtime.policies.mail,  # type: ignore[attr-defined]
            )
            timings.append((time.perf_counter() - started) * 1000)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reset-database", action="store_true")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--due", type=int, default=2_000, help="clocks already past due")
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    configure_logging(log_format="json", level=logging.WARNING)  # stdout is the JSON result
    workdir = Path(tempfile.mkdtemp(prefix="pd-routing-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=workdir)
    clock = FrozenClock(NOW)
    runtime = build_runtime(settings, clock=clock)
    try:
        if args.reset_database and not url.startswith("sqlite"):
            async with runtime.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade_engine(runtime.engine)
        setup_started = time.perf_counter()
        counts = await seed(
            runtime, tickets=args.tickets, agents=args.agents, due=args.due, seed_value=args.seed
        )
        setup_seconds = time.perf_counter() - setup_started
        if not url.startswith("sqlite"):
            async with runtime.engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        freeze_long_lived_objects()  # as a started server process does
        cpu_started = time.process_time()
        assigned_ms, queued_ms = await time_routing(
            runtime, decisions=args.decisions, warm_up=args.warm_up, players=args.tickets
        )
        sla_ms, recorded = await time_sla_passes(runtime, passes=args.passes)
        clock.advance(timedelta(seconds=5))
        tick_ms = await time_floor_ticks(runtime, ticks=args.ticks)
        cpu_seconds = time.process_time() - cpu_started
    finally:
        await runtime.close()
    print(
        json.dumps(
            {
                "bench": "routing_sla",
                "database": "sqlite" if url.startswith("sqlite") else "postgresql",
                "open_tickets": counts["tickets"],
                "agents": counts["agents"],
                "teams": counts["teams"],
                "setup_seconds": round(setup_seconds, 1),
                "warm_up_decisions": args.warm_up,
                "routing_decision": summary(assigned_ms + queued_ms),
                "routing_decision_assigned": summary(assigned_ms),
                "routing_decision_queued": summary(queued_ms),
                "sla_pass": {**summary(sla_ms), "events_recorded": recorded},
                "floor_tick": summary(tick_ms),
                "bench_process_cpu_seconds": round(cpu_seconds, 2),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "loadavg_after": [round(value, 2) for value in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
