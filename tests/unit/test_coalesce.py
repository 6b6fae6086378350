from __future__ import annotations

from collections.abc import Callable

from playerdesk.realtime.coalesce import Activity, ActivityCoalescer, Scheduler
from tests.factories import message_event


class HandClock(Scheduler):
    """Time moves and timers fire only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0
        self.due: tuple[float, Callable[[], None]] | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        assert self.due is None, "one timer per console"
        self.due = (self.now + delay, callback)

    def cancel(self) -> None:
        self.due = None

    def advance(self, seconds: float) -> None:
        self.now += seconds
        if self.due is not None and self.due[0] <= self.now:
            _, callback = self.due
            self.due = None
            callback()


def coalescer() -> tuple[ActivityCoalescer, HandClock, list[Activity]]:
    clock, sent = HandClock(), []
    return (
        ActivityCoalescer(sent.append, window=0.25, now=lambda: clock.now, scheduler=clock),
        clock,
        sent,
    )


def test_a_quiet_ticket_is_told_at_once_and_a_busy_one_once_per_window() -> None:
    activity, clock, sent = coalescer()
    activity.offer(message_event(ticket_id=1, message_id=10, author_kind="player"))
    assert [(a.latest.message_id, a.messages, a.player_messages) for a in sent] == [(10, 1, 1)]
    for message_id, author in ((11, "player"), (12, "agent"), (13, "player")):
        clock.advance(0.0625)
        activity.offer(message_event(ticket_id=1, message_id=message_id, author_kind=author))
    assert len(sent) == 1  # within the window: held back
    clock.advance(0.0625)  # the window (opened at 0) ends
    assert [(a.latest.message_id, a.messages, a.player_messages) for a in sent[1:]] == [(13, 3, 2)]
    clock.advance(0.25)  # a window with nothing in it closes the ticket's window
    assert len(sent) == 2 and clock.due is None
    activity.offer(message_event(ticket_id=1, message_id=14, author_kind="player"))
    assert sent[-1].latest.message_id == 14 and len(sent) == 3  # quiet again: at once


def test_tickets_have_windows_of_their_own() -> None:
    activity, clock, sent = coalescer()
    activity.offer(message_event(ticket_id=1, message_id=10))
    clock.advance(0.1875)
    activity.offer(message_event(ticket_id=2, message_id=20))
    activity.offer(message_event(ticket_id=1, message_id=11))
    activity.offer(message_event(ticket_id=2, message_id=21))
    assert [a.latest.message_id for a in sent] == [10, 20]
    clock.advance(0.0625)  # ticket 1's window ends, ticket 2's does not
    assert [a.latest.message_id for a in sent] == [10, 20, 11]
    clock.advance(0.1875)
    assert [a.latest.message_id for a in sent] == [10, 20, 11, 21]


def test_an_opened_ticket_and_a_closed_console_drop_what_piled_up() -> None:
    activity, clock, sent = coalescer()
    for message_id in (10, 11):
        activity.offer(message_event(ticket_id=1, message_id=message_id))
        activity.offer(message_event(ticket_id=2, message_id=message_id + 10))
    activity.forget(1)  # the console watches ticket 1 now: full messages from here on
    clock.advance(0.25)
    assert [a.latest.message_id for a in sent] == [10, 20, 21]
    activity.offer(message_event(ticket_id=2, message_id=22))
    activity.close()
    assert clock.due is None
    clock.advance(1)
    assert [a.latest.message_id for a in sent] == [10, 20, 21]
