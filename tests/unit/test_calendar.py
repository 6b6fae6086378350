from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from playerdesk.domain.calendar import BusinessCalendar, WorkingInterval
from playerdesk.domain.errors import ValidationFailed

WARSAW = ZoneInfo("Europe/Warsaw")
ONE_MICROSECOND = timedelta(microseconds=1)


def warsaw(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Warsaw wall time as a UTC instant, the form every calendar result takes."""
    return datetime(year, month, day, hour, minute, second, tzinfo=WARSAW).astimezone(UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office_hours(*, holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
    """09:00-17:00 Monday to Friday in Warsaw."""
    return BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=tuple(
            WorkingInterval(weekday=weekday, start_minute=9 * 60, end_minute=17 * 60)
            for weekday in range(5)
        ),
        holidays=holidays,
    )


# Friday 2025-03-28 is a holiday; the clocks go forward on Sunday 2025-03-30.
SPRING = office_hours(holidays=frozenset({date(2025, 3, 28)}))
# Clocks go back on Sunday 2025-10-26.
AUTUMN = office_hours()


def test_around_the_clock_is_the_default_and_plain_addition() -> None:
    calendar = BusinessCalendar.around_the_clock()
    assert calendar == BusinessCalendar()
    assert calendar.is_around_the_clock
    calendar.validate()
    start = utc(2025, 3, 30, 0, 59, 30)
    assert calendar.add(start=start, duration=timedelta(hours=5)) == utc(2025, 3, 30, 5, 59, 30)
    assert calendar.elapsed(start=start, end=utc(2025, 3, 31)) == timedelta(hours=23, seconds=30)
    assert calendar.is_open(start)
    assert calendar.next_open(start) == start


def test_is_open_inside_office_hours_only() -> None:
    assert SPRING.is_open(warsaw(2025, 3, 27, 9, 0))
    assert SPRING.is_open(warsaw(2025, 3, 27, 16, 59, 59))
    assert not SPRING.is_open(warsaw(2025, 3, 27, 17, 0))  # the end is not open
    assert not SPRING.is_open(warsaw(2025, 3, 27, 8, 59, 59))
    assert not SPRING.is_open(warsaw(2025, 3, 28, 12, 0))  # holiday
    assert not SPRING.is_open(warsaw(2025, 3, 29, 12, 0))  # Saturday
    assert not SPRING.is_open(warsaw(2025, 3, 27, 9, 0) - ONE_MICROSECOND)


def test_next_open() -> None:
    open_moment = warsaw(2025, 3, 27, 10, 15)
    assert SPRING.next_open(open_moment) == open_moment
    assert SPRING.next_open(warsaw(2025, 3, 26, 20, 0)) == warsaw(2025, 3, 27, 9, 0)
    assert SPRING.next_open(warsaw(2025, 3, 27, 17, 0)) == warsaw(2025, 3, 31, 9, 0)
    # On the holiday, the weekend and over the DST change: Monday 09:00 CEST.
    assert SPRING.next_open(warsaw(2025, 3, 28, 11, 0)) == utc(2025, 3, 31, 7, 0)
    assert SPRING.next_open(warsaw(2025, 3, 30, 2, 30)) == utc(2025, 3, 31, 7, 0)


def test_add_within_a_day_and_to_the_end_of_a_day() -> None:
    start = warsaw(2025, 3, 26, 10, 0)
    assert SPRING.add(start=start, duration=timedelta(minutes=5)) == warsaw(2025, 3, 26, 10, 5)
    # Landing exactly on the close gives the close, not the next morning.
    assert SPRING.add(start=start, duration=timedelta(hours=7)) == warsaw(2025, 3, 26, 17, 0)
    assert SPRING.add(start=start, duration=timedelta(hours=7, microseconds=1)) == (
        warsaw(2025, 3, 27, 9, 0) + ONE_MICROSECOND
    )


def test_add_over_a_holiday_a_weekend_and_the_spring_dst_change() -> None:
    thursday_afternoon = warsaw(2025, 3, 27, 16, 0)  # 15:00 UTC
    assert SPRING.add(start=thursday_afternoon, duration=timedelta(hours=2)) == utc(
        2025, 3, 31, 8, 0
    )
    # 1 h Thursday, 8 h Monday, 8 h Tuesday, 7 h Wednesday.
    assert SPRING.add(start=thursday_afternoon, duration=timedelta(hours=24)) == utc(
        2025, 4, 2, 14, 0
    )
    assert SPRING.elapsed(start=thursday_afternoon, end=utc(2025, 4, 3)) == timedelta(hours=25)


def test_add_starting_in_closed_time_counts_from_the_opening() -> None:
    saturday = warsaw(2025, 10, 25, 13, 0)
    # Monday after the autumn change opens at 09:00 CET, 08:00 UTC.
    assert AUTUMN.add(start=saturday, duration=timedelta(minutes=30)) == utc(2025, 10, 27, 8, 30)
    assert AUTUMN.elapsed(start=saturday, end=utc(2025, 10, 27, 8, 30)) == timedelta(minutes=30)


def test_add_zero_is_the_start_when_open_and_the_next_opening_when_closed() -> None:
    open_moment = warsaw(2025, 3, 27, 11, 0)
    assert SPRING.add(start=open_moment, duration=timedelta(0)) == open_moment
    assert SPRING.add(start=warsaw(2025, 3, 27, 17, 0), duration=timedelta(0)) == utc(
        2025, 3, 31, 7, 0
    )


def test_elapsed_is_zero_for_empty_or_reversed_ranges_and_in_closed_time() -> None:
    moment = warsaw(2025, 3, 27, 11, 0)
    assert SPRING.elapsed(start=moment, end=moment) == timedelta(0)
    assert SPRING.elapsed(start=moment, end=moment - timedelta(hours=1)) == timedelta(0)
    assert SPRING.elapsed(start=warsaw(2025, 3, 27, 17), end=warsaw(2025, 3, 31, 9)) == (
        timedelta(0)
    )
    assert SPRING.elapsed(start=warsaw(2025, 3, 27, 16, 30), end=warsaw(2025, 3, 31, 9, 15)) == (
        timedelta(minutes=45)
    )


def test_aware_non_utc_input_is_accepted_and_results_are_utc() -> None:
    local_start = datetime(2025, 3, 26, 10, 0, tzinfo=WARSAW)
    result = SPRING.add(start=local_start, duration=timedelta(minutes=1))
    assert result.tzinfo is UTC
    assert result == utc(2025, 3, 26, 9, 1)
    assert SPRING.next_open(local_start).tzinfo is UTC


@pytest.mark.parametrize(
    "call",
    [
        lambda calendar: calendar.is_open(datetime(2025, 1, 1, 10)),
        lambda calendar: calendar.next_open(datetime(2025, 1, 1, 10)),
        lambda calendar: calendar.add(start=datetime(2025, 1, 1), duration=timedelta(1)),
        lambda calendar: calendar.elapsed(start=utc(2025, 1, 1), end=datetime(2025, 1, 2)),
    ],
)
@pytest.mark.parametrize("calendar", [BusinessCalendar(), SPRING])
def test_naive_datetimes_are_refused(
    call: Callable[[BusinessCalendar], object], calendar: BusinessCalendar
) -> None:
    with pytest.raises(ValueError, match="aware"):
        call(calendar)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        SPRING.add(start=utc(2025, 1, 1), duration=timedelta(seconds=-1))


def test_a_full_local_day_lasts_23_or_25_hours_on_dst_changes() -> None:
    sundays = BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=(WorkingInterval(weekday=6, start_minute=0, end_minute=24 * 60),),
    )
    sundays.validate()
    assert sundays.elapsed(start=utc(2025, 3, 29), end=utc(2025, 3, 31)) == timedelta(hours=23)
    assert sundays.elapsed(start=utc(2025, 10, 25), end=utc(2025, 10, 28)) == timedelta(hours=25)
    assert sundays.elapsed(start=utc(2025, 4, 5), end=utc(2025, 4, 7)) == timedelta(hours=24)


def test_intervals_touching_the_spring_gap() -> None:
    # 02:00-03:00 does not exist on 2025-03-30 in Warsaw; fold=0 reads 02:30 as 03:30 CEST.
    calendar = BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=(
            WorkingInterval(weekday=6, start_minute=2 * 60, end_minute=4 * 60),
            WorkingInterval(weekday=6, start_minute=20 * 60, end_minute=21 * 60),
        ),
    )
    spring_sunday = (utc(2025, 3, 29, 23), utc(2025, 3, 30, 23))
    start, end = spring_sunday
    # 02:00 CET (01:00 UTC) to 04:00 CEST (02:00 UTC), plus 20:00-21:00.
    assert calendar.elapsed(start=start, end=end) == timedelta(hours=2)
    assert calendar.next_open(start) == utc(2025, 3, 30, 1, 0)
    inside_the_gap = BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=(
            WorkingInterval(weekday=6, start_minute=2 * 60 + 30, end_minute=3 * 60),
            WorkingInterval(weekday=6, start_minute=20 * 60, end_minute=21 * 60),
        ),
    )
    # 02:30 reads as 03:30 CEST, after 03:00: nothing is left of the interval that night.
    assert inside_the_gap.elapsed(start=start, end=end) == timedelta(hours=1)
    assert inside_the_gap.next_open(start) == utc(2025, 3, 30, 18, 0)


def test_intervals_read_across_the_spring_gap_are_not_counted_twice() -> None:
    # 01:00-02:30 ends at 02:30 read as 03:30 CEST (01:30 UTC), inside 03:00-05:00 CEST.
    calendar = BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=(
            WorkingInterval(weekday=6, start_minute=1 * 60, end_minute=2 * 60 + 30),
            WorkingInterval(weekday=6, start_minute=3 * 60, end_minute=5 * 60),
        ),
    )
    calendar.validate()
    night = (utc(2025, 3, 29, 23), utc(2025, 3, 30, 23))
    # One stretch from 01:00 CET (00:00 UTC) to 05:00 CEST (03:00 UTC).
    assert calendar.elapsed(start=night[0], end=night[1]) == timedelta(hours=3)
    assert calendar.add(start=night[0], duration=timedelta(hours=3)) == utc(2025, 3, 30, 3)
    assert calendar.add(start=night[0], duration=timedelta(hours=3, seconds=1)) == utc(
        2025, 4, 5, 23, 0, 1
    )


def test_an_interval_in_the_repeated_autumn_hour_uses_its_first_occurrence() -> None:
    calendar = BusinessCalendar(
        time_zone="Europe/Warsaw",
        intervals=(WorkingInterval(weekday=6, start_minute=2 * 60, end_minute=2 * 60 + 30),),
    )
    # 02:00 CEST is 00:00 UTC; the second 02:00 (CET, 01:00 UTC) is closed.
    assert calendar.next_open(utc(2025, 10, 25, 12)) == utc(2025, 10, 26, 0, 0)
    assert calendar.is_open(utc(2025, 10, 26, 0, 15))
    assert not calendar.is_open(utc(2025, 10, 26, 1, 15))
    assert calendar.elapsed(start=utc(2025, 10, 25), end=utc(2025, 10, 27)) == timedelta(minutes=30)


def test_holidays_alone_make_an_around_the_clock_calendar_with_days_off() -> None:
    calendar = BusinessCalendar(time_zone="Europe/Warsaw", holidays=frozenset({date(2025, 12, 25)}))
    calendar.validate()
    assert not calendar.is_around_the_clock
    christmas_eve_evening = warsaw(2025, 12, 24, 23, 0)
    assert calendar.add(start=christmas_eve_evening, duration=timedelta(hours=2)) == warsaw(
        2025, 12, 26, 1, 0
    )
    assert calendar.next_open(warsaw(2025, 12, 25, 8, 0)) == warsaw(2025, 12, 26, 0, 0)


def test_several_intervals_a_day() -> None:
    split_shift = BusinessCalendar(
        intervals=tuple(
            interval
            for weekday in range(7)
            for interval in (
                WorkingInterval(weekday=weekday, start_minute=8 * 60, end_minute=12 * 60),
                WorkingInterval(weekday=weekday, start_minute=13 * 60, end_minute=20 * 60),
            )
        )
    )
    split_shift.validate()
    start = utc(2025, 5, 5, 11, 30)
    assert split_shift.add(start=start, duration=timedelta(hours=1)) == utc(2025, 5, 5, 13, 30)
    assert split_shift.add(start=start, duration=timedelta(hours=8)) == utc(2025, 5, 6, 8, 30)
    assert split_shift.next_open(utc(2025, 5, 5, 12, 0)) == utc(2025, 5, 5, 13, 0)


def test_a_long_target_walks_days_not_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    days_read: list[date] = []
    original = BusinessCalendar._day_periods

    def counting(
        self: BusinessCalendar, day: date, zone: ZoneInfo
    ) -> list[tuple[datetime, datetime]]:
        days_read.append(day)
        return original(self, day, zone)

    monkeypatch.setattr(BusinessCalendar, "_day_periods", counting)
    due = AUTUMN.add(start=warsaw(2025, 10, 22, 10, 0), duration=timedelta(hours=24))
    assert due == warsaw(2025, 10, 27, 10, 0)
    # Wednesday to Monday plus the day before the start, not one step per minute.
    assert len(days_read) <= 8


# --- validation -----------------------------------------------------------------------------


def interval(weekday: int = 0, start: int = 540, end: int = 1020) -> WorkingInterval:
    return WorkingInterval(weekday=weekday, start_minute=start, end_minute=end)


@pytest.mark.parametrize(
    ("calendar", "field", "message"),
    [
        (BusinessCalendar(time_zone="Mars/Olympus"), "time_zone", "unknown time zone"),
        (BusinessCalendar(time_zone="Europe"), "time_zone", "unknown time zone"),
        (BusinessCalendar(time_zone=""), "time_zone", "unknown time zone"),
        (BusinessCalendar(intervals=(interval(weekday=7),)), "intervals", "weekdays"),
        (BusinessCalendar(intervals=(interval(weekday=-1),)), "intervals", "weekdays"),
        (BusinessCalendar(intervals=(interval(start=-1),)), "intervals", "starts"),
        (BusinessCalendar(intervals=(interval(start=1440, end=1440),)), "intervals", "starts"),
        (BusinessCalendar(intervals=(interval(end=1441),)), "intervals", "ends"),
        (BusinessCalendar(intervals=(interval(start=600, end=600),)), "intervals", "after"),
        (BusinessCalendar(intervals=(interval(start=600, end=540),)), "intervals", "after"),
        (
            BusinessCalendar(intervals=(interval(start=540, end=720), interval(start=700))),
            "intervals",
            "overlap",
        ),
        (
            BusinessCalendar(
                holidays=frozenset(date(2025, 1, 1) + timedelta(days=n) for n in range(367))
            ),
            "holidays",
            "no working time",
        ),
        (
            BusinessCalendar(
                holidays=frozenset(date(2020, 1, 1) + timedelta(days=2 * n) for n in range(1831))
            ),
            "holidays",
            "at most",
        ),
    ],
)
def test_bad_calendars_are_refused_with_their_field(
    calendar: BusinessCalendar, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message) as caught:
        calendar.validate()
    assert caught.value.field == field


def test_closed_runs_count_weekends_next_to_holidays() -> None:
    mondays = BusinessCalendar(intervals=(interval(weekday=0),))
    # 53 Mondays off after 2025-01-06: closed from Tuesday 2025-01-07 to Sunday 2026-01-18,
    # 377 days in a row.
    holidays = frozenset(date(2025, 1, 13) + timedelta(weeks=n) for n in range(53))
    with pytest.raises(ValidationFailed, match="no working time") as caught:
        BusinessCalendar(intervals=mondays.intervals, holidays=holidays).validate()
    assert caught.value.field == "holidays"
    # With one Monday left working in the middle, no closed run is longer than a year.
    BusinessCalendar(intervals=mondays.intervals, holidays=holidays - {date(2025, 7, 7)}).validate()


def test_valid_calendars_pass() -> None:
    SPRING.validate()
    BusinessCalendar(intervals=(interval(start=540, end=720), interval(start=720))).validate()
    BusinessCalendar(intervals=(interval(start=0, end=1440),)).validate()
    BusinessCalendar(
        holidays=frozenset(date(2025, 1, 1) + timedelta(days=n) for n in range(366))
    ).validate()


def test_an_unvalidated_calendar_without_working_time_fails_instead_of_looping() -> None:
    closed = BusinessCalendar(
        holidays=frozenset(date(2025, 1, 1) + timedelta(days=n) for n in range(500))
    )
    with pytest.raises(ValueError, match="no working time within"):
        closed.add(start=utc(2025, 1, 2), duration=timedelta(hours=1))


# --- properties -----------------------------------------------------------------------------

ZONES = (
    "UTC",
    "Europe/Warsaw",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST shift
    "America/Santiago",  # DST changes at midnight
    "Asia/Kathmandu",
)
FIXED_OFFSET_ZONES = ("UTC", "Asia/Kathmandu", "America/Sao_Paulo")
# 2025 holds both DST changes of every zone above.
EARLIEST = datetime(2025, 1, 1)
LATEST = datetime(2025, 12, 31)
MIN_WEEKLY_MINUTES = 120  # keeps sparse calendars from walking for years


@st.composite
def day_intervals(draw: st.DrawFn, weekday: int) -> list[WorkingInterval]:
    cuts = sorted(draw(st.lists(st.integers(0, 1440), max_size=6, unique=True)))
    return [
        WorkingInterval(weekday=weekday, start_minute=start, end_minute=end)
        for start, end in zip(cuts[::2], cuts[1::2], strict=False)
    ]


@st.composite
def calendars(
    draw: st.DrawFn,
    zones: tuple[str, ...] = ZONES,
    holidays_from: date = date(2025, 1, 1),
    holidays_to: date = date(2026, 2, 28),
) -> BusinessCalendar:
    zone = draw(st.sampled_from(zones))
    intervals: tuple[WorkingInterval, ...] = ()
    if draw(st.booleans()):
        intervals = tuple(entry for weekday in range(7) for entry in draw(day_intervals(weekday)))
        weekly_minutes = sum(entry.end_minute - entry.start_minute for entry in intervals)
        assume(weekly_minutes >= MIN_WEEKLY_MINUTES)
    holidays = draw(
        st.frozensets(st.dates(min_value=holidays_from, max_value=holidays_to), max_size=40)
    )
    calendar = BusinessCalendar(time_zone=zone, intervals=intervals, holidays=holidays)
    calendar.validate()
    return calendar


instants = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC))
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
    st.integers(0, 600).map(lambda minutes: timedelta(minutes=minutes)),
)
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(calendar=calendars(), start=instants, duration=durations)
def test_elapsed_until_add_is_the_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.add(start=start, duration=duration)
    assert due >= start
    assert calendar.elapsed(start=start, end=due) == duration


@PROPERTY_SETTINGS
@given(calendar=calendars(), start=instants, duration=durations)
def test_a_due_time_is_never_inside_closed_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.add(start=start, duration=duration)
    if duration == timedelta(0):
        assert calendar.is_open(due)
        assert calendar.elapsed(start=start, end=due) == timedelta(0)
    else:
        # Open, or exactly where working time ends; and nothing earlier would do.
        assert calendar.is_open(due) or calendar.is_open(due - ONE_MICROSECOND)
        assert calendar.elapsed(start=start, end=due - ONE_MICROSECOND) < duration


@PROPERTY_SETTINGS
@given(calendar=calendars(), start=instants, first=durations, second=durations)
def test_add_is_monotonic_and_composes(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert calendar.add(start=start, duration=shorter) <= calendar.add(start=start, duration=longer)
    assume(second > timedelta(0))
    halfway = calendar.add(start=start, duration=first)
    assert calendar.add(start=halfway, duration=second) == calendar.add(
        start=start, duration=first + second
    )


@PROPERTY_SETTINGS
@given(calendar=calendars(), start=instants, other=instants)
def test_add_is_monotonic_in_its_start(
    calendar: BusinessCalendar, start: datetime, other: datetime
) -> None:
    earlier, later = sorted((start, other))
    for duration in (timedelta(0), timedelta(minutes=1), timedelta(hours=30)):
        assert calendar.add(start=earlier, duration=duration) <= calendar.add(
            start=later, duration=duration
        )


@PROPERTY_SETTINGS
@given(calendar=calendars(), first=instants, second=instants, third=instants)
def test_elapsed_adds_up_and_next_open_skips_only_closed_time(
    calendar: BusinessCalendar, first: datetime, second: datetime, third: datetime
) -> None:
    a, b, c = sorted((first, second, third))
    assert calendar.elapsed(start=a, end=c) == (
        calendar.elapsed(start=a, end=b) + calendar.elapsed(start=b, end=c)
    )
    opening = calendar.next_open(a)
    assert calendar.is_open(opening)
    assert calendar.elapsed(start=a, end=opening) == timedelta(0)
    assert calendar.is_open(a) is (opening == a)


@settings(max_examples=60, deadline=None)
@given(
    calendar=calendars(
        zones=FIXED_OFFSET_ZONES, holidays_from=date(2025, 12, 15), holidays_to=date(2026, 1, 5)
    ),
    start_minute=st.integers(0, 6 * 24 * 60),
    length_minutes=st.integers(0, 4 * 24 * 60),
)
def test_elapsed_matches_counting_minute_by_minute(
    calendar: BusinessCalendar, start_minute: int, length_minutes: int
) -> None:
    """Without DST every local minute exists once, so a plain minute count is the truth."""
    zone = ZoneInfo(calendar.time_zone)
    start = datetime(2025, 12, 20, tzinfo=UTC) + timedelta(minutes=start_minute)
    open_minutes = 0
    for offset in range(length_minutes):
        local = (start + timedelta(minutes=offset)).astimezone(zone)
        minute_of_day = local.hour * 60 + local.minute
        in_working_time = not calendar.intervals or any(
            entry.weekday == local.weekday()
            and entry.start_minute <= minute_of_day < entry.end_minute
            for entry in calendar.intervals
        )
        if in_working_time and local.date() not in calendar.holidays:
            open_minutes += 1
    end = start + timedelta(minutes=length_minutes)
    assert calendar.elapsed(start=start, end=end) == timedelta(minutes=open_minutes)
