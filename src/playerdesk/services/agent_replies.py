"""An agent answering a conversation: the reply or note, who owns the conversation after
it, and the reply's way out to the player's channel."""

from __future__ import annotations

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, MessageKind
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import outbound
from playerdesk.services.messages import (
    MessageLimits,
    PostedMessage,
    add_message,
    ticket_for_update,
)
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.tickets import TicketChanges, change_ticket


async def post_agent_message(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    body: str,
    kind: MessageKind,
    client_msg_id: str | None,
    attachment_ids: list[int],
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> PostedMessage:
    """An agent's public reply or internal note; a reply on a ticket answered by email or
    in a messenger goes to the outbox in the same transaction."""
    posted = await add_agent_message(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        body=body,
        kind=kind,
        client_msg_id=client_msg_id,
        attachment_ids=attachment_ids,
        limits=limits,
        routing_policy=routing_policy,
        mail_policy=mail_policy,
    )
    if posted.created:
        await uow.commit()
    return posted


async def add_agent_message(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    body: str,
    kind: MessageKind,
    client_msg_id: str | None,
    attachment_ids: list[int],
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> PostedMessage:
    """`post_agent_message` inside the caller's transaction (a macro's reply commits with
    its actions); the caller commits when `created`.

    The agent who answers a conversation nobody holds takes it, as an assignment by hand
    would: it leaves the queue, counts in their load, and routing will not give it to a
    colleague who would answer it a second time. A note takes nothing."""
    actor.require(Permission.TICKETS_WRITE)
    if actor.agent_id is None:
        raise ValidationFailed("only an agent can post as an agent", field="author")
    ticket = await ticket_for_update(uow, ticket_id)
    if kind is MessageKind.REPLY and ticket.assignee_id is None:
        await change_ticket(
            uow,
            actor=actor,
            ticket_id=ticket_id,
            changes=TicketChanges(assignee_id=actor.agent_id),
            supported_languages=[],  # the language is not changed
            routing_policy=routing_policy,
        )
        # add_message writes the ticket's row with Core: the assignment goes first.
        await uow.session.flush()
    posted = await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        author=actor,
        kind=kind,
        body=body,
        client_msg_id=client_msg_id,
        attachment_ids=attachment_ids,
        limits=limits,
        routing_policy=routing_policy,
    )
    if posted.created and kind is MessageKind.REPLY:
        await outbound.send_agent_reply(
            uow,
            ticket=ticket,
            message=posted.message,
            attachments=list(posted.message.attachments),
            policy=mail_policy,
        )
        await outbound.send_messenger_reply(uow, ticket=ticket, message=posted.message)
    return posted
