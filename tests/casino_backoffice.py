"""The demo casino back office served over real HTTP for tests of what sits on top of the
connector: uvicorn on a free loopback port in the test's event loop, with its faults switchable
while it runs, and an ASGI wrapper that makes chosen endpoints break the contract."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn

from playerdesk.crm.demo_backoffice import DemoFaults, create_demo_backoffice
from playerdesk.crm.http import CasinoApiConfig, HttpCasinoBackend

TOKEN = "test-casino-token"

Asgi = Callable[..., Any]


@asynccontextmanager
async def serving(asgi_app: Asgi) -> AsyncIterator[str]:
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=0, log_level="critical")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class ContractBreaker:
    """Answers 200 with `body` (valid JSON, wrong shape) for requests whose path ends with
    one of `suffixes` (all requests when `everything`)."""

    suffixes: set[str] = field(default_factory=set)
    everything: bool = False
    body: Any = field(default_factory=lambda: {"surprise": True})

    def wrap(self, app: Asgi) -> Asgi:
        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            path = scope.get("path", "") if scope["type"] == "http" else ""
            if scope["type"] == "http" and (
                self.everything or any(path.endswith(suffix) for suffix in self.suffixes)
            ):
                content = json.dumps(self.body).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": content})
                return
            await app(scope, receive, send)

        return asgi


@dataclass
class DemoCasino:
    base_url: str
    faults: DemoFaults
    breaker: ContractBreaker


@asynccontextmanager
async def demo_casino(*, now: datetime) -> AsyncIterator[DemoCasino]:
    """The demo back office, its seed dated at `now` (the tests' frozen clock)."""
    faults = DemoFaults()
    breaker = ContractBreaker()
    app = create_demo_backoffice(
        bearer_token=TOKEN, hmac_secret=None, clock=lambda: now, faults=faults
    )
    async with serving(breaker.wrap(app)) as url:
        yield DemoCasino(base_url=url, faults=faults, breaker=breaker)


def http_backend(base_url: str, **overrides: Any) -> HttpCasinoBackend:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "bearer_token": TOKEN,
        "timeout_seconds": 2.0,
        "retries": 1,
        "backoff_seconds": 0.01,
        "cache_seconds": 0,
    }
    settings.update(overrides)
    return HttpCasinoBackend(CasinoApiConfig(**settings))
