"""Shifts: who is on shift at a moment, and the coverage gaps of a coming week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.shifts import (
    Rota,
    ScheduledShift,
    ShiftPattern,
    StaffMember,
    coverage_gaps,
    on_shift,
)

EVERY_DAY = frozenset(range(7))
MORNING = ShiftPattern(start_minute=6 * 60, end_minute=14 * 60, weekdays=EVERY_DAY)
NIGHT = ShiftPattern(start_minute=22 * 60, end_minute=6 * 60, weekdays=frozenset({0}))  # Mon
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def test_a_night_shift_runs_past_midnight_into_the_next_day() -> None:
    entry = ScheduledShift(agent_id=1, pattern=NIGHT, starts_on=date(2026, 11, 1))
    assert NIGHT.length_minutes == 8 * 60
    assert entry.covers(MONDAY + timedelta(hours=23))
    assert entry.covers(MONDAY + timedelta(days=1, hours=5, minutes=59))
    assert not entry.covers(MONDAY + timedelta(days=1, hours=6))  # the end is exclusive
    assert not entry.covers(MONDAY + timedelta(hours=21, minutes=59))
    assert not entry.covers(MONDAY + timedelta(days=1, hours=23))  # Tuesday: not its day


def test_schedule_dates_bound_the_shifts_that_count() -> None:
    entry = ScheduledShift(
        agent_id=1, pattern=MORNING, starts_on=date(2026, 11, 3), ends_on=date(2026, 11, 4)
    )
    assert not entry.covers(MONDAY + timedelta(hours=8))
    assert entry.covers(MONDAY + timedelta(days=1, hours=8))
    assert entry.covers(MONDAY + timedelta(days=2, hours=8))
    assert not entry.covers(MONDAY + timedelta(days=3, hours=8))


def test_shifts_follow_their_time_zone_across_a_dst_change() -> None:
    warsaw = ShiftPattern(
        start_minute=9 * 60, end_minute=17 * 60, weekdays=EVERY_DAY, time_zone="Europe/Warsaw"
    )
    entry = ScheduledShift(agent_id=1, pattern=warsaw, starts_on=date(2026, 1, 1))
    summer = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # 09:30 CEST
    winter = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 08:30 CET
    assert entry.covers(summer)
    assert not entry.covers(winter)


def test_agents_without_a_schedule_are_not_restricted() -> None:
    schedules = [ScheduledShift(agent_id=1, pattern=MORNING, starts_on=date(2026, 1, 1))]
    evening = MONDAY + timedelta(hours=20)
    assert not on_shift(schedules=schedules, agent_id=1, at=evening)
    assert on_shift(schedules=schedules, agent_id=2, at=evening)


def test_a_rota_answers_for_each_agent_by_their_own_shifts_only() -> None:
    since = date(2026, 1, 1)
    rota = Rota(
        [
            ScheduledShift(agent_id=1, pattern=MORNING, starts_on=since),
            ScheduledShift(agent_id=2, pattern=NIGHT, starts_on=since),
            ScheduledShift(agent_id=2, pattern=MORNING, starts_on=since, ends_on=since),
        ]
    )
    late_monday = MONDAY + timedelta(hours=23)
    morning = MONDAY + timedelta(hours=8)
    assert [rota.on_shift(agent_id=agent, at=late_monday) for agent in (1, 2, 3)] == [
        False,
        True,  # the night shift; agent 1's morning shift is not theirs
        True,  # no schedule: not restricted
    ]
    # Agent 2's morning shift ended long ago: only agent 1 works mornings now.
    assert [rota.on_shift(agent_id=agent, at=morning) for agent in (1, 2)] == [True, False]


@pytest.mark.parametrize(
    ("pattern", "field"),
    [
        (ShiftPattern(start_minute=60, end_minute=60, weekdays=EVERY_DAY), "end"),
        (ShiftPattern(start_minute=1440, end_minute=60, weekdays=EVERY_DAY), "start"),
        (ShiftPattern(start_minute=0, end_minute=60, weekdays=frozenset()), "weekdays"),
        (ShiftPattern(start_minute=0, end_minute=60, weekdays=frozenset({7})), "weekdays"),
        (
            ShiftPattern(start_minute=0, end_minute=60, weekdays=EVERY_DAY, time_zone="Mars/Base"),
            "time_zone",
        ),
    ],
)
def test_impossible_shifts_are_refused_with_their_field(pattern: ShiftPattern, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        pattern.validate()
    assert refused.value.field == field


def test_coverage_lists_hours_without_a_language_or_team() -> None:
    schedules = [
        ScheduledShift(agent_id=1, pattern=MORNING, starts_on=date(2026, 1, 1)),
        ScheduledShift(agent_id=2, pattern=NIGHT, starts_on=date(2026, 1, 1)),
    ]
    staff = [
        StaffMember(agent_id=1, languages=frozenset({"en", "pl"}), team_ids=frozenset({10})),
        StaffMember(agent_id=2, languages=frozenset({"en"}), team_ids=frozenset({10})),
    ]
    gaps = coverage_gaps(
        schedules=schedules,
        staff=staff,
        languages=["en", "pl", "sv"],
        team_ids=[10],
        start=MONDAY,
        hours=24,
    )
    by_group: dict[str, list[int]] = {}
    for gap in gaps:
        by_group.setdefault(gap.group, []).append(
            int((gap.starts_at - MONDAY).total_seconds() // 3600)
        )
    assert by_group["language:sv"] == list(range(24))  # nobody speaks Swedish
    # English: the morning shift (06-14) and Monday's night shift from 22:00.
    assert by_group["language:en"] == [0, 1, 2, 3, 4, 5, 14, 15, 16, 17, 18, 19, 20, 21]
    assert by_group["language:pl"] == [0, 1, 2, 3, 4, 5, *range(14, 24)]
    assert by_group["team:10"] == by_group["language:en"]
