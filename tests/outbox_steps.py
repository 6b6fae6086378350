"""Steps tests share: an agent writes on a ticket, and what the outbox holds."""

from __future__ import annotations

from sqlalchemy import select

from playerdesk.db.models import OutboxItem
from playerdesk.domain.enums import MessageKind
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services.agent_replies import post_agent_message
from tests.conftest import AgentLogin


async def agent_writes(
    runtime: Runtime,
    *,
    actor: Actor,
    ticket_id: int,
    body: str,
    kind: MessageKind = MessageKind.REPLY,
    attachment_ids: list[int] | None = None,
) -> None:
    async with runtime.uow() as uow:
        await post_agent_message(
            uow,
            actor=actor,
            ticket_id=ticket_id,
            body=body,
            kind=kind,
            client_msg_id=None,
            attachment_ids=attachment_ids or [],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )


async def outbox_rows(runtime: Runtime) -> list[OutboxItem]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def agent_replies(
    runtime: Runtime,
    agent: AgentLogin,
    ticket_id: int,
    body: str,
    kind: MessageKind = MessageKind.REPLY,
) -> None:
    await agent_writes(runtime, actor=agent.actor, ticket_id=ticket_id, body=body, kind=kind)
