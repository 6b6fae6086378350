"""Two `playerdesk serve` processes on PostgreSQL + Redis carry one chat: the widget is
connected to one process, the agent console to the other."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from websockets.asyncio.client import connect

from playerdesk.clock import FrozenClock
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.conftest import PG_URL, REDIS_URL, AgentFactory
from tests.web.test_live_chat import PASSWORD, console_login, receive

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="two processes need PostgreSQL + Redis (make test-pg)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(settings: Settings) -> Iterator[list[str]]:
    assert REDIS_URL is not None
    env = {
        **os.environ,
        "PLAYERDESK_DATABASE_URL": settings.database_url,
        "PLAYERDESK_REDIS_URL": REDIS_URL,
        "PLAYERDESK_REDIS_CHANNEL": f"playerdesk:test-two:{os.getpid()}",
        "PLAYERDESK_SECRET_KEY": settings.secret_key,  # both must verify each other's tokens
        "PLAYERDESK_DATA_DIR": str(settings.data_dir),
        "PLAYERDESK_LOG_FORMAT": "json",
    }
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "playerdesk", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"server on {port} did not start: {error[-2000:]}")
                time.sleep(0.2)
        yield [f"127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


async def test_a_chat_crosses_between_two_processes_through_redis(
    two_servers: list[str], runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    clock.set(datetime.now(UTC))  # the servers run on real time; the session must be valid there
    widget_host, console_host = two_servers
    agent = await make_agent(password=PASSWORD)
    cookie = await console_login(runtime, agent)
    async with httpx.AsyncClient(base_url=f"http://{widget_host}") as http:
        session = (await http.post("/widget/v1/session", json={"language": "sv"})).json()

    async with (
        connect(
            f"ws://{console_host}/ws/console",
            additional_headers={"Cookie": f"pd_session={cookie}"},
            origin=f"http://{console_host}",  # type: ignore[arg-type]
        ) as console,
        connect(f"ws://{widget_host}/ws/widget?token={session['token']}") as widget,
    ):
        await console.send(json.dumps({"type": "hello"}))
        await receive(console, "welcome")
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")

        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "x1", "body": "Hej!"})
        )
        ticket_id = (await receive(widget, "message.ack"))["message"]["ticket_id"]
        created = await receive(console, "ticket.created")
        assert created["ticket"]["id"] == ticket_id

        await console.send(json.dumps({"type": "watch", "ticket_id": ticket_id}))
        await receive(console, "watching")
        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "x2", "body": "Är ni där?"})
        )
        posted = await receive(console, "message.posted")
        assert posted["message"]["body"] == "Är ni där?"

        # The reply is posted on the console's process and reaches the widget on the other.
        async with httpx.AsyncClient(base_url=f"http://{console_host}") as http:
            reply = await http.post(
                f"/api/v1/tickets/{ticket_id}/messages",
                json={"body": "Ja, hur kan jag hjälpa till?"},
                headers=agent.headers,
            )
        assert reply.status_code == 201
        new = await receive(widget, "message.new")
        while new["message"]["author"] == "player":  # the player's own messages echo too
            new = await receive(widget, "message.new")
        assert new["message"]["body"] == "Ja, hur kan jag hjälpa till?"
