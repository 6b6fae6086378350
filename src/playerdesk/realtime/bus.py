"""The event bus: in-memory for one embedded process, Redis pub/sub across processes.

Publishers call `publish` only after their transaction committed (see db.uow). Each web
process holds one subscription and fans events out to its sockets without touching the DB.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from playerdesk.domain.events import Event, event_from_json, event_to_json

log = structlog.get_logger(__name__)

CHANNEL = "playerdesk:events"
_QUEUE_LIMIT = 10_000


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    async def subscribe(self) -> AsyncIterator[Event]:
        """Register a subscription, then return the stream of every event published after
        this call returned."""
        ...

    async def ping(self) -> bool:
        """Is the bus reachable (for readiness checks)."""
        ...

    async def close(self) -> None: ...


class InMemoryBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()

    async def publish(self, event: Event) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("bus_subscriber_overflow", event_type=event.type)

    async def subscribe(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self._subscribers.add(queue)
        return self._drain(queue)

    async def _drain(self, queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._channel = channel

    async def publish(self, event: Event) -> None:
        await self._redis.publish(self._channel, event_to_json(event))

    async def subscribe(self) -> AsyncIterator[Event]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        return self._listen(pubsub)

    async def _listen(self, pubsub: PubSub) -> AsyncIterator[Event]:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    yield event_from_json(message["data"])
                except ValueError:
                    log.warning("bus_message_unreadable", channel=self._channel)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(self._channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
