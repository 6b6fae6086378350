"""Routing rules, SLA policies, escalation rules, calendars, team routing, shifts and
schedules. Times of day are "HH:MM" in the calendar's or shift's own time zone; targets and
waits are whole minutes."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from playerdesk.db.models import (
    AgentShift,
    BusinessCalendarRow,
    EscalationRuleRow,
    RoutingRuleRow,
    ShiftRow,
    SlaPolicyRow,
    Team,
)
from playerdesk.domain.routing import TeamPurpose
from playerdesk.services.routing_admin import Coverage, OnShift
from playerdesk.web.schemas.common import RequestModel, ResponseModel
from playerdesk.web.schemas.tickets import Id

_CLOCK_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_ORDERED_IDS = 1000


def _clock_time(value: str) -> str:
    if not _CLOCK_TIME.match(value):
        raise ValueError("a time of day as HH:MM, 00:00 to 24:00")
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]
"""A local time of day, "HH:MM"; "24:00" is the midnight that ends a day."""


def to_minutes(value: str) -> int:
    hours, _, minutes = value.partition(":")
    return int(hours) * 60 + int(minutes)


def to_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Minutes = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class ReorderIn(RequestModel):
    ids: list[Id] = Field(max_length=MAX_ORDERED_IDS, description="every id, in the new order")


# Routing rules ------------------------------------------------------------------------------


class RoutingRuleIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    team_id: Id
    topic: str | None = Field(default=None, max_length=50, description="any topic when empty")
    language: str | None = Field(default=None, max_length=8)
    channel: str | None = Field(default=None, max_length=20)
    vip: str = Field(default="any", max_length=10, description="any, vip or not_vip")
    is_active: bool = True


class RoutingRuleOut(ResponseModel):
    id: int
    position: int
    name: str
    team_id: int
    topic: str | None
    language: str | None
    channel: str | None
    vip: str
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: RoutingRuleRow) -> RoutingRuleOut:
        return cls.model_validate(row)


# SLA policies -------------------------------------------------------------------------------


class SlaPolicyIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    channels: list[str] = Field(default_factory=list, max_length=20)
    priorities: list[str] = Field(default_factory=list, max_length=10)
    vip: str = Field(default="any", max_length=10, description="any, vip or not_vip")
    vip_tiers: list[str] = Field(default_factory=list, max_length=20)
    team_ids: list[Id] = Field(default_factory=list, max_length=100)
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    warning_percent: Minutes = 80
    is_active: bool = True


class SlaPolicyOut(ResponseModel):
    id: int
    position: int
    name: str
    channels: list[str]
    priorities: list[str]
    vip: str
    vip_tiers: list[str]
    team_ids: list[int]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warning_percent: int
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SlaPolicyRow) -> SlaPolicyOut:
        return cls.model_validate(row)


# Escalation rules ---------------------------------------------------------------------------


class EscalationRuleIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    trigger: str = Field(max_length=20, description="sla_warning, sla_breach or unresolved")
    metric: str | None = Field(
        default=None,
        max_length=20,
        description="first_response, next_response or resolution; any metric when empty",
    )
    topics: list[str] = Field(default_factory=list, max_length=50)
    after_minutes: Minutes | None = Field(
        default=None, description="unresolved only; 60 when not given"
    )
    raise_priority: bool = True
    move_to_senior: bool = False
    move_to_team_id: Id | None = None
    notify_supervisors: bool = True
    is_active: bool = True


class EscalationRuleOut(ResponseModel):
    id: int
    position: int
    name: str
    trigger: str
    metric: str | None
    topics: list[str]
    after_minutes: int | None
    raise_priority: bool
    move_to_senior: bool
    move_to_team_id: int | None
    notify_supervisors: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: EscalationRuleRow) -> EscalationRuleOut:
        return cls.model_validate(row)


# Calendars ----------------------------------------------------------------------------------


class IntervalIn(RequestModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: ClockTime
    end: ClockTime


class IntervalOut(ResponseModel):
    weekday: int
    start: str
    end: str


class CalendarIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(max_length=64, description="IANA name, e.g. Europe/Warsaw")
    intervals: list[IntervalIn] = Field(max_length=200)
    holidays: list[date] = Field(default_factory=list, max_length=1830)


class CalendarOut(ResponseModel):
    id: int
    name: str
    time_zone: str
    intervals: list[IntervalOut]
    holidays: list[date]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: BusinessCalendarRow) -> CalendarOut:
        return cls(
            id=row.id,
            name=row.name,
            time_zone=row.time_zone,
            intervals=[
                IntervalOut(weekday=weekday, start=to_clock(start), end=to_clock(end))
                for weekday, start, end in row.intervals
            ],
            holidays=[date.fromisoformat(day) for day in row.holidays],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


# Teams --------------------------------------------------------------------------------------


class TeamRoutingPatch(RequestModel):
    purpose: TeamPurpose | None = None
    calendar_id: Id | None = None


class TeamRoutingOut(ResponseModel):
    id: int
    name: str
    purpose: str | None
    calendar_id: int | None

    @classmethod
    def of(cls, team: Team) -> TeamRoutingOut:
        return cls.model_validate(team)


# Shifts and schedules -----------------------------------------------------------------------


class ShiftIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    start: ClockTime
    end: ClockTime = Field(description="before start: the shift runs past midnight")
    weekdays: list[int] = Field(
        default_factory=lambda: list(range(7)),
        max_length=7,
        description="the days the shift starts on; 0 = Monday",
    )
    time_zone: str = Field(default="UTC", max_length=64)


class ShiftOut(ResponseModel):
    id: int
    name: str
    start: str
    end: str
    weekdays: list[int]
    time_zone: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ShiftRow) -> ShiftOut:
        return cls(
            id=row.id,
            name=row.name,
            start=to_clock(row.start_minute),
            end=to_clock(row.end_minute),
            weekdays=list(row.weekdays),
            time_zone=row.time_zone,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ScheduleIn(RequestModel):
    agent_id: Id
    shift_id: Id
    starts_on: date
    ends_on: date | None = Field(default=None, description="inclusive; open-ended when empty")


class SchedulePatch(RequestModel):
    ends_on: date = Field(description="the last day the agent works the shift")


class ScheduleOut(ResponseModel):
    id: int
    agent_id: int
    shift_id: int
    starts_on: date
    ends_on: date | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AgentShift) -> ScheduleOut:
        return cls.model_validate(entry)


class OnShiftOut(ResponseModel):
    agent_id: int
    agent_name: str
    languages: list[str]
    team_ids: list[int]
    shift_id: int
    shift_name: str
    started_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, item: OnShift) -> OnShiftOut:
        return cls.model_validate(item)


class CoverageGapOut(ResponseModel):
    starts_at: datetime
    missing_languages: list[str]
    missing_team_ids: list[int]


class TeamNameOut(ResponseModel):
    id: int
    name: str


class CoverageOut(ResponseModel):
    starts_at: datetime
    hours: int
    languages: list[str]
    teams: list[TeamNameOut]
    gaps: list[CoverageGapOut] = Field(description="only the hours with something uncovered")

    @classmethod
    def of(cls, result: Coverage) -> CoverageOut:
        return cls(
            starts_at=result.starts_at,
            hours=len(result.hours),
            languages=result.languages,
            teams=[TeamNameOut(id=team_id, name=name) for team_id, name in result.teams.items()],
            gaps=[
                CoverageGapOut(
                    starts_at=hour.starts_at,
                    missing_languages=hour.missing_languages,
                    missing_team_ids=hour.missing_team_ids,
                )
                for hour in result.gaps
            ],
        )
