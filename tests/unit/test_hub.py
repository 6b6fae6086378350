from __future__ import annotations

import asyncio

from playerdesk.domain.events import Event, PresenceChanged, TypingChanged
from playerdesk.realtime.bus import InMemoryBus
from playerdesk.realtime.hub import INBOX, Hub, player_topic, ticket_topic, topics_for
from tests.factories import AT, message_event


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def offer(self, event: Event) -> None:
        self.events.append(event)


def test_internal_notes_never_reach_the_player() -> None:
    note = message_event(kind="note", player_id=5, ticket_id=9)
    reply = message_event(kind="reply", player_id=5, ticket_id=9)
    assert player_topic(5) not in topics_for(note)
    assert set(topics_for(reply)) == {INBOX, ticket_topic(9), player_topic(5)}


def test_typing_goes_to_the_other_side() -> None:
    player_typing = TypingChanged(
        occurred_at=AT, ticket_id=9, player_id=5, side="player", agent_id=None, typing=True
    )
    agent_typing = player_typing.model_copy(update={"side": "agent", "agent_id": 2})
    assert topics_for(player_typing) == [ticket_topic(9)]
    assert player_topic(5) in topics_for(agent_typing)


def test_dispatch_reaches_each_listener_once_and_only_subscribers() -> None:
    hub = Hub()
    console, widget, stranger = Inbox(), Inbox(), Inbox()
    hub.subscribe(console, INBOX)
    hub.subscribe(console, ticket_topic(9))
    hub.subscribe(widget, player_topic(5))
    hub.subscribe(stranger, player_topic(6))
    reached = hub.dispatch(message_event(player_id=5, ticket_id=9))
    assert reached == 2
    assert len(console.events) == 1 and len(widget.events) == 1 and stranger.events == []
    hub.remove(console)
    assert hub.listener_count(INBOX) == 0
    hub.dispatch(PresenceChanged(occurred_at=AT, agent_id=1, presence="online"))
    assert len(console.events) == 1


async def test_pump_carries_bus_events_to_listeners() -> None:
    bus, hub, widget = InMemoryBus(), Hub(), Inbox()
    hub.subscribe(widget, player_topic(3))
    ready = asyncio.Event()
    task = asyncio.create_task(hub.pump(bus, ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=5)
    await bus.publish(message_event(player_id=3, message_id=41))
    for _ in range(100):
        if widget.events:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert [event.message_id for event in widget.events] == [41]  # type: ignore[union-attr]
