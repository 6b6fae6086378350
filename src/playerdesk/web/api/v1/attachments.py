from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Response, UploadFile, status

from playerdesk.services import attachments as attachment_service
from playerdesk.web.deps import CurrentActor, IdPath, RuntimeDep, UowDep
from playerdesk.web.schemas.tickets import AttachmentOut

router = APIRouter(tags=["attachments"])


@router.post("/tickets/{ticket_id}/attachments", status_code=status.HTTP_201_CREATED)
async def upload_attachment(
    ticket_id: IdPath,
    file: Annotated[UploadFile, File()],
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> AttachmentOut:
    # The body-size middleware already capped the request, so reading it whole is bounded.
    data = await file.read()
    attachment = await attachment_service.upload_attachment(
        uow,
        actor=actor,
        store=runtime.attachments,
        policy=runtime.policies.attachments,
        ticket_id=ticket_id,
        filename=file.filename or "attachment",
        data=data,
    )
    return AttachmentOut.of(attachment)


@router.get("/attachments/{attachment_id}", response_class=Response)
async def download_attachment(
    attachment_id: IdPath, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> Response:
    content = await attachment_service.download_attachment(
        uow, actor=actor, store=runtime.attachments, attachment_id=attachment_id
    )
    item = content.attachment
    ascii_name = item.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f'attachment; filename="{ascii_name}"'
    if ascii_name != item.filename:
        # RFC 6266: the real name for clients that read it, the ASCII one for the rest.
        disposition += f"; filename*=UTF-8''{quote(item.filename, safe='')}"
    return Response(
        content=content.data,
        media_type=item.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{item.sha256}"',
        },
    )
