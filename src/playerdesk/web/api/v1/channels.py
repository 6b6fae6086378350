"""IMAP mailboxes and the outbox (dead letters and their retry), for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from playerdesk.db.models import Mailbox
from playerdesk.domain.errors import NotFound
from playerdesk.domain.mail import OutboxStatus
from playerdesk.services import mailboxes as mailbox_service
from playerdesk.services import outbound
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.channels import (
    MailboxIn,
    MailboxOut,
    MailboxPatch,
    OutboxCountsOut,
    OutboxItemOut,
    OutboxOut,
)

router = APIRouter(tags=["channels: mailboxes and outbox"])

NO_CONTENT = status.HTTP_204_NO_CONTENT
MAX_OUTBOX_PAGE = 500


def _mailbox_among(rows: list[Mailbox], mailbox_id: int) -> Mailbox:
    for row in rows:
        if row.id == mailbox_id:
            return row
    raise NotFound("no such mailbox", field="mailbox_id")


# Mailboxes ----------------------------------------------------------------------------------


@router.get("/mailboxes")
async def list_mailboxes(uow: ReadUowDep, actor: CurrentActor) -> list[MailboxOut]:
    return [MailboxOut.of(row) for row in await mailbox_service.list_mailboxes(uow, actor=actor)]


@router.post("/mailboxes", status_code=status.HTTP_201_CREATED)
async def create_mailbox(
    body: MailboxIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> MailboxOut:
    row = await mailbox_service.create_mailbox(
        uow, actor=actor, fields=body.fields(), box=runtime.secret_box
    )
    return MailboxOut.of(row)


@router.patch("/mailboxes/{mailbox_id}")
async def update_mailbox(
    mailbox_id: IdPath, body: MailboxPatch, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> MailboxOut:
    # The service takes a whole mailbox: the changes are laid over the stored settings.
    current = _mailbox_among(await mailbox_service.list_mailboxes(uow, actor=actor), mailbox_id)
    row = await mailbox_service.update_mailbox(
        uow,
        actor=actor,
        mailbox_id=mailbox_id,
        fields=body.fields_over(current),
        box=runtime.secret_box,
    )
    return MailboxOut.of(row)


@router.delete("/mailboxes/{mailbox_id}", status_code=NO_CONTENT)
async def delete_mailbox(mailbox_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await mailbox_service.delete_mailbox(uow, actor=actor, mailbox_id=mailbox_id)
    return Response(status_code=NO_CONTENT)


# Outbox -------------------------------------------------------------------------------------


@router.get("/outbox")
async def list_outbox(
    uow: ReadUowDep,
    actor: CurrentActor,
    status: Annotated[OutboxStatus | None, Query(description="every status when absent")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_OUTBOX_PAGE)] = 100,
) -> OutboxOut:
    items = await outbound.list_outbox(uow, actor=actor, status=status, limit=limit)
    counts = await outbound.outbox_counts(uow, actor=actor)
    return OutboxOut(
        counts=OutboxCountsOut.model_validate(counts),
        items=[OutboxItemOut.of(item) for item in items],
    )


@router.post("/outbox/{outbox_id}/retry")
async def retry_outbox_item(outbox_id: IdPath, uow: UowDep, actor: CurrentActor) -> OutboxItemOut:
    return OutboxItemOut.of(await outbound.retry_dead(uow, actor=actor, item_id=outbox_id))
