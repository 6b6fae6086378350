from __future__ import annotations

from collections.abc import Callable

from playerdesk.realtime.coalesce import Activity, ActivityCoalescer, Scheduler
from tests.factories import message_event


class HandTimer(Scheduler):
    """The window ends when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.due: Callable[[], None] | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        assert self.due is None and delay == 0.25, "one timer per console, one window long"
        self.due = callback

    def cancel(self) -> None:
        self.due = None

    def fire(self) -> None:
        callback, self.due = self.due, None
        assert callback is not None, "no window is running"
        callback()


def coalescer() -> tuple[ActivityCoalescer, HandTimer, list[list[Activity]]]:
    timer, sent = HandTimer(), []
    return ActivityCoalescer(sent.append, window=0.25, scheduler=timer), timer, sent


def summary(batch: list[Activity]) -> list[tuple[int, int, int, int]]:
    return [(a.latest.ticket_id, a.latest.message_id, a.messages, a.player_messages) for a in batch]


def test_activity_after_a_quiet_spell_goes_at_once_then_once_per_window() -> None:
    activity, timer, sent = coalescer()
    activity.offer(message_event(ticket_id=1, message_id=10, author_kind="player"))
    assert [summary(batch) for batch in sent] == [[(1, 10, 1, 1)]]
    for ticket_id, message_id, author in (
        (1, 11, "player"),
        (2, 20, "agent"),
        (1, 12, "agent"),
        (1, 13, "player"),
    ):
        activity.offer(
            message_event(ticket_id=ticket_id, message_id=message_id, author_kind=author)
        )
    assert len(sent) == 1  # within the window: gathered
    timer.fire()
    assert summary(sent[1]) == [(1, 13, 3, 2), (2, 20, 1, 0)]
    assert timer.due is not None  # something was sent: the next window runs
    timer.fire()  # ...and stays quiet, so it closes
    assert len(sent) == 2 and timer.due is None
    activity.offer(message_event(ticket_id=2, message_id=21, author_kind="player"))
    assert summary(sent[2]) == [(2, 21, 1, 1)]  # quiet again: at once


def test_an_opened_ticket_and_a_closed_console_drop_what_gathered() -> None:
    activity, timer, sent = coalescer()
    activity.offer(message_event(ticket_id=1, message_id=10))
    activity.offer(message_event(ticket_id=1, message_id=11))
    activity.offer(message_event(ticket_id=2, message_id=20))
    activity.forget(1)  # the console watches ticket 1 now: full messages from here on
    timer.fire()
    assert [summary(batch) for batch in sent] == [[(1, 10, 1, 0)], [(2, 20, 1, 0)]]
    activity.offer(message_event(ticket_id=2, message_id=21))
    activity.close()
    assert timer.due is None and len(sent) == 2
