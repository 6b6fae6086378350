from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from playerdesk.db.models import Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel, MessageKind, Priority, TicketStatus
from playerdesk.domain.errors import DomainError
from playerdesk.domain.players import check_language
from playerdesk.services import agent_replies, inbound_email
from playerdesk.services import escalation as escalation_service
from playerdesk.services import messages as message_service
from playerdesk.services import sla as sla_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from playerdesk.web.deps import MAX_ID, CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.common import PageOut, SafeStr
from playerdesk.web.schemas.tickets import (
    EscalationCreate,
    EscalationOut,
    MessageCreate,
    MessageOut,
    TicketCreate,
    TicketOut,
    TicketPatch,
    TransferCreate,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])

QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


_PLAYER_FIELDS = frozenset({"external_id", "email", "name"})


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(
    body: TicketCreate, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> TicketOut:
    if body.player.language is not None:
        # The ticket has a `language` of its own: name the player's when it is the wrong one.
        check_language(
            body.player.language,
            supported=runtime.policies.players.languages,
            field="player.language",
        )
    new = ticket_service.NewTicket(
        channel=body.channel,
        subject=body.subject,
        body=body.body,
        player_external_id=body.player.external_id,
        player=PlayerFields(
            name=body.player.name, email=body.player.email, language=body.player.language
        ),
        priority=body.priority,
        language=body.language,
        topic=body.topic,
        team_id=body.team_id,
        assignee_id=body.assignee_id,
        tags=body.tags,
        client_msg_id=body.client_msg_id,
    )
    try:
        ticket = await ticket_service.create_ticket(
            uow,
            actor=actor,
            new=new,
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    except DomainError as exc:
        # The player service names the player's fields as its own; here they are `player.*`.
        if exc.field in _PLAYER_FIELDS:
            exc.field = f"player.{exc.field}"
        raise
    return await _out(uow, ticket)


async def _out(uow: UnitOfWork, ticket: Ticket) -> TicketOut:
    slas = await sla_service.ticket_slas(uow, tickets=[ticket])
    return TicketOut.of(ticket, sla=slas[ticket.id])


@router.get("")
async def list_tickets(
    uow: ReadUowDep,
    actor: CurrentActor,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    channel: Channel | None = None,
    team_id: QueryId = None,
    assignee_id: QueryId = None,
    unassigned: bool = False,
    priority: Priority | None = None,
    player_id: QueryId = None,
    language: Annotated[SafeStr | None, Query(max_length=8)] = None,
    tag: Annotated[SafeStr | None, Query(max_length=50)] = None,
    text: Annotated[SafeStr | None, Query(max_length=200)] = None,
    cursor: Annotated[SafeStr | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    order: ticket_service.TicketOrder = ticket_service.TicketOrder.NEWEST,
) -> PageOut[TicketOut]:
    page = await ticket_service.list_tickets(
        uow,
        actor=actor,
        filters=ticket_service.TicketFilter(
            statuses=status or [],
            channel=channel,
            team_id=team_id,
            assignee_id=assignee_id,
            unassigned=unassigned,
            priority=priority,
            player_id=player_id,
            language=language,
            tag=tag,
            text=text,
        ),
        cursor=cursor,
        limit=limit,
        order=order,
    )
    slas = await sla_service.ticket_slas(uow, tickets=page.items)
    return PageOut[TicketOut](
        items=[TicketOut.of(ticket, sla=slas[ticket.id]) for ticket in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{ticket_id}")
async def get_ticket(ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> TicketOut:
    return await _out(uow, await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id))


@router.patch("/{ticket_id}")
async def update_ticket(
    ticket_id: IdPath, body: TicketPatch, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> TicketOut:
    given = body.model_fields_set
    keep = ticket_service.TicketChanges()
    changes = ticket_service.TicketChanges(
        status=body.status,
        priority=body.priority,
        assignee_id=body.assignee_id if "assignee_id" in given else keep.assignee_id,
        team_id=body.team_id if "team_id" in given else keep.team_id,
        tags=body.tags,
        topic=body.topic,
        language=body.language,
    )
    ticket = await ticket_service.update_ticket(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        changes=changes,
        supported_languages=runtime.policies.players.languages,
        routing_policy=runtime.policies.routing,
    )
    return await _out(uow, ticket)


@router.post(
    "/{ticket_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": MessageOut,
            "description": "A replay of an earlier client_msg_id: the message stored then, "
            "with the header Idempotent-Replayed: true",
        }
    },
)
async def post_message(
    ticket_id: IdPath,
    body: MessageCreate,
    response: Response,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> MessageOut:
    posted = await agent_replies.post_agent_message(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        body=body.body,
        kind=MessageKind(body.kind),
        client_msg_id=body.client_msg_id,
        attachment_ids=body.attachment_ids,
        limits=runtime.policies.messages,
        routing_policy=runtime.policies.routing,
        mail_policy=runtime.policies.mail,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return MessageOut.of(posted.message)


@router.get("/{ticket_id}/messages")
async def list_messages(
    ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor
) -> list[MessageOut]:
    items = await message_service.list_messages(uow, actor=actor, ticket_id=ticket_id)
    return [MessageOut.of(message) for message in items]


@router.get(
    "/{ticket_id}/messages/{message_id}/original",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}, "description": "the raw mail"}},
)
async def original_email(
    ticket_id: IdPath, message_id: IdPath, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> Response:
    """The mail a message came from, byte for byte (audited)."""
    original = await inbound_email.original_email(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        message_id=message_id,
        store=runtime.attachments,
    )
    return Response(
        content=original.data,
        media_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="{original.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/{ticket_id}/transfer")
async def transfer_ticket(
    ticket_id: IdPath, body: TransferCreate, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> TicketOut:
    ticket = await ticket_service.transfer_ticket(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        to_agent_id=body.agent_id,
        to_team_id=body.team_id,
        note=body.note,
        limits=runtime.policies.messages,
        routing_policy=runtime.policies.routing,
    )
    return await _out(uow, ticket)


@router.post("/{ticket_id}/escalations", status_code=status.HTTP_201_CREATED)
async def escalate_ticket(
    ticket_id: IdPath,
    body: EscalationCreate,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> EscalationOut:
    escalation = await escalation_service.escalate_ticket(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        reason=body.reason,
        policy=runtime.policies.routing,
        mail_policy=runtime.policies.mail,
    )
    return EscalationOut.of(escalation)


@router.get("/{ticket_id}/escalations")
async def list_escalations(
    ticket_id: IdPath, uow: UowDep, actor: CurrentActor
) -> list[EscalationOut]:
    history = await escalation_service.escalation_history(uow, actor=actor, ticket_id=ticket_id)
    return [EscalationOut.of(item) for item in history]
