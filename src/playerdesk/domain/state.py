"""The ticket status state machine."""

from __future__ import annotations

from playerdesk.domain.enums import AuthorKind, MessageKind, TicketStatus
from playerdesk.domain.errors import InvalidTransition

_S = TicketStatus

# Closed is terminal: a player writing about a closed ticket gets a new, linked ticket.
ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    _S.NEW: frozenset({_S.OPEN, _S.PENDING, _S.ON_HOLD, _S.RESOLVED}),
    _S.OPEN: frozenset({_S.PENDING, _S.ON_HOLD, _S.RESOLVED}),
    _S.PENDING: frozenset({_S.OPEN, _S.ON_HOLD, _S.RESOLVED}),
    _S.ON_HOLD: frozenset({_S.OPEN, _S.PENDING, _S.RESOLVED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def ensure_transition(current: TicketStatus, target: TicketStatus) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(
            f"a ticket cannot go from {current.value} to {target.value}", field="status"
        )


def status_after_message(
    current: TicketStatus, *, author: AuthorKind, kind: MessageKind
) -> TicketStatus:
    """The status a ticket takes when a message is added to it.

    A player writing again reopens a ticket that was waiting or resolved; the first public
    agent reply takes a new ticket into work. Notes and bot or system messages change nothing.
    """
    if current is TicketStatus.CLOSED:
        raise InvalidTransition("the ticket is closed; open a new ticket", field="ticket")
    if author is AuthorKind.PLAYER and current in (_S.PENDING, _S.ON_HOLD, _S.RESOLVED):
        return _S.OPEN
    if author is AuthorKind.AGENT and kind is MessageKind.REPLY and current is _S.NEW:
        return _S.OPEN
    return current
