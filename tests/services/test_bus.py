"""The event bus: events published after commit reach subscribers, across processes via Redis."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import pytest

from playerdesk.domain.events import Event, MessagePosted
from playerdesk.realtime.bus import EventBus, InMemoryBus, RedisBus
from tests.factories import message_event as build_message_event

REDIS_URL = os.environ.get("PLAYERDESK_TEST_REDIS_URL")
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def message_event(message_id: int) -> MessagePosted:
    return build_message_event(message_id=message_id)


async def collect(bus: EventBus, count: int, ready: asyncio.Event) -> list[Event]:
    stream = await bus.subscribe()
    ready.set()
    received: list[Event] = []
    async for event in stream:
        received.append(event)
        if len(received) == count:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    return received


async def test_in_memory_bus_delivers_to_every_subscriber_in_order() -> None:
    bus = InMemoryBus()
    ready_a, ready_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(collect(bus, 3, ready_a))
    task_b = asyncio.create_task(collect(bus, 3, ready_b))
    await ready_a.wait()
    await ready_b.wait()
    for index in range(3):
        await bus.publish(message_event(index))
    results = await asyncio.wait_for(asyncio.gather(task_a, task_b), timeout=5)
    for received in results:
        assert [event.message_id for event in received] == [0, 1, 2]  # type: ignore[union-attr]


@pytest.mark.skipif(not REDIS_URL, reason="Redis bus: runs in the PostgreSQL + Redis suite")
async def test_redis_bus_carries_events_between_separate_connections() -> None:
    assert REDIS_URL is not None
    channel = f"playerdesk:test:{os.getpid()}"
    publisher, subscriber = (
        RedisBus(REDIS_URL, channel=channel),
        RedisBus(REDIS_URL, channel=channel),
    )
    try:
        ready = asyncio.Event()
        task = asyncio.create_task(collect(subscriber, 2, ready))
        await ready.wait()
        await publisher.publish(message_event(7))
        await publisher.publish(message_event(8))
        received = await asyncio.wait_for(task, timeout=5)
        assert received == [message_event(7), message_event(8)]
    finally:
        await publisher.close()
        await subscriber.close()


async def test_events_are_published_only_after_commit(runtime, make_agent, bus) -> None:  # type: ignore[no-untyped-def]
    from playerdesk.domain.enums import Channel
    from playerdesk.services import tickets as ticket_service
    from playerdesk.services.players import PlayerFields

    agent = await make_agent()
    seen_during_transaction: list[str] = []
    async with runtime.uow() as uow:
        original_commit = uow.session.commit

        async def spying_commit() -> None:
            seen_during_transaction.extend(bus.types())
            await original_commit()

        uow.session.commit = spying_commit  # type: ignore[method-assign]
        await ticket_service.create_ticket(
            uow,
            actor=agent.actor,
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT,
                subject="Hi",
                body="Hello",
                player_external_id="P-1",
                player=PlayerFields(),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    assert seen_during_transaction == []
    # Nobody is online: the new chat waits in the queue and the player is told where.
    assert bus.types() == ["ticket.created", "queue.position", "message.posted"]
