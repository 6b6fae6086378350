from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from playerdesk.db.base import Base, BigId, UTCDateTime


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_assignee_id_id", "assignee_id", "id"),
        Index("ix_tickets_team_id_id", "team_id", "id"),
        Index("ix_tickets_player_id_id", "player_id", "id"),
        Index("ix_tickets_last_message_at_id", "last_message_at", "id"),
        Index("ix_tickets_queue", "team_id", "queue_rank", "queued_at"),
        # The team's recent handling time, for a waiting player's estimate.
        Index("ix_tickets_team_id_resolved_at", "team_id", "resolved_at"),
        Index("ix_tickets_escalation_check_at", "escalation_check_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(50))
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="RESTRICT"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Receipts as watermarks: the newest message id each side has received or read.
    player_delivered_up_to: Mapped[int | None] = mapped_column(BigInteger)
    player_read_up_to: Mapped[int | None] = mapped_column(BigInteger)
    agent_read_up_to: Mapped[int | None] = mapped_column(BigInteger)
    # Routing: set while the ticket waits in its team's queue for an agent.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The weight this ticket adds to its assignee's load right now (0 when it adds none).
    load_units: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # SLA: the policy applied and since when a player message waits for an agent's reply.
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the "unresolved for too long" escalation rule must look at this ticket.
    escalation_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bot's part (BotState): None when the bot never took the conversation.
    bot_state: Mapped[str | None] = mapped_column(String(20))
    # The bot's answers since the player last said one helped: two unhelped tries hand off.
    bot_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    tags: Mapped[list[Tag]] = relationship(secondary="ticket_tags", lazy="raise", order_by=Tag.name)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("ticket_id", "client_msg_id"),
        Index("ix_messages_ticket_id_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_kind: Mapped[str] = mapped_column(String(10))
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    client_msg_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Buttons offered under a bot message: [{"id": "helpful_yes", "label": "Yes"}, ...].
    quick_replies: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)

    attachments: Mapped[list[Attachment]] = relationship(
        lazy="raise", order_by="Attachment.id", viewonly=True
    )


class Attachment(Base):
    """Metadata only: the bytes live in the attachment store, addressed by sha256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
