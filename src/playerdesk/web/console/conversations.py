"""JSON the console's scripts read: one conversation with its history, one inbox row, and the
player's details (an audited read, made only when the agent asks for them).

Changes (replies, notes, assignment, status, priority) go through the REST API; these reads
exist because the console shows what the API does not: authors' names and unread counts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from playerdesk.db.models import Message, Ticket
from playerdesk.services import agents as agent_service
from playerdesk.services import messages as message_service
from playerdesk.services import players as player_service
from playerdesk.services import tickets as ticket_service
from playerdesk.web.deps import Admitted, CurrentActor, IdPath, ReadUowDep, UowDep

router = APIRouter(prefix="/console/tickets", include_in_schema=False, dependencies=[Admitted])

Json = dict[str, Any]


def ticket_json(ticket: Ticket, *, unread: int, names: dict[int, str]) -> Json:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": ticket.priority,
        "language": ticket.language,
        "assignee_id": ticket.assignee_id,
        "assignee_name": names.get(ticket.assignee_id) if ticket.assignee_id else None,
        "team_id": ticket.team_id,
        "created_at": ticket.created_at.isoformat(),
        "last_message_at": ticket.last_message_at.isoformat(),
        "player_read_up_to": ticket.player_read_up_to,
        "agent_read_up_to": ticket.agent_read_up_to,
        "unread": unread,
    }


def message_json(message: Message, *, names: dict[int, str]) -> Json:
    """The shape of a `message.posted` frame's message, so history and live look the same."""
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "author": message.author_kind,
        "author_name": names.get(message.author_agent_id) if message.author_agent_id else None,
        "kind": message.kind,
        "body": message.body,
        "redacted": message.redacted,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {
                "id": item.id,
                "filename": item.filename,
                "content_type": item.content_type,
                "size": item.size,
            }
            for item in message.attachments
        ],
    }


@router.get("/{ticket_id}/conversation")
async def conversation(ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> Json:
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    history = await message_service.list_messages(uow, actor=actor, ticket_id=ticket_id)
    unread = await ticket_service.unread_counts(uow, actor=actor, ticket_ids=[ticket_id])
    names = await agent_service.display_names(
        uow,
        actor=actor,
        agent_ids=[ticket.assignee_id, *(message.author_agent_id for message in history)],
    )
    return {
        "ticket": ticket_json(ticket, unread=unread.get(ticket_id, 0), names=names),
        "messages": [message_json(message, names=names) for message in history],
    }


@router.get("/{ticket_id}/summary")
async def summary(ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> Json:
    """One inbox row, for a conversation that comes alive while the inbox is open."""
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    unread = await ticket_service.unread_counts(uow, actor=actor, ticket_ids=[ticket_id])
    names = await agent_service.display_names(uow, actor=actor, agent_ids=[ticket.assignee_id])
    return {"ticket": ticket_json(ticket, unread=unread.get(ticket_id, 0), names=names)}


@router.get("/{ticket_id}/player")
async def player_details(ticket_id: IdPath, uow: UowDep, actor: CurrentActor) -> Json:
    """The player's personal data; `view_player` writes the read to the audit log."""
    player = await player_service.view_ticket_player(uow, actor=actor, ticket_id=ticket_id)
    return {
        "player": {
            "external_id": player.external_id,
            "name": player.name,
            "email": player.email,
            "phone": player.phone,
            "language": player.language,
            "country": player.country,
            "vip_tier": player.vip_tier,
        }
    }
