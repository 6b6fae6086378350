"""Coalescing of inbox activity, per console: at most one notice per ticket per window.

Every console hears about every message of every conversation it does not have open (to
move the row up and count unread messages). At a busy floor that is agents x messages
frames a second, nearly all about the same few busy conversations. A console instead gets
the first message of a quiet ticket at once, and then at most one notice per ticket per
`window` that stands for everything that happened meanwhile: the newest message, and how
many messages (and player messages, the ones that count as unread) it covers.
"""

from __future__ import annotations

import asyncio
import time
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
    def __init__(
        self,
        emit: Callable[[Activity], None],
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        now: Callable[[], float] = time.monotonic,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._emit = emit
        self._window = window
        self._now = now
        self._scheduler = scheduler or Scheduler()
        # ticket id -> (when its window opened, what happened since). Insertion order is
        # opening order, so the first entry's window ends first.
        self._windows: dict[int, tuple[float, Activity | None]] = {}
        self._scheduled = False

    def offer(self, event: MessagePosted) -> None:
        window = self._windows.get(event.ticket_id)
        if window is None:
            # A quiet ticket: tell at once, and open its window.
            self._emit(_activity_of(event))
            self._windows[event.ticket_id] = (self._now(), None)
            self._schedule()
            return
        opened, pending = window
        if pending is None:
            self._windows[event.ticket_id] = (opened, _activity_of(event))
        else:
            pending.add(event)

    def flush_due(self) -> None:
        """Send what piled up in the windows that ended; close the ones that stayed quiet."""
        self._scheduled = False
        now = self._now()
        for ticket_id, (opened, pending) in list(self._windows.items()):
            if opened + self._window > now:
                break  # later windows opened later still
            del self._windows[ticket_id]
            if pending is not None:
                self._emit(pending)
                self._windows[ticket_id] = (now, None)  # reopened: goes to the end
        self._schedule()

    def forget(self, ticket_id: int) -> None:
        """The console opened the ticket: it gets every message in full from now on, and
        what piled up is in the conversation it loads."""
        self._windows.pop(ticket_id, None)

    def close(self) -> None:
        self._scheduler.cancel()
        self._windows.clear()
        self._scheduled = False

    def _schedule(self) -> None:
        if self._scheduled or not self._windows:
            return
        first_opened, _ = next(iter(self._windows.values()))
        self._scheduled = True
        delay = max(0.0, first_opened + self._window - self._now())
        self._scheduler.call_later(delay, self.flush_due)
