"""Coalescing of inbox activity, per console: at most one frame per window.

Every console hears about every message of every conversation it does not have open (to
move the row up and count unread messages): at a busy floor that is agents x messages
frames a second. A console instead gets activity after a quiet spell at once, and then at
most one frame per `window` for all tickets, with one entry per ticket that stands for
everything that happened to it meanwhile: the newest message, and how many messages (and
player messages, the ones that count as unread) it covers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from playerdesk.domain.events import MessagePosted

DEFAULT_WINDOW_SECONDS = 0.25


@dataclass(kw_only=True)
class Activity:
    """What a console is told about one ticket: the newest message and what it covers."""

    latest: MessagePosted
    messages: int = 1
    player_messages: int = 0

    def add(self, event: MessagePosted) -> None:
        self.latest = event
        self.messages += 1
        self.player_messages += event.author_kind == "player"


def _activity_of(event: MessagePosted) -> Activity:
    return Activity(latest=event, player_messages=int(event.author_kind == "player"))


class Scheduler:
    """When to flush: the event loop's timer, or a test's hand."""

    def __init__(self) -> None:
        self._handle: asyncio.TimerHandle | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self._handle = asyncio.get_running_loop().call_later(delay, callback)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class ActivityCoalescer:
    """One console's inbox activity: sent at once after a quiet spell, otherwise gathered
    for `window` seconds and sent as one batch with one entry per ticket."""

    def __init__(
        self,
        emit: Callable[[list[Activity]], None],
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._emit = emit
        self._window = window
        self._scheduler = scheduler or Scheduler()
        self._open = False  # a window is running: activity waits for its end
        self._pending: dict[int, Activity] = {}

    def offer(self, event: MessagePosted) -> None:
        if not self._open:
            self._emit([_activity_of(event)])
            self._start_window()
            return
        pending = self._pending.get(event.ticket_id)
        if pending is None:
            self._pending[event.ticket_id] = _activity_of(event)
        else:
            pending.add(event)

    def flush(self) -> None:
        """The window ended: send what gathered and keep gathering, or, if it stayed quiet,
        close it (the next activity goes out at once)."""
        if not self._pending:
            self._open = False
            return
        batch, self._pending = list(self._pending.values()), {}
        self._emit(batch)
        self._start_window()

    def forget(self, ticket_id: int) -> None:
        """The console opened the ticket: it gets every message in full from now on, and
        what gathered is in the conversation it loads."""
        self._pending.pop(ticket_id, None)

    def close(self) -> None:
        self._scheduler.cancel()
        self._pending.clear()
        self._open = False

    def _start_window(self) -> None:
        self._open = True
        self._scheduler.call_later(self._window, self.flush)
