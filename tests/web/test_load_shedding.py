"""An overloaded process refuses quickly (503 / `unavailable`) instead of queueing without
end; nothing refused is half done, and a retry with the same client_msg_id goes through."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from playerdesk.db.admission import Admission
from playerdesk.db.models import Message
from playerdesk.domain.errors import Unavailable
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, LiveServer, RecordingBus
from tests.web.test_live_chat import receive, widget_session


@contextlib.asynccontextmanager
async def saturated(runtime: Runtime) -> AsyncIterator[None]:
    """Every turn of the process taken (by this test) until the block ends."""
    runtime.admission = Admission(limit=1, wait_seconds=0.05)
    async with runtime.admission.slot():
        yield


async def message_count(runtime: Runtime) -> int:
    async with runtime.read_uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_a_waiting_request_gets_the_next_free_turn() -> None:
    admission = Admission(limit=1, wait_seconds=30)
    entered = asyncio.Event()

    async def second() -> None:
        async with admission.slot():
            entered.set()

    async with admission.slot():
        waiter = asyncio.create_task(second())
        await asyncio.sleep(0)
        assert not entered.is_set() and admission.in_use == 1
    await asyncio.wait_for(waiter, timeout=10)
    assert entered.is_set() and admission.refused == 0 and admission.in_use == 0


async def test_no_turn_within_the_wait_is_refused_with_a_retry_hint() -> None:
    admission = Admission(limit=1, wait_seconds=0.01)
    async with admission.slot():
        with pytest.raises(Unavailable) as refused:
            async with admission.slot():
                pytest.fail("admitted past the limit")
    assert refused.value.retry_after_seconds == 1 and admission.refused == 1
    async with admission.slot():  # free again
        assert admission.in_use == 1


def test_the_limit_defaults_to_the_database_pool(settings: Settings, runtime: Runtime) -> None:
    assert runtime.admission.limit == settings.db_pool_size + settings.db_max_overflow == 15
    pool = runtime.engine.sync_engine.pool
    assert pool.size() == settings.db_pool_size  # type: ignore[attr-defined]
    assert Settings(max_concurrency=3).concurrency_limit == 3
    assert Settings(db_pool_size=2, db_max_overflow=1).concurrency_limit == 3


async def test_overloaded_http_is_503_problem_json_with_retry_after_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    created = await client.post(
        "/api/v1/tickets",
        json={"channel": "email", "subject": "Hi", "body": "Hello", "player": {"external_id": "P"}},
        headers=agent.headers,
    )
    ticket_id = created.json()["id"]
    before, published = await message_count(runtime), len(bus.published)
    async with saturated(runtime):
        reply = await client.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"body": "On it", "client_msg_id": "r-1"},
            headers=agent.headers,
        )
        assert reply.status_code == 503
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert reply.headers["retry-after"] == "1"
        assert reply.json()["type"] == "urn:playerdesk:problem:unavailable"
        assert (await client.get("/healthz")).status_code == 200  # no database, not limited
    assert await message_count(runtime) == before and len(bus.published) == published
    retried = await client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"body": "On it", "client_msg_id": "r-1"},
        headers=agent.headers,
    )
    assert retried.status_code == 201 and await message_count(runtime) == before + 1


async def test_overloaded_widget_socket_refuses_a_message_then_takes_its_resend(
    live_server: LiveServer, runtime: Runtime
) -> None:
    session = await widget_session(live_server)
    async with connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")
        frame = {"type": "message.send", "client_msg_id": "c-1", "body": "Hello?"}
        async with saturated(runtime):
            await widget.send(json.dumps(frame))
            refused = await receive(widget, "error")
            await widget.send(json.dumps({"type": "ping"}))  # frames without the database
            await receive(widget, "pong")
        assert refused["code"] == "unavailable" and refused["client_msg_id"] == "c-1"
        assert refused["retry_after"] == 1
        assert await message_count(runtime) == 0
        await widget.send(json.dumps(frame))
        ack = await receive(widget, "message.ack")
        assert ack["client_msg_id"] == "c-1" and await message_count(runtime) == 1


async def test_the_api_documents_the_503(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/v1/openapi.json")).json()
    reply = schema["paths"]["/api/v1/tickets/{ticket_id}/messages"]["post"]["responses"]
    assert "Retry-After" in reply["503"]["headers"]
