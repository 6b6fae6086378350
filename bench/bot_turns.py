"""How long a player waits for the bot's answer in a live conversation, printed as JSON.

Set-up (not timed): a fresh database (SQLite in a temporary directory, or --database-url),
migrated, with the demo knowledge base (32 articles per language), the bot switched on for
web chat, and the model loaded from a temporary data directory (trained there first).

Timed, per conversation (a new chat with one player question, the question cycled from a
small list of our own covering greetings, knowledge-base questions, a request for a person
and a risk message): the three steps of the bot job and their sum.
- `claim`: the turn claimed (one transaction);
- `plan`: the analysis and the knowledge-base search (a read transaction);
- `write`: the bot's message, status or hand-off with routing, the turn's outcome (one
  transaction);
- `turn`: all three: what the bot adds to the player's wait, besides the job's polling
  interval (PLAYERDESK_BOT_CHECK_SECONDS, 0.25 s by default: half of it on average).

No back office: identified-player lookups add the back office's own response time.

    .venv/bin/python bench/bot_turns.py --turns 300
    .venv/bin/python bench/bot_turns.py --turns 300 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench --reset-database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from playerdesk.bot.pipeline import Bot
from playerdesk.db.migrate import upgrade_engine
from playerdesk.demo_kb import seed_knowledge_base
from playerdesk.domain.enums import Channel
from playerdesk.domain.permissions import Actor
from playerdesk.logging import configure_logging
from playerdesk.runtime import build_runtime
from playerdesk.services import bot as bot_service
from playerdesk.services import bot_admin, tickets
from playerdesk.services.players import PlayerFields
from playerdesk.settings import Settings

QUESTIONS = (
    ("en", "hello"),
    ("en", "how long does a withdrawal take to reach my bank account?"),
    ("en", "which payment methods can I use to deposit?"),
    ("en", "what documents do you need to verify my account?"),
    ("en", "how does the wagering on the welcome bonus work?"),
    ("pl", "ile trwa wypłata na konto bankowe?"),
    ("pl", "jakie dokumenty są potrzebne do weryfikacji?"),
    ("sv", "hur lång tid tar ett uttag till banken?"),
    ("sv", "vilka betalmetoder kan jag använda för insättning?"),
    ("en", "I want to talk to a person"),
    ("en", "I have lost all my savings tonight and cannot stop playing"),
)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    return {
        "p50_ms": round(at(0.50), 2),
        "p95_ms": round(at(0.95), 2),
        "p99_ms": round(at(0.99), 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reset-database", action="store_true")
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()

    configure_logging(log_format="json", level=logging.WARNING)  # stdout is the JSON result
    workdir = Path(tempfile.mkdtemp(prefix="pd-bot-turns-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=workdir, languages=["en", "pl", "sv"])
    runtime = build_runtime(settings)
    timings: dict[str, list[float]] = {"claim": [], "plan": [], "write": [], "turn": []}
    outcomes: Counter[str] = Counter()
    try:
        if args.reset_database and not url.startswith("sqlite"):
            async with runtime.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade_engine(runtime.engine)
        async with runtime.uow() as uow:
            await seed_knowledge_base(uow, actor=Actor.system(), languages=["en", "pl", "sv"])
        async with runtime.uow() as uow:
            await bot_admin.set_bot_channel(
                uow, actor=Actor.system(), channel=Channel.WEB_CHAT, enabled=True
            )
        runtime.bot = Bot.load(
            data_dir=workdir, languages=["en", "pl", "sv"], default_language="en"
        )
        context = bot_service.BotContext(bot=runtime.bot, casino=None, public_url=None)
        policy = runtime.policies.bot
        for number in range(args.turns):
            language, question = QUESTIONS[number % len(QUESTIONS)]
            async with runtime.uow() as uow:
                await tickets.create_ticket(
                    uow,
                    actor=Actor.system(),
                    new=tickets.NewTicket(
                        channel=Channel.WEB_CHAT,
                        subject=question,
                        body=question,
                        player=PlayerFields(
                            name=f"Bench player {number}",
                            email=f"player{number}@bench.test",
                            language=language,
                        ),
                    ),
                    player_policy=runtime.policies.players,
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                )
            started = time.perf_counter()
            async with runtime.uow() as uow:
                [work] = await bot_service.claim_turns(uow, limit=1)
            claimed = time.perf_counter()
            async with runtime.read_uow() as uow:
                plan = await bot_service.plan_turn(uow, work=work, context=context)
            planned = time.perf_counter()
            async with runtime.uow() as uow:
                outcome = await bot_service.finish_turn(uow, work=work, plan=plan, policy=policy)
            written = time.perf_counter()
            outcomes[outcome.value] += 1
            timings["claim"].append((claimed - started) * 1000)
            timings["plan"].append((planned - claimed) * 1000)
            timings["write"].append((written - planned) * 1000)
            timings["turn"].append((written - started) * 1000)
    finally:
        await runtime.close()
    print(
        json.dumps(
            {
                "bench": "bot_turns",
                "database": "sqlite" if url.startswith("sqlite") else "postgresql",
                "turns": args.turns,
                "outcomes": dict(outcomes),
                **{step: _summary(values) for step, values in timings.items()},
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "loadavg_after": [round(value, 2) for value in os.getloadavg()],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
