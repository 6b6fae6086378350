from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playerdesk.domain.enums import AuthorKind, MessageKind, TicketStatus
from playerdesk.domain.errors import InvalidTransition
from playerdesk.domain.state import (
    ALLOWED_TRANSITIONS,
    can_transition,
    ensure_transition,
    status_after_message,
)

S = TicketStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.NEW, S.OPEN, True),
        (S.NEW, S.RESOLVED, True),
        (S.NEW, S.CLOSED, False),
        (S.OPEN, S.PENDING, True),
        (S.OPEN, S.NEW, False),
        (S.PENDING, S.ON_HOLD, True),
        (S.ON_HOLD, S.OPEN, True),
        (S.RESOLVED, S.OPEN, True),
        (S.RESOLVED, S.CLOSED, True),
        (S.RESOLVED, S.PENDING, False),
        (S.CLOSED, S.OPEN, False),
        (S.CLOSED, S.RESOLVED, False),
    ],
)
def test_transition_table(current: S, target: S, allowed: bool) -> None:
    assert can_transition(current, target) is allowed
    if allowed:
        ensure_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as caught:
            ensure_transition(current, target)
        assert caught.value.field == "status"


def test_every_status_has_a_rule_and_nothing_returns_to_new() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(S)
    assert all(S.NEW not in targets for targets in ALLOWED_TRANSITIONS.values())
    assert ALLOWED_TRANSITIONS[S.CLOSED] == frozenset()


@given(st.lists(st.sampled_from(list(S)), max_size=30))
def test_closed_is_only_reached_through_resolved(path: list[S]) -> None:
    current = S.NEW
    previous = None
    for target in path:
        if can_transition(current, target):
            previous, current = current, target
            if current is S.CLOSED:
                assert previous is S.RESOLVED
    assert current is not S.CLOSED or previous is S.RESOLVED


@pytest.mark.parametrize("waiting", [S.PENDING, S.ON_HOLD, S.RESOLVED])
def test_player_message_reopens_waiting_tickets(waiting: S) -> None:
    assert status_after_message(waiting, author=AuthorKind.PLAYER, kind=MessageKind.REPLY) is S.OPEN


def test_agent_reply_takes_new_ticket_into_work_but_note_does_not() -> None:
    assert status_after_message(S.NEW, author=AuthorKind.AGENT, kind=MessageKind.REPLY) is S.OPEN
    assert status_after_message(S.NEW, author=AuthorKind.AGENT, kind=MessageKind.NOTE) is S.NEW
    assert status_after_message(S.NEW, author=AuthorKind.BOT, kind=MessageKind.REPLY) is S.NEW
    assert status_after_message(S.PENDING, author=AuthorKind.AGENT, kind=MessageKind.REPLY) is (
        S.PENDING
    )


def test_no_message_on_a_closed_ticket() -> None:
    with pytest.raises(InvalidTransition):
        status_after_message(S.CLOSED, author=AuthorKind.PLAYER, kind=MessageKind.REPLY)
