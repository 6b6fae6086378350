"""The `ticket.updated` event, built the same way by every use case that changes a ticket."""

from __future__ import annotations

from collections.abc import Mapping

from playerdesk.db.models import Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.events import TicketUpdated

Changes = dict[str, list[str | int | None]]


def changes_since(ticket: Ticket, before: Mapping[str, str | int | None]) -> Changes:
    """[old, new] for each field in `before` whose value on the ticket differs now."""
    return {
        name: [old, getattr(ticket, name)]
        for name, old in before.items()
        if old != getattr(ticket, name)
    }


def publish_ticket_updated(uow: UnitOfWork, *, ticket: Ticket, changes: Changes) -> None:
    """Queue `ticket.updated` (after commit) with the ticket's state now; nothing when
    nothing changed."""
    if not changes:
        return
    uow.publish_on_commit(
        TicketUpdated(
            occurred_at=uow.clock.now(),
            ticket_id=ticket.id,
            player_id=ticket.player_id,
            changes=changes,
            status=ticket.status,
            priority=ticket.priority,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
        )
    )
