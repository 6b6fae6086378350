"""CPU and SQL statements per call on the live-chat hot path, closed loop, one process.

Where `chat_load.py` measures the whole system over sockets (and is at the mercy of a busy
machine's wall clock), this measures what one web process spends per operation: each
operation runs `--calls` times one after another, in this process, against a fresh
database, and the CPU time of this process (`time.process_time`, all threads: aiosqlite
runs in one) is divided by the number of calls. Prints one JSON object.

Operations (the same calls the sockets and the REST reply make):

- `widget_message`: `chat.post_widget_message` with the widget's `ticket_id`, as the
  widget sends it once its conversation exists;
- `agent_reply_http`: `POST /api/v1/tickets/{id}/messages` with a session cookie and CSRF
  token, in process over ASGI (authentication, the handler, the service, the response);
- `agent_reply`: `agent_replies.post_agent_message` alone;
- `player_receipt`: `chat.record_player_receipt` with a growing `read_up_to`;
- `authenticate_session`: the console's session check.

    .venv/bin/python bench/chat_cpu.py --calls 400
    .venv/bin/python bench/chat_cpu.py --calls 400 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench --reset-database
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

from playerdesk.db.migrate import upgrade_engine
from playerdesk.domain.enums import AgentRole, MessageKind
from playerdesk.domain.permissions import Actor
from playerdesk.logging import configure_logging
from playerdesk.realtime.bus import InMemoryBus
from playerdesk.runtime import Runtime, build_runtime
from playerdesk.services import agent_replies, auth, chat
from playerdesk.services import agents as agent_service
from playerdesk.services.players import PlayerFields
from playerdesk.settings import Settings
from playerdesk.web.app import create_app
from playerdesk.web.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_token_for

SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789"
PASSWORD = "bench-password-123"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class StatementCounter:
    def __init__(self, runtime: Runtime) -> None:
        self.statements = 0
        self.round_trips = 0
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.round_trips += 1
        if not str(args[2]).strip().upper().startswith(TRANSACTION_CONTROL):
            self.statements += 1


async def reset_postgres(runtime: Runtime) -> None:
    async with runtime.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


async def measure(
    name: str, calls: int, counter: StatementCounter, call: Callable[[int], Awaitable[None]]
) -> dict[str, Any]:
    for index in range(min(20, calls)):  # warm caches (compiled statements, pool)
        await call(-1 - index)
    counter.statements = counter.round_trips = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(calls):
        await call(index)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "operation": name,
        "calls": calls,
        "cpu_ms_per_call": round(cpu * 1000 / calls, 3),
        "wall_ms_per_call": round(wall * 1000 / calls, 3),
        "statements_per_call": round(counter.statements / calls, 2),
        "round_trips_per_call": round(counter.round_trips / calls, 2),
    }


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=database_url, data_dir=workdir, secret_key=SECRET_KEY)
    runtime = build_runtime(settings, bus=InMemoryBus())
    try:
        if args.reset_database and not settings.is_sqlite:
            await reset_postgres(runtime)
        await upgrade_engine(runtime.engine)
        async with runtime.uow() as uow:
            await agent_service.create_agent(
                uow,
                actor=Actor.system(),
                email="bench@example.test",
                name="Bench Agent",
                role=AgentRole.ADMIN,
                password=PASSWORD,
                languages=["en"],
                supported_languages=runtime.policies.players.languages,
            )
        async with runtime.uow() as uow:
            signed_in = await auth.login(
                uow,
                email="bench@example.test",
                password=PASSWORD,
                ip="127.0.0.1",
                user_agent="bench",
                policy=runtime.policies.login,
            )
        async with runtime.uow() as uow:
            actor = (
                await auth.authenticate_session(uow, token=signed_in.session_token, ip=None)
            ).actor
        identity = chat.WidgetIdentity(visitor_id=f"v-{secrets.token_hex(8)}")

        async def widget(index: int, claimed: int | None = None) -> int:
            async with runtime.uow() as uow:
                result = await chat.post_widget_message(
                    uow,
                    identity=identity,
                    body=f"player message {index}, card 4111 1111 1111 1111",
                    client_msg_id=f"p-{index}-{secrets.token_hex(4)}",
                    attachment_ids=[],
                    claimed_ticket_id=claimed,
                    fields=PlayerFields(language="en"),
                    policy=runtime.policies.players,
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                )
            return result.ticket.id

        ticket_id = await widget(0)
        counter = StatementCounter(runtime)
        results = []

        async def widget_message(index: int) -> None:
            await widget(index, ticket_id)

        results.append(await measure("widget_message", args.calls, counter, widget_message))

        nonce = secrets.token_hex(16)
        app = create_app(settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            cookies={SESSION_COOKIE: signed_in.session_token, CSRF_COOKIE: nonce},
            headers={CSRF_HEADER: csrf_token_for(nonce, secret_key=SECRET_KEY)},
        ) as http:

            async def agent_reply_http(index: int) -> None:
                response = await http.post(
                    f"/api/v1/tickets/{ticket_id}/messages",
                    json={"body": f"http reply {index}", "client_msg_id": secrets.token_hex(8)},
                )
                if response.status_code != 201:
                    raise RuntimeError(f"reply: {response.status_code} {response.text}")

            results.append(await measure("agent_reply_http", args.calls, counter, agent_reply_http))

        async def agent_reply(index: int) -> None:
            async with runtime.uow() as uow:
                await agent_replies.post_agent_message(
                    uow,
                    actor=actor,
                    ticket_id=ticket_id,
                    body=f"reply {index}",
                    kind=MessageKind.REPLY,
                    client_msg_id=secrets.token_hex(8),
                    attachment_ids=[],
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                    mail_policy=runtime.policies.mail,
                )

        results.append(await measure("agent_reply", args.calls, counter, agent_reply))

        read_up_to = 0

        async def player_receipt(index: int) -> None:
            nonlocal read_up_to
            read_up_to += 1
            async with runtime.uow() as uow:
                await chat.record_player_receipt(
                    uow, identity=identity, delivered_up_to=None, read_up_to=read_up_to
                )

        results.append(await measure("player_receipt", args.calls, counter, player_receipt))

        async def authenticate_session(index: int) -> None:
            async with runtime.uow() as uow:
                await auth.authenticate_session(uow, token=signed_in.session_token, ip=None)

        results.append(
            await measure("authenticate_session", args.calls, counter, authenticate_session)
        )
        return {
            "benchmark": "chat_cpu",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": "sqlite" if settings.is_sqlite else "postgresql",
            "results": results,
        }
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset-database", action="store_true")
    args = parser.parse_args()
    configure_logging(log_format="json")
    with tempfile.TemporaryDirectory(prefix="chat-cpu-") as workdir:
        print(json.dumps(asyncio.run(run(args, Path(workdir))), indent=2))


if __name__ == "__main__":
    main()
