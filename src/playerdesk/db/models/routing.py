"""What routing, SLA clocks, escalation and shifts keep: the admin's configuration and each
ticket's clocks and history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, BigId, UTCDateTime


class BusinessCalendarRow(Base):
    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    # [[weekday, start_minute, end_minute], ...] in the calendar's local time.
    intervals: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoutingRuleRow(Base):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(20))
    vip: Mapped[str] = mapped_column(String(10), default="any")
    # RESTRICT: a team a rule routes to cannot be deleted from under the rule.
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlaPolicyRow(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    vip: Mapped[str] = mapped_column(String(10), default="any")
    vip_tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    team_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    warning_percent: Mapped[int] = mapped_column(Integer, default=80)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlaClockRow(Base):
    """One running (or finished) clock per ticket and metric; its history is in sla_events."""

    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("ticket_id", "metric"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    target_seconds: Mapped[int] = mapped_column(Integer)
    warning_ratio: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_microseconds: Mapped[int] = mapped_column(BigInteger, default=0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the SLA job must look at this clock next; NULL when nothing can happen to it.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SlaEventRow(Base):
    __tablename__ = "sla_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # warning or breach
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EscalationRuleRow(Base):
    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20))  # sla_warning, sla_breach, unresolved
    metric: Mapped[str | None] = mapped_column(String(20))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    after_minutes: Mapped[int | None] = mapped_column(Integer)
    raise_priority: Mapped[bool] = mapped_column(Boolean, default=True)
    # Either the team whose purpose is "senior", or an explicit team, or neither.
    move_to_senior: Mapped[bool] = mapped_column(Boolean, default=False)
    move_to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    notify_supervisors: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Escalation(Base):
    __tablename__ = "ticket_escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(20))  # manual, sla_warning, sla_breach, unresolved
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_rules.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(500))
    from_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    from_priority: Mapped[str] = mapped_column(String(20))
    to_priority: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShiftRow(Base):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentShift(Base):
    """An agent's schedule: they work `shift_id` from `starts_on` until `ends_on`."""

    __tablename__ = "agent_shifts"
    __table_args__ = (Index("ix_agent_shifts_agent_id_starts_on", "agent_id", "starts_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="RESTRICT"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
