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
    subject: str
    language: str
    status: str
    priority: str
    player_id: int
    team_id: int | None
    assignee_id: int | None
    bot_state: str | None = None  # "active": the bot answers it first


class TicketUpdated(_Event):
    type: Literal["ticket.updated"] = "ticket.updated"
    v: Literal[1] = 1
    ticket_id: int
    player_id: int
    changes: dict[str, list[str | int | None]]
    status: str
    priority: str
    team_id: int | None
    assignee_id: int | None


class AttachmentRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    filename: str
    content_type: str
    size: int


class QuickReply(BaseModel):
    """A button under a bot message; pressing it sends `label` as the player's message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str


class MessagePosted(_Event):
    """Carries everything a socket needs to show the message: fan-out never reads the DB."""

    type: Literal["message.posted"] = "message.posted"
    v: Literal[1] = 1
    ticket_id: int
    ticket_number: int
    player_id: int
    channel: str
    message_id: int
    author_kind: str
    author_agent_id: int | None
    author_name: str | None
    kind: str
    body: str
    attachments: list[AttachmentRef]
    client_msg_id: str | None
    assignee_id: int | None
    team_id: int | None
    quick_replies: list[QuickReply] = Field(default_factory=list)


class TypingChanged(_Event):
    """Ephemeral: never stored, only relayed."""

    type: Literal["typing.changed"] = "typing.changed"
    v: Literal[1] = 1
    ticket_id: int
    player_id: int
    side: Literal["player", "agent"]
    agent_id: int | None
    typing: bool


class ReadReceipt(_Event):
    type: Literal["receipt.updated"] = "receipt.updated"
    v: Literal[1] = 1
    ticket_id: int
    player_id: int
    side: Literal["player", "agent"]
    delivered_up_to: int | None
    read_up_to: int | None


class PresenceChanged(_Event):
    type: Literal["presence.changed"] = "presence.changed"
    v: Literal[1] = 1
    agent_id: int
    presence: str


class QueuePositionChanged(_Event):
    """Where a waiting conversation stands in its team's queue (1 = next)."""

    type: Literal["queue.position"] = "queue.position"
    v: Literal[1] = 1
    ticket_id: int
    player_id: int
    team_id: int | None
    position: int
    estimated_wait_seconds: int | None
    # More waiting ahead than were counted: `position` is a floor ("more than N ahead").
    more_ahead: bool = False


class SlaAlert(_Event):
    """A clock passed its warning point or its deadline."""

    type: Literal["sla.alert"] = "sla.alert"
    v: Literal[1] = 1
    ticket_id: int
    ticket_number: int
    metric: str
    kind: Literal["warning", "breach"]
    due_at: datetime
    team_id: int | None
    assignee_id: int | None


class TicketEscalated(_Event):
    type: Literal["ticket.escalated"] = "ticket.escalated"
    v: Literal[1] = 1
    ticket_id: int
    ticket_number: int
    level: int
    trigger: str
    reason: str
    team_id: int | None
    priority: str
    notify_supervisors: bool


class AgentAccessChanged(_Event):
    """An agent signed out, lost a token, or had their role, activity, password or name
    changed: whatever a process cached about the agent's credentials is void."""

    type: Literal["agent.access_changed"] = "agent.access_changed"
    v: Literal[1] = 1
    agent_id: int


class OutboxItemChanged(_Event):
    """An outbound message was sent, failed an attempt, was dead-lettered or retried."""

    type: Literal["outbox.changed"] = "outbox.changed"
    v: Literal[1] = 1
    outbox_id: int
    ticket_id: int | None
    message_id: int | None
    channel: str
    status: str
    attempts: int
    error: str | None


class CallTicket(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    number: int
    subject: str
    status: str


class CallRinging(_Event):
    """A call rings at (or was answered by) an agent: their console pops the caller's context.
    Carries what the pop-up shows, so the fan-out reads nothing."""

    type: Literal["call.ringing"] = "call.ringing"
    v: Literal[1] = 1
    call_id: int
    external_call_id: str
    state: str  # ringing | answered
    direction: str
    agent_id: int
    number: str
    queue: str | None
    player_id: int | None
    player_name: str | None
    vip_tier: str | None
    open_tickets: list[CallTicket]
    # The conversation "Open player" leads to: the player's open phone ticket, if any.
    phone_ticket_id: int | None


Event = Annotated[
    TicketCreated
    | TicketUpdated
    | MessagePosted
    | TypingChanged
    | ReadReceipt
    | PresenceChanged
    | QueuePositionChanged
    | SlaAlert
    | TicketEscalated
    | AgentAccessChanged
    | OutboxItemChanged
    | CallRinging,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: Event) -> str:
    return event.model_dump_json()


def event_from_json(raw: str | bytes) -> Event:
    return EVENT_ADAPTER.validate_json(raw)
