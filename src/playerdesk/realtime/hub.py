"""Each web process has one hub: it takes events from the bus and hands each to the sockets
that subscribed to one of the event's topics. No database access on this path."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Protocol

import structlog

from playerdesk.domain.events import (
    AgentAccessChanged,
    CallRinging,
    Event,
    MessagePosted,
    OutboxItemChanged,
    PresenceChanged,
    QueuePositionChanged,
    ReadReceipt,
    SlaAlert,
    TicketCreated,
    TicketEscalated,
    TicketUpdated,
    TypingChanged,
)
from playerdesk.realtime.bus import EventBus

log = structlog.get_logger(__name__)

INBOX = "inbox"  # every agent console: the inbox and presence changes
ACCESS = "access"  # the process's cache of authenticated agents


def player_topic(player_id: int) -> str:
    return f"player:{player_id}"


def ticket_topic(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def agent_topic(agent_id: int) -> str:
    """One agent's consoles: what is for them alone (a call ringing at their phone)."""
    return f"agent:{agent_id}"


def topics_for(event: Event) -> list[str]:
    """Who hears about an event. Internal notes never reach a player's topic."""
    match event:
        case MessagePosted():
            topics = [INBOX, ticket_topic(event.ticket_id)]
            if event.kind == "reply":
                topics.append(player_topic(event.player_id))
            return topics
        case TicketCreated():
            return [INBOX]
        case TicketUpdated():
            return [INBOX, ticket_topic(event.ticket_id), player_topic(event.player_id)]
        case TypingChanged():
            if event.side == "player":
                return [ticket_topic(event.ticket_id)]
            return [player_topic(event.player_id), ticket_topic(event.ticket_id)]
        case ReadReceipt():
            if event.side == "player":
                return [ticket_topic(event.ticket_id)]
            return [player_topic(event.player_id), ticket_topic(event.ticket_id)]
        case PresenceChanged():
            return [INBOX]
        case QueuePositionChanged():
            return [player_topic(event.player_id), ticket_topic(event.ticket_id)]
        case SlaAlert() | TicketEscalated():
            return [INBOX, ticket_topic(event.ticket_id)]
        case AgentAccessChanged():
            return [ACCESS]
        case OutboxItemChanged():
            return [ticket_topic(event.ticket_id)] if event.ticket_id is not None else []
        case CallRinging():
            return [agent_topic(event.agent_id)]
    return []


class Listener(Protocol):
    def offer(self, event: Event) -> None:
        """Take an event without blocking (queue it); a slow listener handles its own overflow."""
        ...


class Hub:
    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)

    def subscribe(self, listener: Listener, topic: str) -> None:
        self._listeners[topic].add(listener)

    def unsubscribe(self, listener: Listener, topic: str) -> None:
        listeners = self._listeners.get(topic)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[topic]

    def remove(self, listener: Listener) -> None:
        for topic in [t for t, listeners in self._listeners.items() if listener in listeners]:
            self.unsubscribe(listener, topic)

    def listener_count(self, topic: str) -> int:
        return len(self._listeners.get(topic, ()))

    def dispatch(self, event: Event) -> int:
        """Offer the event once to every listener of any of its topics; returns how many."""
        reached: set[Listener] = set()
        for topic in topics_for(event):
            reached.update(self._listeners.get(topic, ()))
        for listener in reached:
            listener.offer(event)
        return len(reached)

    async def pump(self, bus: EventBus, *, ready: asyncio.Event | None = None) -> None:
        """Run for the life of the process: bus -> listeners. Reconnects after bus errors."""
        while True:
            try:
                stream = await bus.subscribe()
                if ready is not None:
                    ready.set()
                async for event in stream:
                    self.dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub_bus_failed")
                await asyncio.sleep(1)
