"""Canned replies and macros over the API: the administration's CRUD, the composer's search,
the preview for a ticket and sending one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from playerdesk.db.models import CannedReply
from playerdesk.domain.enums import Priority, TicketStatus
from playerdesk.services.canned import CannedPreview, CannedReplyInput
from playerdesk.web.schemas.common import RequestModel, ResponseModel
from playerdesk.web.schemas.tickets import MessageOut, TicketOut

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Shortcut = Annotated[
    str,
    Field(
        min_length=1,
        max_length=51,
        description="lowercase letters, digits and hyphens; a leading slash is dropped",
        examples=["withdrawal-pending"],
    ),
]
Tag = Annotated[str, Field(min_length=1, max_length=50)]


class CannedReplyIn(RequestModel):
    shortcut: Shortcut
    language: str = Field(max_length=8, description="one of the installation's languages")
    title: str = Field(max_length=200)
    body: str = Field(
        max_length=5000, description="text with placeholders such as {{player.first_name}}"
    )
    team_id: Id | None = Field(default=None, description="offered only to this team; none: all")
    is_active: bool = True
    set_status: TicketStatus | None = Field(
        default=None, description="macro: open, pending, on_hold or resolved"
    )
    set_priority: Priority | None = Field(default=None, description="macro")
    add_tags: list[Tag] = Field(default_factory=list, max_length=20, description="macro")
    move_to_team_id: Id | None = Field(
        default=None, description="macro: hand the ticket over to this team"
    )

    def reply(self) -> CannedReplyInput:
        return CannedReplyInput(**self.model_dump())


class CannedReplyPatch(RequestModel):
    """Only what changes; an absent field keeps its value (null clears the optional ones)."""

    shortcut: Shortcut | None = None
    language: str | None = Field(default=None, max_length=8)
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=5000)
    team_id: Id | None = None
    is_active: bool | None = None
    set_status: TicketStatus | None = None
    set_priority: Priority | None = None
    add_tags: list[Tag] | None = Field(default=None, max_length=20)
    move_to_team_id: Id | None = None

    def reply_over(self, current: CannedReply) -> CannedReplyInput:
        stored: dict[str, Any] = {
            "shortcut": current.shortcut,
            "language": current.language,
            "title": current.title,
            "body": current.body,
            "team_id": current.team_id,
            "is_active": current.is_active,
            "set_status": TicketStatus(current.set_status) if current.set_status else None,
            "set_priority": Priority(current.set_priority) if current.set_priority else None,
            "add_tags": list(current.add_tags),
            "move_to_team_id": current.move_to_team_id,
        }
        clearable = {"team_id", "set_status", "set_priority", "move_to_team_id"}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is not None or name in clearable:
                stored[name] = value
        return CannedReplyInput(**stored)


class MacroActionsOut(ResponseModel):
    set_status: TicketStatus | None
    set_priority: Priority | None
    add_tags: list[str]
    move_to_team_id: int | None


class CannedReplyOut(ResponseModel):
    id: int
    shortcut: str
    language: str
    title: str
    body: str
    team_id: int | None
    is_active: bool
    is_macro: bool
    actions: MacroActionsOut
    usage_count: int
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: CannedReply) -> CannedReplyOut:
        return cls(
            id=row.id,
            shortcut=row.shortcut,
            language=row.language,
            title=row.title,
            body=row.body,
            team_id=row.team_id,
            is_active=row.is_active,
            is_macro=row.is_macro,
            actions=_actions(row),
            usage_count=row.usage_count,
            last_used_at=row.last_used_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def _actions(row: CannedReply) -> MacroActionsOut:
    return MacroActionsOut(
        set_status=TicketStatus(row.set_status) if row.set_status else None,
        set_priority=Priority(row.set_priority) if row.set_priority else None,
        add_tags=list(row.add_tags),
        move_to_team_id=row.move_to_team_id,
    )


class CannedSuggestionOut(ResponseModel):
    """What the composer's list shows: no body (the preview fills it for the ticket)."""

    id: int
    shortcut: str
    language: str
    title: str
    is_macro: bool
    actions: MacroActionsOut

    @classmethod
    def of(cls, row: CannedReply) -> CannedSuggestionOut:
        return cls(
            id=row.id,
            shortcut=row.shortcut,
            language=row.language,
            title=row.title,
            is_macro=row.is_macro,
            actions=_actions(row),
        )


class PlaceholderOut(ResponseModel):
    name: str
    source: str = Field(description="ticket, player, agent, or a part of the back office")
    from_back_office: bool
    description: str


class CannedPreviewIn(RequestModel):
    ticket_id: Id
    canned_id: Id | None = Field(default=None, description="the reply, or its shortcut")
    shortcut: Shortcut | None = None


class CannedPreviewOut(ResponseModel):
    reply: CannedSuggestionOut
    ticket_id: int
    language: str = Field(description="the ticket's language, in which the values are written")
    text: str = Field(description="the reply filled in; unfilled placeholders stay as written")
    placeholders: list[str]
    unfilled: list[str] = Field(description="placeholders with no value: fill them in by hand")
    account_unavailable: bool = Field(
        description="the casino back office was needed and did not answer"
    )

    @classmethod
    def of(cls, preview: CannedPreview) -> CannedPreviewOut:
        return cls(
            reply=CannedSuggestionOut.of(preview.reply),
            ticket_id=preview.ticket_id,
            language=preview.language,
            text=preview.text,
            placeholders=preview.placeholders,
            unfilled=preview.unfilled,
            account_unavailable=preview.account_unavailable,
        )


class CannedApplyIn(RequestModel):
    ticket_id: Id
    body: str | None = Field(
        default=None,
        max_length=100_000,
        description="the text as the agent finished it; absent: the reply filled in by the "
        "server. Refused while it still has a {{placeholder}}",
    )
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=100)


class CannedApplyOut(ResponseModel):
    message: MessageOut
    ticket: TicketOut
    actions: list[str] = Field(description="the macro actions applied")
