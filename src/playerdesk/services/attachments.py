"""Attachments: bytes in the attachment store, metadata and access in the database."""

from __future__ import annotations

from dataclasses import dataclass

from playerdesk.db.models import Attachment, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from playerdesk.domain.files import safe_filename, sniff_content_type
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit
from playerdesk.storage.attachments import AttachmentStore


@dataclass(frozen=True, kw_only=True)
class AttachmentPolicy:
    max_bytes: int
    allowed_types: list[str]


async def upload_attachment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    store: AttachmentStore,
    policy: AttachmentPolicy,
    ticket_id: int,
    filename: str,
    data: bytes,
) -> Attachment:
    """Store an upload for a ticket; a later message links it. The type comes from the bytes."""
    actor.require(Permission.ATTACHMENTS_WRITE)
    if await uow.session.get(Ticket, ticket_id) is None:
        raise NotFound("no such ticket", field="ticket_id")
    attachment = await store_attachment(
        uow,
        actor=actor,
        store=store,
        policy=policy,
        ticket_id=ticket_id,
        filename=filename,
        data=data,
    )
    await uow.commit()
    return attachment


async def store_attachment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    store: AttachmentStore,
    policy: AttachmentPolicy,
    ticket_id: int,
    filename: str,
    data: bytes,
) -> Attachment:
    """Check, store and record an upload inside the caller's transaction (no commit)."""
    if len(data) > policy.max_bytes:
        raise PayloadTooLarge(f"files may be at most {policy.max_bytes} bytes", field="file")
    if not data:
        raise UnsupportedMediaType("the file is empty", field="file")
    content_type = sniff_content_type(data)
    if content_type is None or content_type not in policy.allowed_types:
        raise UnsupportedMediaType(
            f"allowed file types: {', '.join(policy.allowed_types)}", field="file"
        )
    # Written before the row: content-addressed, so a rolled-back upload leaves only bytes
    # that a later identical upload reuses.
    sha256 = await store.put(data)
    attachment = Attachment(
        ticket_id=ticket_id,
        filename=safe_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=sha256,
        uploaded_by_agent_id=actor.agent_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(attachment)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="attachment.uploaded",
        entity_type="attachment",
        entity_id=attachment.id,
        details={"ticket_id": ticket_id, "sha256": sha256, "size": len(data)},
    )
    return attachment


@dataclass(frozen=True, kw_only=True)
class AttachmentContent:
    attachment: Attachment
    data: bytes


async def download_attachment(
    uow: UnitOfWork, *, actor: Actor, store: AttachmentStore, attachment_id: int
) -> AttachmentContent:
    """Attachments are often identity documents: every download is audited."""
    actor.require(Permission.TICKETS_READ)
    attachment = await uow.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment", field="attachment_id")
    data = await store.get(attachment.sha256)
    audit.record(
        uow,
        actor=actor,
        action="attachment.downloaded",
        entity_type="attachment",
        entity_id=attachment.id,
        details={"ticket_id": attachment.ticket_id},
    )
    await uow.commit()
    return AttachmentContent(attachment=attachment, data=data)
