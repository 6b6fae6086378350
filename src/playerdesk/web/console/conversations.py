"""JSON the console's scripts read: one conversation with its history, one inbox row, and the
player's details (an audited read, made only when the agent asks for them).

Changes (replies, notes, assignment, status, priority) go through the REST API; these reads
exist because the console shows what the API does not: authors' names and unread counts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from playerdesk.db.models import Escalation, Message, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.permissions import Permission
from playerdesk.services import agents as agent_service
from playerdesk.services import escalation as escalation_service
from playerdesk.services import inbound_email, outbound
from playerdesk.services import messages as message_service
from playerdesk.services import sla as sla_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.outbound import DeliveryState
from playerdesk.services.sla import TicketSla
from playerdesk.web.console.sla import badge
from playerdesk.web.deps import MAX_ID, Admitted, CurrentActor, IdPath, ReadUowDep, UowDep

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Admitted])

Json = dict[str, Any]
MAX_SLA_IDS = 100


def ticket_json(
    ticket: Ticket, *, unread: int, names: dict[int, str], sla: TicketSla | None
) -> Json:
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
        "player_delivered_up_to": ticket.player_delivered_up_to,
        "player_read_up_to": ticket.player_read_up_to,
        "agent_read_up_to": ticket.agent_read_up_to,
        "unread": unread,
        "escalation_level": ticket.escalation_level,
        # "active": the bot is answering; nobody needs to take the conversation yet.
        "bot_state": ticket.bot_state,
        "sla": badge(sla).json(),
    }


def escalation_json(escalation: Escalation, *, names: dict[int, str]) -> Json:
    return {
        "id": escalation.id,
        "level": escalation.level,
        "trigger": escalation.trigger,
        "reason": escalation.reason,
        # None: the floor's rules did it, not a person.
        "agent_name": names.get(escalation.agent_id) if escalation.agent_id else None,
        "from_team_id": escalation.from_team_id,
        "to_team_id": escalation.to_team_id,
        "from_priority": escalation.from_priority,
        "to_priority": escalation.to_priority,
        "created_at": escalation.created_at.isoformat(),
    }


async def _one_sla(uow: UnitOfWork, ticket: Ticket) -> TicketSla:
    return (await sla_service.ticket_slas(uow, tickets=[ticket]))[ticket.id]


def message_json(
    message: Message,
    *,
    names: dict[int, str],
    delivery: DeliveryState | None = None,
    from_email: bool = False,
) -> Json:
    """The shape of a `message.posted` frame's message, so history and live look the same;
    `delivery` is how its outbound copy (an email) fared."""
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
        # The buttons the bot offered under its message, shown to the agent as they were.
        "quick_replies": message.quick_replies or [],
        # The raw mail it came from can be opened (GET .../messages/{id}/original).
        "from_email": from_email,
        "delivery": None
        if delivery is None
        else {"status": delivery.status, "attempts": delivery.attempts, "error": delivery.error},
    }


@router.get("/tickets/{ticket_id}/conversation")
async def conversation(ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> Json:
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    history = await message_service.list_messages(uow, actor=actor, ticket_id=ticket_id)
    unread = await ticket_service.unread_counts(uow, actor=actor, ticket_ids=[ticket_id])
    escalations = await escalation_service.escalation_history(uow, actor=actor, ticket_id=ticket_id)
    names = await agent_service.display_names(
        uow,
        actor=actor,
        agent_ids=[
            ticket.assignee_id,
            *(message.author_agent_id for message in history),
            *(item.agent_id for item in escalations),
        ],
    )
    sla = await _one_sla(uow, ticket)
    deliveries = await outbound.delivery_states(
        uow, actor=actor, message_ids=[message.id for message in history]
    )
    failing = await outbound.failing_address(uow, actor=actor, ticket=ticket)
    window_closes_at = await outbound.whatsapp_window_closes_at(uow, ticket=ticket)
    from_email = await inbound_email.messages_from_email(
        uow, actor=actor, message_ids=[message.id for message in history]
    )
    return {
        "now": uow.clock.now().isoformat(),
        "ticket": ticket_json(ticket, unread=unread.get(ticket_id, 0), names=names, sla=sla),
        "messages": [
            message_json(
                message,
                names=names,
                delivery=deliveries.get(message.id),
                from_email=message.id in from_email,
            )
            for message in history
        ],
        "escalations": [escalation_json(item, names=names) for item in escalations],
        "address_failing": None
        if failing is None
        else {
            "address": failing.address,
            "since": failing.since.isoformat(),
            "reason": failing.reason,
        },
        # WhatsApp only: until when a free-form reply may be sent (null: the player never
        # wrote); the console warns the agent before they type once it has passed.
        "whatsapp_window_closes_at": window_closes_at.isoformat() if window_closes_at else None,
    }


@router.get("/tickets/{ticket_id}/summary")
async def summary(ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> Json:
    """One inbox row, for a conversation that comes alive while the inbox is open."""
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    unread = await ticket_service.unread_counts(uow, actor=actor, ticket_ids=[ticket_id])
    names = await agent_service.display_names(uow, actor=actor, agent_ids=[ticket.assignee_id])
    sla = await _one_sla(uow, ticket)
    return {
        "now": uow.clock.now().isoformat(),
        "ticket": ticket_json(ticket, unread=unread.get(ticket_id, 0), names=names, sla=sla),
    }


@router.get("/tickets/{ticket_id}/escalations")
async def escalations(ticket_id: IdPath, uow: UowDep, actor: CurrentActor) -> Json:
    """The escalation level and history, for a conversation on screen that was escalated."""
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    history = await escalation_service.escalation_history(uow, actor=actor, ticket_id=ticket_id)
    names = await agent_service.display_names(
        uow, actor=actor, agent_ids=[item.agent_id for item in history]
    )
    return {
        "level": ticket.escalation_level,
        "escalations": [escalation_json(item, names=names) for item in history],
    }


@router.get("/sla")
async def slas(
    uow: UowDep,
    actor: CurrentActor,
    ids: Annotated[str, Query(max_length=2000)] = "",
) -> Json:
    """The SLA badges of the conversations on an agent's screen, in one read: the console
    asks after live events that move clocks (a message, a status change, an SLA alert)."""
    actor.require(Permission.TICKETS_READ)
    try:
        wanted = sorted({int(part) for part in ids.split(",") if part.strip()})
    except ValueError:
        raise ValidationFailed("comma-separated ticket ids", field="ids") from None
    if len(wanted) > MAX_SLA_IDS or any(not 1 <= value <= MAX_ID for value in wanted):
        raise ValidationFailed(f"1 to {MAX_SLA_IDS} ticket ids", field="ids")
    clocks = await sla_service.clock_views(uow, ticket_ids=wanted)
    return {
        "now": uow.clock.now().isoformat(),
        "sla": {
            # The badge needs the clocks only; which policy set them does not show.
            str(ticket_id): badge(sla_service.summarize(policy_id=None, clocks=views)).json()
            for ticket_id, views in clocks.items()
        },
    }
