"""Business time: the hours in which SLA clocks run.

A calendar is a set of weekly working intervals in a local time zone, minus holidays. With no
intervals it is open around the clock (still minus its holidays, if it has any). All instants
going in and out are aware datetimes; results are UTC.

Local wall times become instants with zoneinfo and ``fold=0``, the reading PostgreSQL and
most libraries use: an ambiguous time (clocks going back) is its first occurrence, and a time
that does not exist (clocks going forward) is read with the offset from before the change,
so 02:30 on the spring-forward night in Warsaw is 03:30 CEST. Durations are real elapsed
time, so 09:00-17:00 is 8 hours on any day, and 00:00-24:00 is 23 hours on the day the
clocks go forward and 25 hours on the day they go back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from playerdesk.domain.errors import ValidationFailed

MINUTES_PER_DAY = 24 * 60
DAYS_PER_WEEK = 7
MAX_HOLIDAYS = 366 * 5
# A validated calendar is never closed for longer than this, so every search for working
# time ends within SEARCH_HORIZON_DAYS (the margin covers intervals lost in a DST gap).
MAX_CLOSED_DAYS = 366
SEARCH_HORIZON_DAYS = 400

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)

Period = tuple[datetime, datetime]


def time_zone_named(name: str) -> ZoneInfo:
    """The IANA zone, or ValidationFailed on the `time_zone` field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key naming a directory of the tz database, e.g. "Europe".
        raise ValidationFailed(f"unknown time zone {name!r}", field="time_zone") from None


def _as_utc(moment: datetime, *, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class WorkingInterval:
    """Working time on one weekday, in the calendar's local time."""

    weekday: int  # 0 = Monday ... 6 = Sunday
    start_minute: int  # minutes after local midnight, 0..1439
    end_minute: int  # 1..1440, after start_minute; 1440 is the midnight ending the day


@dataclass(frozen=True, kw_only=True)
class BusinessCalendar:
    time_zone: str = "UTC"  # IANA name
    intervals: tuple[WorkingInterval, ...] = ()  # none: open around the clock
    holidays: frozenset[date] = frozenset()  # local dates with no working time

    @classmethod
    def around_the_clock(cls) -> BusinessCalendar:
        return cls()

    @property
    def is_around_the_clock(self) -> bool:
        return not self.intervals and not self.holidays

    def validate(self) -> None:
        """Refuse a calendar that is malformed or leaves too little working time to count on."""
        time_zone_named(self.time_zone)
        for interval in self.intervals:
            if not 0 <= interval.weekday < DAYS_PER_WEEK:
                raise ValidationFailed("weekdays are 0 (Monday) to 6 (Sunday)", field="intervals")
            if not 0 <= interval.start_minute < MINUTES_PER_DAY:
                raise ValidationFailed(
                    "working time starts between 00:00 and 23:59", field="intervals"
                )
            if not 0 < interval.end_minute <= MINUTES_PER_DAY:
                raise ValidationFailed(
                    "working time ends between 00:01 and 24:00", field="intervals"
                )
            if interval.end_minute <= interval.start_minute:
                raise ValidationFailed("working time must end after it starts", field="intervals")
        for bounds in self._minutes_by_weekday.values():
            for (_, earlier_end), (later_start, _) in pairwise(bounds):
                if later_start < earlier_end:
                    raise ValidationFailed(
                        "working intervals on the same day overlap", field="intervals"
                    )
        if len(self.holidays) > MAX_HOLIDAYS:
            raise ValidationFailed(
                f"a calendar holds at most {MAX_HOLIDAYS} holidays", field="holidays"
            )
        if self._longest_closed_run_days() > MAX_CLOSED_DAYS:
            raise ValidationFailed(
                f"the calendar has no working time for more than {MAX_CLOSED_DAYS} days",
                field="holidays",
            )

    def is_open(self, at: datetime) -> bool:
        moment = _as_utc(at, name="at")
        if self.is_around_the_clock:
            return True
        opens, _ = next(self._periods_ending_after(moment))
        return opens <= moment

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when the calendar is open then, else the start of the next working time
        (on a holiday: the first working interval of the next working day)."""
        moment = _as_utc(at, name="at")
        if self.is_around_the_clock:
            return moment
        opens, _ = next(self._periods_ending_after(moment))
        return max(opens, moment)

    def add(self, *, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which `duration` of working time has passed since `start`.

        With a positive duration the result is open or exactly the end of working time (a
        deadline of 17:00 on a 09:00-17:00 day), never inside closed time. A zero duration
        gives `next_open(start)`, so that a deadline is never set inside closed time either.
        """
        moment = _as_utc(start, name="start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if self.is_around_the_clock:
            return moment + duration
        if duration == _ZERO:
            return self.next_open(moment)
        remaining = duration
        for opens, closes in self._periods_ending_after(moment):
            opens = max(opens, moment)
            available = closes - opens
            if remaining <= available:
                return opens + remaining
            remaining -= available
        raise AssertionError("unreachable: the period search never ends without a period")

    def elapsed(self, *, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); zero when `end` is not after `start`."""
        begin = _as_utc(start, name="start")
        finish = _as_utc(end, name="end")
        if finish <= begin:
            return _ZERO
        if self.is_around_the_clock:
            return finish - begin
        total = _ZERO
        for opens, closes in self._periods_ending_after(begin):
            if opens >= finish:
                break
            total += min(closes, finish) - max(opens, begin)
        return total

    @cached_property
    def _minutes_by_weekday(self) -> dict[int, list[tuple[int, int]]]:
        if not self.intervals:
            return {weekday: [(0, MINUTES_PER_DAY)] for weekday in range(DAYS_PER_WEEK)}
        table: dict[int, list[tuple[int, int]]] = {}
        for interval in self.intervals:
            table.setdefault(interval.weekday, []).append(
                (interval.start_minute, interval.end_minute)
            )
        for bounds in table.values():
            bounds.sort()
        return table

    def _day_periods(self, day: date, zone: ZoneInfo) -> list[Period]:
        if day in self.holidays:
            return []
        midnight = datetime(day.year, day.month, day.day)
        return [
            (
                (midnight + timedelta(minutes=start)).replace(tzinfo=zone).astimezone(UTC),
                (midnight + timedelta(minutes=end)).replace(tzinfo=zone).astimezone(UTC),
            )
            for start, end in self._minutes_by_weekday.get(day.weekday(), [])
        ]

    def _periods_ending_after(self, moment: datetime) -> Iterator[Period]:
        """Working periods [opens, closes) in UTC, in order and disjoint, that end after
        `moment`; the first may have begun before it. Walks day by day, never minute by
        minute, and gives up after SEARCH_HORIZON_DAYS days without any working time."""
        zone = time_zone_named(self.time_zone)
        # The day before: with fold=0 its 24:00 can be read past our local midnight.
        day = moment.astimezone(zone).date() - _ONE_DAY
        latest_close = datetime.min.replace(tzinfo=UTC)
        closed_days = 0
        while closed_days <= SEARCH_HORIZON_DAYS:
            found = False
            for opens, closes in self._day_periods(day, zone):
                # Bounds read across a DST gap can overlap or invert; clipping keeps the
                # periods disjoint so no working time is counted twice.
                opens = max(opens, latest_close)
                if closes <= opens:
                    continue
                found = True
                latest_close = closes
                if closes > moment:
                    yield opens, closes
            closed_days = 0 if found else closed_days + 1
            day += _ONE_DAY
        raise ValueError(
            f"the calendar has no working time within {SEARCH_HORIZON_DAYS} days; "
            "validate() refuses such calendars"
        )

    def _longest_closed_run_days(self) -> int:
        """The most consecutive local dates without working time. Every weekday with working
        time recurs within a week, so only the weeks around holidays need walking."""
        if not self.holidays:
            return 0
        working_weekdays = set(self._minutes_by_weekday)
        holidays = sorted(self.holidays)
        longest = 0
        run = 0
        upcoming = 0  # index of the first holiday not yet behind us
        day = holidays[0] - timedelta(days=DAYS_PER_WEEK)
        last = holidays[-1] + timedelta(days=DAYS_PER_WEEK)
        while day <= last:
            while upcoming < len(holidays) and holidays[upcoming] < day:
                upcoming += 1
            if day in self.holidays or day.weekday() not in working_weekdays:
                run += 1
                longest = max(longest, run)
                day += _ONE_DAY
                continue
            run = 0
            # A working day: skip to a week before the next holiday, nothing in between
            # can close more than six days in a row.
            day += _ONE_DAY
            if upcoming < len(holidays):
                day = max(day, holidays[upcoming] - timedelta(days=DAYS_PER_WEEK))
        return longest
