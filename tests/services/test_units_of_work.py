"""Read-only units of work: they cannot commit, and on SQLite they take no write lock, so
reads go on while a writer holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from playerdesk.db.models import Player
from playerdesk.runtime import Runtime
from playerdesk.services import chat
from playerdesk.services.players import PlayerFields
from tests.conftest import PG_URL, AgentFactory


@pytest.fixture
def begins(runtime: Runtime) -> Iterator[list[str]]:
    """The BEGIN statements sent on SQLite (PostgreSQL begins inside the driver)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2]).strip().upper()
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def say(runtime: Runtime, visitor: str, body: str) -> None:
    async with runtime.uow() as uow:
        await chat.post_widget_message(
            uow,
            identity=chat.WidgetIdentity(visitor_id=visitor),
            body=body,
            client_msg_id=None,
            attachment_ids=[],
            claimed_ticket_id=None,
            fields=PlayerFields(),
            policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def test_a_read_only_unit_of_work_cannot_commit(runtime: Runtime) -> None:
    async with runtime.read_uow() as uow:
        uow.session.add(
            Player(language="en", created_at=runtime.clock.now(), updated_at=runtime.clock.now())
        )
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()
    async with runtime.read_uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Player)) == 0


async def test_reads_go_on_while_a_writer_holds_its_transaction(
    runtime: Runtime, begins: list[str]
) -> None:
    await say(runtime, "v-before", "Hello")
    async with runtime.uow() as writer:
        writer.session.add(
            Player(language="en", created_at=runtime.clock.now(), updated_at=runtime.clock.now())
        )
        await writer.session.flush()  # the writer holds SQLite's write lock from here on
        # The guard only keeps a regression from hanging the run (busy_timeout is 30 s).
        async with runtime.read_uow() as reader:
            conversation = await asyncio.wait_for(
                chat.find_conversation(reader, identity=chat.WidgetIdentity(visitor_id="v-before")),
                timeout=20,
            )
            players = await reader.session.scalar(select(func.count()).select_from(Player))
        assert conversation.ticket is not None
        assert players == 1  # the writer's uncommitted player is not seen
        await writer.commit()
    if not PG_URL:
        assert begins[-2:] == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's BEGIN modes")
async def test_read_handlers_begin_deferred_and_writers_immediate(
    client: httpx.AsyncClient, make_agent: AgentFactory, begins: list[str]
) -> None:
    agent = await make_agent()
    created = await client.post(
        "/api/v1/tickets",
        json={
            "channel": "email",
            "subject": "Hi",
            "body": "Hello",
            "player": {"external_id": "P-1"},
        },
        headers=agent.headers,
    )
    assert created.status_code == 201
    ticket_id = created.json()["id"]
    for path in (
        "/api/v1/tickets",
        f"/api/v1/tickets/{ticket_id}",
        f"/api/v1/tickets/{ticket_id}/messages",
        "/api/v1/agents/me",
    ):
        begins.clear()
        assert (await client.get(path, headers=agent.headers)).status_code == 200
        assert begins == ["BEGIN DEFERRED"], path  # the token is cached: one unit of work
    begins.clear()
    reply = await client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": "On it"}, headers=agent.headers
    )
    assert reply.status_code == 201
    assert begins == ["BEGIN IMMEDIATE"]
