"""Canned replies and macros: the floor's ready answers, per language, and what a macro
does to the ticket besides answering."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, BigId, UTCDateTime


class CannedReply(Base):
    """One answer in one language, found by its shortcut (`/withdrawal-pending`). With any of
    the actions set it is a macro: sending it also changes the ticket."""

    __tablename__ = "canned_replies"
    __table_args__ = (
        # One version per language; the composer falls back to the default language.
        UniqueConstraint("shortcut", "language"),
        Index("ix_canned_replies_language_shortcut", "language", "shortcut"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Offered only to that team's agents (and on that team's tickets); none: to everyone.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The macro's actions, each optional.
    set_status: Mapped[str | None] = mapped_column(String(20))
    set_priority: Mapped[str | None] = mapped_column(String(20))
    add_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    move_to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def is_macro(self) -> bool:
        return bool(self.set_status or self.set_priority or self.add_tags or self.move_to_team_id)
