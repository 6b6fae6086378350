from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, BigId, UTCDateTime


class BotChannel(Base):
    """A channel the bot answers first; a channel without a row is answered by people."""

    __tablename__ = "bot_channels"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )


class BotTurn(Base):
    """A player message the bot owes an answer, written with the message; the bot job claims
    it, and its outcome (what the bot understood and did) stays for the supervisors."""

    __tablename__ = "bot_turns"
    __table_args__ = (Index("ix_bot_turns_finished_at_due_at", "finished_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When a worker may take it: now, or when an earlier worker's lease runs out.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outcome (BotOutcome): answered, handed_off, skipped (a person had taken over).
    outcome: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    rg_risk: Mapped[bool | None] = mapped_column(Boolean)
    action: Mapped[str | None] = mapped_column(String(32))
    # Hand-off reasons, comma-separated (HandoffReason values).
    reasons: Mapped[str | None] = mapped_column(String(200))
