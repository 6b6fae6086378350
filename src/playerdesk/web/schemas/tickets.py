from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from playerdesk.db.models import Attachment, Escalation, Message, Ticket
from playerdesk.domain.enums import Channel, MessageKind, Priority, TicketStatus
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.players import normalise_email
from playerdesk.services.sla import TicketSla
from playerdesk.web.schemas.common import RequestModel, ResponseModel

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class PlayerRef(RequestModel):
    external_id: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=8)

    # Checked here too so that a mistake is reported as `player.<field>`, not as a field of
    # the ticket; the service still applies the same rules.
    @field_validator("external_id")
    @classmethod
    def _external_id_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("1 to 100 characters")
        return value

    @field_validator("email")
    @classmethod
    def _email_valid(cls, value: str | None) -> str | None:
        if value:
            try:
                normalise_email(value)
            except ValidationFailed as exc:
                raise ValueError(exc.detail) from exc
        return value


class TicketCreate(RequestModel):
    channel: Channel
    subject: str = Field(max_length=300)
    body: str = Field(max_length=100_000)
    player: PlayerRef
    priority: Priority = Priority.NORMAL
    language: str | None = Field(default=None, max_length=8)
    topic: str | None = Field(default=None, max_length=50)
    team_id: Id | None = None
    assignee_id: Id | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    client_msg_id: str | None = Field(default=None, max_length=100)


class TicketPatch(RequestModel):
    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    topic: str | None = Field(default=None, max_length=50)
    language: str | None = Field(default=None, max_length=8)

    @field_validator("status", "priority")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class SlaClockOut(ResponseModel):
    metric: str = Field(description="first_response, next_response or resolution")
    state: str = Field(description="running, paused, met, breached or cancelled")
    target_seconds: int
    due_at: datetime | None = Field(description="None while paused")
    warn_at: datetime | None
    remaining_seconds: int = Field(description="business time left; negative when overdue")
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None


class TicketSlaOut(ResponseModel):
    policy_id: int | None
    state: str = Field(description="breached, warning, running, paused, met or none")
    next_due_at: datetime | None
    clocks: list[SlaClockOut]

    @classmethod
    def of(cls, sla: TicketSla) -> TicketSlaOut:
        return cls(
            policy_id=sla.policy_id,
            state=sla.state,
            next_due_at=sla.next_due_at,
            clocks=[
                SlaClockOut.model_validate(
                    {name: getattr(clock, name) for name in SlaClockOut.model_fields}
                )
                for clock in sla.clocks
            ],
        )


class TicketOut(ResponseModel):
    id: int
    number: int
    channel: Channel
    subject: str
    status: TicketStatus
    priority: Priority
    language: str
    topic: str | None
    player_id: int
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    queued_at: datetime | None = Field(description="set while waiting in its team's queue")
    escalation_level: int
    sla: TicketSlaOut

    @classmethod
    def of(cls, ticket: Ticket, *, sla: TicketSla) -> TicketOut:
        computed = {"tags", "sla"}
        return cls.model_validate(
            {
                **{
                    name: getattr(ticket, name) for name in cls.model_fields if name not in computed
                },
                "tags": [tag.name for tag in ticket.tags],
                "sla": TicketSlaOut.of(sla),
            }
        )


class MessageCreate(RequestModel):
    body: str = Field(default="", max_length=100_000)
    kind: MessageKind = MessageKind.REPLY
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=100)
    attachment_ids: list[Id] = Field(default_factory=list, max_length=10)


class AttachmentOut(ResponseModel):
    id: int
    ticket_id: int
    message_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            ticket_id=attachment.ticket_id,
            message_id=attachment.message_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            created_at=attachment.created_at,
            download_url=f"/api/v1/attachments/{attachment.id}",
        )


class MessageOut(ResponseModel):
    id: int
    ticket_id: int
    author_kind: str
    author_agent_id: int | None
    kind: MessageKind
    body: str
    redacted: bool
    client_msg_id: str | None
    created_at: datetime
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            ticket_id=message.ticket_id,
            author_kind=message.author_kind,
            author_agent_id=message.author_agent_id,
            kind=MessageKind(message.kind),
            body=message.body,
            redacted=message.redacted,
            client_msg_id=message.client_msg_id,
            created_at=message.created_at,
            attachments=[AttachmentOut.of(item) for item in message.attachments],
        )


class TransferCreate(RequestModel):
    agent_id: Id | None = Field(default=None, description="a colleague to hand over to")
    team_id: Id | None = Field(default=None, description="a team whose queue takes it")
    note: str = Field(max_length=2000, description="why, for the colleague (internal note)")


class EscalationCreate(RequestModel):
    reason: str = Field(max_length=500)


class EscalationOut(ResponseModel):
    id: int
    ticket_id: int
    level: int
    trigger: str
    reason: str
    from_team_id: int | None
    to_team_id: int | None
    from_priority: Priority
    to_priority: Priority
    agent_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, escalation: Escalation) -> EscalationOut:
        return cls.model_validate({name: getattr(escalation, name) for name in cls.model_fields})
