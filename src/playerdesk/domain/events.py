"""Events published on the bus after commit: versioned, JSON round-trippable models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: datetime


class TicketCreated(_Event):
    type: Literal["ticket.created"] = "ticket.created"
    v: Literal[1] = 1
    ticket_id: int
    number: int
    channel: str
    status: str
    priority: str
    player_id: int
    team_id: int | None
    assignee_id: int | None


class TicketUpdated(_Event):
    type: Literal["ticket.updated"] = "ticket.updated"
    v: Literal[1] = 1
    ticket_id: int
    changes: dict[str, list[str | int | None]]
    status: str
    priority: str
    team_id: int | None
    assignee_id: int | None


class MessagePosted(_Event):
    type: Literal["message.posted"] = "message.posted"
    v: Literal[1] = 1
    ticket_id: int
    message_id: int
    author_kind: str
    kind: str
    client_msg_id: str | None


Event = Annotated[TicketCreated | TicketUpdated | MessagePosted, Field(discriminator="type")]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: Event) -> str:
    return event.model_dump_json()


def event_from_json(raw: str | bytes) -> Event:
    return EVENT_ADAPTER.validate_json(raw)
