"""Template messages on WhatsApp conversations: the approved templates an agent can send
(outside the 24-hour window, the only messages WhatsApp delivers), and sending one."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from playerdesk.adapters.whatsapp import template_catalog
from playerdesk.services import whatsapp_templates as template_service
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.tickets import MessageOut
from playerdesk.web.schemas.whatsapp_templates import TemplateMessageCreate, WhatsAppTemplatesOut

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("/{ticket_id}/whatsapp-templates")
async def list_whatsapp_templates(
    ticket_id: IdPath, uow: ReadUowDep, actor: CurrentActor, runtime: RuntimeDep
) -> WhatsAppTemplatesOut:
    """The business account's approved templates that can be sent on this WhatsApp
    conversation (listed by the Graph API, kept for a minute), those in the conversation's
    language first, and whether the 24-hour window is still open."""
    choice = await template_service.list_templates(
        uow, actor=actor, ticket_id=ticket_id, catalog=template_catalog(runtime)
    )
    return WhatsAppTemplatesOut.of(choice, now=uow.clock.now())


@router.post(
    "/{ticket_id}/template-messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": MessageOut,
            "description": "A replay of an earlier client_msg_id: the message stored then, "
            "with the header Idempotent-Replayed: true",
        }
    },
)
async def send_template_message(
    ticket_id: IdPath,
    body: TemplateMessageCreate,
    response: Response,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> MessageOut:
    """Send an approved template on a WhatsApp conversation with a value for each of its
    body's parameters. The reply recorded is the text the player will see; the outbox
    sends the template. 422 names the field at fault (`name`, `language`, `parameters`)."""
    posted = await template_service.send_template(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        name=body.name,
        language=body.language,
        parameters=body.parameters,
        client_msg_id=body.client_msg_id,
        catalog=template_catalog(runtime),
        limits=runtime.policies.messages,
        routing_policy=runtime.policies.routing,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return MessageOut.of(posted.message)
