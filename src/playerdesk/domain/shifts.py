"""Shifts and schedules: who is on shift at a moment, and where the coming week has gaps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from playerdesk.domain.calendar import time_zone_named
from playerdesk.domain.errors import ValidationFailed

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, kw_only=True)
class ShiftPattern:
    """A shift in local time, e.g. 22:00-06:00: it starts on each listed weekday and may run
    past midnight (end_minute <= start_minute)."""

    start_minute: int
    end_minute: int
    weekdays: frozenset[int]  # 0 = Monday, the day the shift starts
    time_zone: str = "UTC"

    def validate(self) -> None:
        time_zone_named(self.time_zone)
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValidationFailed("a shift starts between 00:00 and 23:59", field="start")
        if not 0 <= self.end_minute < MINUTES_PER_DAY:
            raise ValidationFailed("a shift ends between 00:00 and 23:59", field="end")
        if self.start_minute == self.end_minute:
            raise ValidationFailed("a shift needs working time", field="end")
        if not self.weekdays:
            raise ValidationFailed("a shift runs on at least one weekday", field="weekdays")
        if not self.weekdays <= set(range(7)):
            raise ValidationFailed("weekdays are 0 (Monday) to 6 (Sunday)", field="weekdays")

    @property
    def length_minutes(self) -> int:
        return (self.end_minute - self.start_minute) % MINUTES_PER_DAY

    def occurrences(self, *, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
        """The shift's working periods (UTC) that overlap [start, end)."""
        tz = time_zone_named(self.time_zone)
        first_day = start.astimezone(tz).date() - timedelta(days=1)
        last_day = end.astimezone(tz).date()
        day = first_day
        while day <= last_day:
            if day.weekday() in self.weekdays:
                begins = _local(day, self.start_minute, tz)
                ends = begins + timedelta(minutes=self.length_minutes)
                if begins < end and ends > start:
                    yield begins, ends
            day += timedelta(days=1)


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class ScheduledShift:
    """An agent works a shift pattern from `starts_on` (until `ends_on`, inclusive)."""

    agent_id: int
    pattern: ShiftPattern
    starts_on: date
    ends_on: date | None = None

    def covers(self, at: datetime) -> bool:
        return any(True for _ in self.periods(start=at, end=at + timedelta(microseconds=1)))

    def periods(self, *, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
        tz = time_zone_named(self.pattern.time_zone)
        for begins, ends in self.pattern.occurrences(start=start, end=end):
            started_on = begins.astimezone(tz).date()
            if started_on < self.starts_on or (self.ends_on and started_on > self.ends_on):
                continue
            yield begins, ends


def on_shift(*, schedules: Sequence[ScheduledShift], agent_id: int, at: datetime) -> bool:
    """An agent with no schedule at all is not restricted (small teams do without shifts);
    once scheduled, only inside a shift. For many agents at once, use a `Rota`."""
    return Rota(schedules).on_shift(agent_id=agent_id, at=at)


class Rota:
    """Schedules grouped by agent once, so asking about every agent of a floor costs one
    pass over the schedules instead of one per agent."""

    def __init__(self, schedules: Iterable[ScheduledShift]) -> None:
        self._by_agent: dict[int, list[ScheduledShift]] = {}
        for entry in schedules:
            self._by_agent.setdefault(entry.agent_id, []).append(entry)

    def on_shift(self, *, agent_id: int, at: datetime) -> bool:
        own = self._by_agent.get(agent_id)
        return not own or any(entry.covers(at) for entry in own)


@dataclass(frozen=True, kw_only=True)
class CoverageGap:
    starts_at: datetime  # an hour with nobody scheduled for this group
    group: str  # "language:sv" or "team:<id>"


@dataclass(frozen=True, kw_only=True)
class StaffMember:
    agent_id: int
    languages: frozenset[str]
    team_ids: frozenset[int]


def coverage_gaps(
    *,
    schedules: Sequence[ScheduledShift],
    staff: Sequence[StaffMember],
    languages: Sequence[str],
    team_ids: Sequence[int],
    start: datetime,
    hours: int,
) -> list[CoverageGap]:
    """Hours from `start` (floored to the hour) in which no scheduled agent covers a language
    or a team. Agents without a schedule are not counted: coverage is about the rota."""
    origin = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = origin + timedelta(hours=hours)
    by_agent = {member.agent_id: member for member in staff}
    covered: dict[int, set[str]] = {}
    for entry in schedules:
        member = by_agent.get(entry.agent_id)
        if member is None:
            continue
        groups = {f"language:{code}" for code in member.languages} | {
            f"team:{team}" for team in member.team_ids
        }
        for begins, ends in entry.periods(start=origin, end=end):
            hour = max(0, int((begins - origin).total_seconds() // 3600))
            # An hour counts as covered only when the shift spans all of it.
            if origin + timedelta(hours=hour) < begins:
                hour += 1
            while hour < hours and origin + timedelta(hours=hour + 1) <= ends:
                covered.setdefault(hour, set()).update(groups)
                hour += 1
    wanted = [f"language:{code}" for code in languages] + [f"team:{team}" for team in team_ids]
    return [
        CoverageGap(starts_at=origin + timedelta(hours=hour), group=group)
        for hour in range(hours)
        for group in wanted
        if group not in covered.get(hour, set())
    ]
