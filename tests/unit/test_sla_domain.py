from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playerdesk.domain.calendar import BusinessCalendar
from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.sla import (
    SlaClock,
    SlaClockEvent,
    SlaClockState,
    SlaConditions,
    SlaMetric,
    SlaPolicyRule,
    SlaTargets,
    SlaTicketFacts,
    SlaTransition,
    cancel_clock,
    check_clock,
    default_policy_rules,
    match_policy,
    next_check_at,
    pause_clock,
    remaining,
    resume_clock,
    start_clock,
    stop_clock,
    validate_policy_rules,
)
from tests.unit.test_calendar import calendars, office_hours, utc, warsaw

ALWAYS = BusinessCalendar.around_the_clock()
OFFICE = office_hours()  # 09:00-17:00 Monday to Friday, Europe/Warsaw
MINUTE = timedelta(minutes=1)
ONE_MICROSECOND = timedelta(microseconds=1)


def facts(
    *,
    channel: Channel = Channel.WEB_CHAT,
    priority: Priority = Priority.NORMAL,
    vip_tier: str | None = None,
    team_id: int | None = None,
) -> SlaTicketFacts:
    return SlaTicketFacts(channel=channel, priority=priority, vip_tier=vip_tier, team_id=team_id)


def rule(name: str, conditions: SlaConditions = SlaConditions()) -> SlaPolicyRule:
    return SlaPolicyRule(
        name=name, conditions=conditions, targets=SlaTargets(first_response=MINUTE)
    )


# --- matching -------------------------------------------------------------------------------


def test_the_first_matching_rule_wins() -> None:
    urgent = rule("urgent", SlaConditions(priorities=frozenset({Priority.URGENT})))
    everything = rule("everything")
    also_urgent = rule("also urgent", SlaConditions(priorities=frozenset({Priority.URGENT})))
    rules = [urgent, everything, also_urgent]
    assert match_policy(rules=rules, facts=facts(priority=Priority.URGENT)) is urgent
    assert match_policy(rules=rules, facts=facts(priority=Priority.LOW)) is everything
    assert match_policy(rules=[everything, urgent], facts=facts(priority=Priority.URGENT)) is (
        everything
    )


def test_no_rule_matches() -> None:
    email_only = rule("email", SlaConditions(channels=frozenset({Channel.EMAIL})))
    assert match_policy(rules=[email_only], facts=facts(channel=Channel.WEB_CHAT)) is None
    assert match_policy(rules=[], facts=facts()) is None


@pytest.mark.parametrize(
    ("conditions", "ticket", "matches"),
    [
        (SlaConditions(), facts(), True),
        (SlaConditions(channels=frozenset({Channel.EMAIL})), facts(channel=Channel.EMAIL), True),
        (SlaConditions(channels=frozenset({Channel.EMAIL})), facts(channel=Channel.FORM), False),
        (SlaConditions(priorities=frozenset({Priority.HIGH})), facts(priority=Priority.HIGH), True),
        (SlaConditions(priorities=frozenset({Priority.HIGH})), facts(priority=Priority.LOW), False),
        (SlaConditions(team_ids=frozenset({3, 4})), facts(team_id=4), True),
        (SlaConditions(team_ids=frozenset({3, 4})), facts(team_id=5), False),
        (SlaConditions(team_ids=frozenset({3, 4})), facts(team_id=None), False),
        (SlaConditions(vip=VipMatch.ANY), facts(vip_tier=None), True),
        (SlaConditions(vip=VipMatch.ANY), facts(vip_tier="gold"), True),
        (SlaConditions(vip=VipMatch.VIP), facts(vip_tier="bronze"), True),
        (SlaConditions(vip=VipMatch.VIP), facts(vip_tier=None), False),
        (SlaConditions(vip=VipMatch.VIP), facts(vip_tier=""), False),
        (SlaConditions(vip=VipMatch.NOT_VIP), facts(vip_tier=None), True),
        (SlaConditions(vip=VipMatch.NOT_VIP), facts(vip_tier="gold"), False),
        (SlaConditions(vip_tiers=frozenset({"gold", "platinum"})), facts(vip_tier="gold"), True),
        (SlaConditions(vip_tiers=frozenset({"gold", "platinum"})), facts(vip_tier="silver"), False),
        (SlaConditions(vip_tiers=frozenset({"gold"})), facts(vip_tier=None), False),
        (
            SlaConditions(
                channels=frozenset({Channel.TELEGRAM}),
                priorities=frozenset({Priority.URGENT}),
                vip=VipMatch.VIP,
                team_ids=frozenset({1}),
            ),
            facts(channel=Channel.TELEGRAM, priority=Priority.URGENT, vip_tier="x", team_id=1),
            True,
        ),
        (
            SlaConditions(channels=frozenset({Channel.TELEGRAM}), team_ids=frozenset({1})),
            facts(channel=Channel.TELEGRAM, team_id=2),
            False,
        ),
    ],
)
def test_each_condition(conditions: SlaConditions, ticket: SlaTicketFacts, matches: bool) -> None:
    assert conditions.matches(ticket) is matches
    assert match_policy(rules=[rule("r", conditions)], facts=ticket) == (
        rule("r", conditions) if matches else None
    )


# --- defaults -------------------------------------------------------------------------------


def targets_for(ticket: SlaTicketFacts) -> SlaTargets:
    matched = match_policy(rules=default_policy_rules(), facts=ticket)
    assert matched is not None
    return matched.targets


def test_default_chat_targets() -> None:
    assert targets_for(facts(channel=Channel.WEB_CHAT)) == SlaTargets(
        first_response=timedelta(minutes=5),
        next_response=timedelta(minutes=5),
        resolution=timedelta(minutes=15),
    )
    assert targets_for(facts(channel=Channel.WEB_CHAT, vip_tier="gold")) == SlaTargets(
        first_response=timedelta(minutes=1),
        next_response=timedelta(minutes=5),
        resolution=timedelta(minutes=15),
    )


def test_default_email_targets() -> None:
    assert targets_for(facts(channel=Channel.EMAIL)) == SlaTargets(
        first_response=timedelta(hours=2),
        next_response=timedelta(hours=2),
        resolution=timedelta(hours=24),
    )
    assert targets_for(facts(channel=Channel.EMAIL, vip_tier="bronze")).first_response == (
        timedelta(minutes=30)
    )


@pytest.mark.parametrize(
    "channel", [Channel.TELEGRAM, Channel.WHATSAPP, Channel.VIBER, Channel.PHONE]
)
def test_messengers_and_phone_are_answered_like_chat(channel: Channel) -> None:
    assert targets_for(facts(channel=channel)) == targets_for(facts(channel=Channel.WEB_CHAT))
    assert targets_for(facts(channel=channel, vip_tier="vip")) == targets_for(
        facts(channel=Channel.WEB_CHAT, vip_tier="vip")
    )


@pytest.mark.parametrize("channel", [Channel.FORM, Channel.API])
def test_forms_and_api_are_answered_like_email(channel: Channel) -> None:
    assert targets_for(facts(channel=channel)) == targets_for(facts(channel=Channel.EMAIL))


def test_defaults_cover_every_channel_and_pass_validation() -> None:
    rules = default_policy_rules()
    validate_policy_rules(rules=rules)
    for channel in Channel:
        for tier in (None, "gold"):
            for priority in Priority:
                assert match_policy(
                    rules=rules, facts=facts(channel=channel, vip_tier=tier, priority=priority)
                )
    assert all(rule.warning_ratio == 0.8 for rule in rules)
    assert default_policy_rules() is not rules  # a fresh list each call, safe to edit


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        (SlaTargets(first_response=timedelta(0)), "first_response_minutes"),
        (SlaTargets(first_response=MINUTE, next_response=-MINUTE), "next_response_minutes"),
        (SlaTargets(resolution=timedelta(days=90, seconds=1)), "resolution_minutes"),
        (SlaTargets(), "targets"),
    ],
)
def test_bad_targets_are_refused(targets: SlaTargets, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        targets.validate()
    assert caught.value.field == field


def test_a_ninety_day_target_is_allowed() -> None:
    SlaTargets(resolution=timedelta(days=90)).validate()


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_the_warning_comes_strictly_inside_the_target(ratio: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        replace(rule("r"), warning_ratio=ratio).validate()
    assert caught.value.field == "warning_ratio"


@pytest.mark.parametrize(
    ("bad_rule", "field"),
    [
        (rule("  "), "name"),
        (rule("x" * 101), "name"),
        (
            rule("r", SlaConditions(vip=VipMatch.NOT_VIP, vip_tiers=frozenset({"gold"}))),
            "vip_tiers",
        ),
        (rule("r", SlaConditions(vip_tiers=frozenset({" "}))), "vip_tiers"),
        (
            replace(rule("r"), targets=SlaTargets(next_response=timedelta(0))),
            "next_response_minutes",
        ),
    ],
)
def test_bad_rules_are_refused(bad_rule: SlaPolicyRule, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        bad_rule.validate()
    assert caught.value.field == field
    with pytest.raises(ValidationFailed):
        validate_policy_rules(rules=[bad_rule])


def test_rules_that_can_never_apply_are_refused() -> None:
    chat = SlaConditions(channels=frozenset({Channel.WEB_CHAT}))
    vip_chat = replace(chat, vip=VipMatch.VIP)
    with pytest.raises(ValidationFailed, match="'VIP chat' never applies") as caught:
        validate_policy_rules(rules=[rule("chat", chat), rule("VIP chat", vip_chat)])
    assert caught.value.field == "rules"
    validate_policy_rules(rules=[rule("VIP chat", vip_chat), rule("chat", chat)])


@pytest.mark.parametrize(
    ("earlier", "later", "shadowed"),
    [
        (SlaConditions(), SlaConditions(team_ids=frozenset({1})), True),
        (SlaConditions(team_ids=frozenset({1})), SlaConditions(), False),
        (
            SlaConditions(channels=frozenset({Channel.EMAIL, Channel.FORM})),
            SlaConditions(channels=frozenset({Channel.EMAIL})),
            True,
        ),
        (
            SlaConditions(channels=frozenset({Channel.EMAIL})),
            SlaConditions(channels=frozenset({Channel.EMAIL, Channel.FORM})),
            False,
        ),
        (SlaConditions(vip=VipMatch.VIP), SlaConditions(vip_tiers=frozenset({"gold"})), True),
        (SlaConditions(vip_tiers=frozenset({"gold"})), SlaConditions(vip=VipMatch.VIP), False),
        (
            SlaConditions(vip_tiers=frozenset({"gold", "platinum"})),
            SlaConditions(vip_tiers=frozenset({"gold"}), vip=VipMatch.VIP),
            True,
        ),
        (SlaConditions(vip=VipMatch.NOT_VIP), SlaConditions(vip=VipMatch.VIP), False),
        (SlaConditions(vip=VipMatch.VIP), SlaConditions(vip=VipMatch.NOT_VIP), False),
        (SlaConditions(vip=VipMatch.VIP), SlaConditions(), False),
        (SlaConditions(vip=VipMatch.NOT_VIP), SlaConditions(vip=VipMatch.NOT_VIP), True),
    ],
)
def test_shadowing_follows_what_each_rule_matches(
    earlier: SlaConditions, later: SlaConditions, shadowed: bool
) -> None:
    assert earlier.covers(later) is shadowed


def test_rule_names_are_unique() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_policy_rules(
            rules=[
                rule("Chat", SlaConditions(channels=frozenset({Channel.WEB_CHAT}))),
                rule("chat ", SlaConditions(channels=frozenset({Channel.EMAIL}))),
            ]
        )
    assert caught.value.field == "name"


# --- clocks ---------------------------------------------------------------------------------


def first_response(
    *, now: datetime, target: timedelta = timedelta(minutes=5), calendar: BusinessCalendar = ALWAYS
) -> SlaClock:
    return start_clock(
        metric=SlaMetric.FIRST_RESPONSE,
        target=target,
        warning_ratio=0.8,
        now=now,
        calendar=calendar,
    )


def test_a_started_clock_on_an_around_the_clock_calendar() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    assert clock.state is SlaClockState.RUNNING
    assert clock.started_at == clock.running_since == utc(2025, 5, 5, 10, 0)
    assert clock.warn_at == utc(2025, 5, 5, 10, 4)
    assert clock.due_at == utc(2025, 5, 5, 10, 5)
    assert clock.consumed == timedelta(0)
    assert next_check_at(clock) == utc(2025, 5, 5, 10, 4)


def test_a_clock_started_before_the_weekend_is_due_on_monday() -> None:
    friday_evening = warsaw(2025, 3, 21, 16, 58)
    clock = first_response(now=friday_evening, calendar=OFFICE)
    assert clock.warn_at == warsaw(2025, 3, 24, 9, 2)
    assert clock.due_at == warsaw(2025, 3, 24, 9, 3)
    assert remaining(clock, now=warsaw(2025, 3, 22, 12, 0), calendar=OFFICE) == timedelta(minutes=3)


def test_warning_then_breach_each_reported_once_at_their_exact_instants() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    clock, events = check_clock(clock, now=utc(2025, 5, 5, 10, 3, 59))
    assert events == []

    clock, events = check_clock(clock, now=utc(2025, 5, 5, 10, 4))
    assert events == [
        SlaClockEvent(
            metric=SlaMetric.FIRST_RESPONSE,
            transition=SlaTransition.WARNING,
            occurred_at=utc(2025, 5, 5, 10, 4),
            detected_at=utc(2025, 5, 5, 10, 4),
        )
    ]
    assert clock.warned_at == utc(2025, 5, 5, 10, 4)
    assert next_check_at(clock) == utc(2025, 5, 5, 10, 5)

    clock, events = check_clock(clock, now=utc(2025, 5, 5, 10, 4, 30))
    assert events == []

    # The deadline itself is already late.
    _, at_the_deadline = check_clock(clock, now=utc(2025, 5, 5, 10, 5))
    assert [event.transition for event in at_the_deadline] == [SlaTransition.BREACH]

    clock, events = check_clock(clock, now=utc(2025, 5, 5, 10, 5, 10))
    assert events == [
        SlaClockEvent(
            metric=SlaMetric.FIRST_RESPONSE,
            transition=SlaTransition.BREACH,
            occurred_at=utc(2025, 5, 5, 10, 5),
            detected_at=utc(2025, 5, 5, 10, 5, 10),
        )
    ]
    assert clock.state is SlaClockState.BREACHED
    assert clock.breached_at == utc(2025, 5, 5, 10, 5)
    assert next_check_at(clock) is None
    assert check_clock(clock, now=utc(2025, 5, 5, 12, 0)) == (clock, [])


def test_a_late_check_reports_both_in_order() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    checked, events = check_clock(clock, now=utc(2025, 5, 5, 11, 0))
    assert [(event.transition, event.occurred_at, event.detected_at) for event in events] == [
        (SlaTransition.WARNING, utc(2025, 5, 5, 10, 4), utc(2025, 5, 5, 11, 0)),
        (SlaTransition.BREACH, utc(2025, 5, 5, 10, 5), utc(2025, 5, 5, 11, 0)),
    ]
    assert checked.warned_at == utc(2025, 5, 5, 10, 4)
    assert checked.breached_at == utc(2025, 5, 5, 10, 5)


def test_pause_and_resume_keep_the_business_time_left() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0), target=timedelta(hours=1))
    paused = pause_clock(clock, now=utc(2025, 5, 5, 10, 20), calendar=ALWAYS)
    assert paused.state is SlaClockState.PAUSED
    assert paused.consumed == timedelta(minutes=20)
    assert (paused.due_at, paused.warn_at, paused.running_since) == (None, None, None)
    assert next_check_at(paused) is None
    assert check_clock(paused, now=utc(2025, 5, 5, 23, 0)) == (paused, [])
    assert remaining(paused, now=utc(2025, 5, 5, 23, 0), calendar=ALWAYS) == timedelta(minutes=40)
    # Pausing again or resuming a running clock changes nothing.
    assert pause_clock(paused, now=utc(2025, 5, 5, 10, 30), calendar=ALWAYS) == paused
    assert resume_clock(clock, now=utc(2025, 5, 5, 10, 30), calendar=ALWAYS) == clock

    resumed = resume_clock(paused, now=utc(2025, 5, 5, 11, 0), calendar=ALWAYS)
    assert resumed.state is SlaClockState.RUNNING
    assert resumed.running_since == utc(2025, 5, 5, 11, 0)
    assert resumed.warn_at == utc(2025, 5, 5, 11, 28)  # 48 min in all, 20 already used
    assert resumed.due_at == utc(2025, 5, 5, 11, 40)
    assert resumed.started_at == utc(2025, 5, 5, 10, 0)


def test_pause_and_resume_on_office_hours() -> None:
    thursday = warsaw(2025, 3, 27, 16, 0)
    clock = first_response(now=thursday, target=timedelta(hours=2), calendar=OFFICE)
    assert clock.due_at == warsaw(2025, 3, 28, 10, 0)
    paused = pause_clock(clock, now=warsaw(2025, 3, 27, 16, 30), calendar=OFFICE)
    resumed = resume_clock(paused, now=warsaw(2025, 3, 31, 12, 0), calendar=OFFICE)
    # 90 minutes left from Monday noon (CEST since Sunday).
    assert resumed.due_at == warsaw(2025, 3, 31, 13, 30)
    assert resumed.warn_at == warsaw(2025, 3, 31, 13, 6)
    # Resumed in the evening, the clock waits for the next opening.
    evening = resume_clock(paused, now=warsaw(2025, 3, 27, 20, 0), calendar=OFFICE)
    assert evening.due_at == warsaw(2025, 3, 28, 10, 30)


def test_a_warning_that_passed_before_the_pause_is_still_reported() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    paused = pause_clock(clock, now=utc(2025, 5, 5, 10, 4, 30), calendar=ALWAYS)
    assert paused.state is SlaClockState.PAUSED
    assert paused.warn_at == utc(2025, 5, 5, 10, 4)
    assert paused.due_at is None
    assert next_check_at(paused) == utc(2025, 5, 5, 10, 4)
    checked, events = check_clock(paused, now=utc(2025, 5, 5, 10, 6))
    assert [(event.transition, event.occurred_at) for event in events] == [
        (SlaTransition.WARNING, utc(2025, 5, 5, 10, 4))
    ]
    resumed = resume_clock(checked, now=utc(2025, 5, 5, 10, 10), calendar=ALWAYS)
    assert resumed.warn_at == utc(2025, 5, 5, 10, 4)
    assert resumed.due_at == utc(2025, 5, 5, 10, 10, 30)
    _, events = check_clock(resumed, now=utc(2025, 5, 5, 10, 11))
    assert [(event.transition, event.occurred_at) for event in events] == [
        (SlaTransition.BREACH, utc(2025, 5, 5, 10, 10, 30))
    ]


def test_a_clock_paused_after_its_deadline_is_breached_and_keeps_the_deadline() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    paused = pause_clock(clock, now=utc(2025, 5, 5, 10, 7), calendar=ALWAYS)
    assert paused.state is SlaClockState.BREACHED
    assert paused.is_paused
    assert paused.consumed == timedelta(minutes=7)
    assert remaining(paused, now=utc(2025, 5, 5, 11, 0), calendar=ALWAYS) == -timedelta(minutes=2)
    checked, events = check_clock(paused, now=utc(2025, 5, 5, 10, 8))
    assert [event.transition for event in events] == [SlaTransition.WARNING, SlaTransition.BREACH]
    assert checked.breached_at == utc(2025, 5, 5, 10, 5)
    resumed = resume_clock(checked, now=utc(2025, 5, 5, 12, 0), calendar=ALWAYS)
    assert resumed.due_at == utc(2025, 5, 5, 10, 5)
    assert resumed.state is SlaClockState.BREACHED
    assert check_clock(resumed, now=utc(2025, 5, 5, 12, 1)) == (resumed, [])


def test_stopping_before_the_deadline_meets_it() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    clock, _ = check_clock(clock, now=utc(2025, 5, 5, 10, 4))
    met = stop_clock(clock, now=utc(2025, 5, 5, 10, 4, 59), calendar=ALWAYS)
    assert met.state is SlaClockState.MET
    assert met.stopped_at == utc(2025, 5, 5, 10, 4, 59)
    assert met.consumed == timedelta(minutes=4, seconds=59)
    assert met.due_at is None
    assert met.warned_at == utc(2025, 5, 5, 10, 4)
    assert next_check_at(met) is None
    assert check_clock(met, now=utc(2025, 5, 6)) == (met, [])
    assert remaining(met, now=utc(2025, 5, 6), calendar=ALWAYS) == timedelta(seconds=1)
    # Stopping twice keeps the first stop.
    assert stop_clock(met, now=utc(2025, 5, 5, 11, 0), calendar=ALWAYS) == met


def test_a_reply_at_the_deadline_itself_is_late() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    just_in_time = stop_clock(clock, now=utc(2025, 5, 5, 10, 5) - ONE_MICROSECOND, calendar=ALWAYS)
    assert just_in_time.state is SlaClockState.MET
    at_the_deadline = stop_clock(clock, now=utc(2025, 5, 5, 10, 5), calendar=ALWAYS)
    assert at_the_deadline.state is SlaClockState.BREACHED


def test_stopping_after_a_reported_breach_keeps_it() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    clock, _ = check_clock(clock, now=utc(2025, 5, 5, 10, 6))
    stopped = stop_clock(clock, now=utc(2025, 5, 5, 10, 9), calendar=ALWAYS)
    assert stopped.state is SlaClockState.BREACHED
    assert stopped.breached_at == utc(2025, 5, 5, 10, 5)
    assert stopped.stopped_at == utc(2025, 5, 5, 10, 9)
    assert stopped.consumed == timedelta(minutes=9)
    assert check_clock(stopped, now=utc(2025, 5, 5, 11, 0)) == (stopped, [])


def test_a_breach_nobody_checked_before_the_stop_is_still_reported() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    stopped = stop_clock(clock, now=utc(2025, 5, 5, 10, 9), calendar=ALWAYS)
    assert stopped.state is SlaClockState.BREACHED
    assert next_check_at(stopped) == utc(2025, 5, 5, 10, 4)
    checked, events = check_clock(stopped, now=utc(2025, 5, 5, 10, 9))
    assert [(event.transition, event.occurred_at) for event in events] == [
        (SlaTransition.WARNING, utc(2025, 5, 5, 10, 4)),
        (SlaTransition.BREACH, utc(2025, 5, 5, 10, 5)),
    ]
    assert checked.state is SlaClockState.BREACHED
    assert next_check_at(checked) is None


def test_cancelling() -> None:
    clock = first_response(now=utc(2025, 5, 5, 10, 0))
    cancelled = cancel_clock(clock, now=utc(2025, 5, 5, 10, 2), calendar=ALWAYS)
    assert cancelled.state is SlaClockState.CANCELLED
    assert next_check_at(cancelled) is None
    late = cancel_clock(clock, now=utc(2025, 5, 5, 10, 30), calendar=ALWAYS)
    assert late.state is SlaClockState.BREACHED
    paused = pause_clock(clock, now=utc(2025, 5, 5, 10, 1), calendar=ALWAYS)
    cancelled_while_paused = cancel_clock(paused, now=utc(2025, 5, 5, 18, 0), calendar=ALWAYS)
    assert cancelled_while_paused.state is SlaClockState.CANCELLED
    assert cancelled_while_paused.consumed == MINUTE
    assert resume_clock(cancelled_while_paused, now=utc(2025, 5, 6), calendar=ALWAYS) == (
        cancelled_while_paused
    )


def test_remaining_counts_business_time_and_goes_negative_when_overdue() -> None:
    clock = first_response(
        now=warsaw(2025, 3, 26, 16, 50), target=timedelta(minutes=20), calendar=OFFICE
    )
    assert clock.due_at == warsaw(2025, 3, 27, 9, 10)
    assert remaining(clock, now=warsaw(2025, 3, 26, 16, 55), calendar=OFFICE) == timedelta(
        minutes=15
    )
    assert remaining(clock, now=warsaw(2025, 3, 27, 8, 0), calendar=OFFICE) == timedelta(minutes=10)
    assert remaining(clock, now=warsaw(2025, 3, 27, 9, 10), calendar=OFFICE) == timedelta(0)
    assert remaining(clock, now=warsaw(2025, 3, 27, 9, 40), calendar=OFFICE) == -timedelta(
        minutes=30
    )


def test_clock_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        first_response(now=utc(2025, 5, 5), target=timedelta(0))
    with pytest.raises(ValueError, match="warning_ratio"):
        start_clock(
            metric=SlaMetric.RESOLUTION,
            target=MINUTE,
            warning_ratio=1.0,
            now=utc(2025, 5, 5),
            calendar=ALWAYS,
        )
    with pytest.raises(ValueError, match="aware"):
        first_response(now=datetime(2025, 5, 5, 10, 0))
    with pytest.raises(ValueError, match="aware"):
        check_clock(first_response(now=utc(2025, 5, 5)), now=datetime(2025, 5, 5, 10, 0))


def test_a_local_now_is_stored_as_utc() -> None:
    clock = first_response(now=datetime(2025, 5, 5, 12, 0, tzinfo=ZoneInfo("Europe/Warsaw")))
    assert clock.started_at.tzinfo is UTC
    assert clock.started_at == utc(2025, 5, 5, 10, 0)
    assert clock.due_at == utc(2025, 5, 5, 10, 5)


# --- properties -----------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
)
targets = st.integers(1, 8 * 60).map(lambda minutes: timedelta(minutes=minutes))
gaps = st.integers(0, 4 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    calendar=calendars(),
    start=instants,
    target=targets,
    ratio=st.floats(0.05, 0.95),
    until_pause=gaps,
    pause_length=gaps,
)
def test_pausing_never_shortens_a_deadline(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    ratio: float,
    until_pause: timedelta,
    pause_length: timedelta,
) -> None:
    clock = start_clock(
        metric=SlaMetric.RESOLUTION,
        target=target,
        warning_ratio=ratio,
        now=start,
        calendar=calendar,
    )
    assert clock.due_at is not None and clock.warn_at is not None
    assert clock.warn_at <= clock.due_at
    paused_at = start + until_pause
    resumed_at = paused_at + pause_length
    paused = pause_clock(clock, now=paused_at, calendar=calendar)
    resumed = resume_clock(paused, now=resumed_at, calendar=calendar)
    assert resumed.due_at is not None and resumed.warn_at is not None
    assert resumed.due_at >= clock.due_at
    assert resumed.warn_at >= clock.warn_at
    if paused_at < clock.due_at:
        # The business time before the pause and after the resume adds up to the target.
        worked = calendar.elapsed(start=start, end=paused_at) + calendar.elapsed(
            start=resumed_at, end=resumed.due_at
        )
        assert worked == target
    # Resuming at the instant of the pause changes no deadline.
    instantly = resume_clock(paused, now=paused_at, calendar=calendar)
    assert (instantly.due_at, instantly.warn_at) == (clock.due_at, clock.warn_at)


@PROPERTY_SETTINGS
@given(
    calendar=calendars(),
    start=instants,
    target=targets,
    steps=st.lists(gaps, min_size=1, max_size=6),
)
def test_events_come_once_each_warning_first_at_their_instants(
    calendar: BusinessCalendar, start: datetime, target: timedelta, steps: list[timedelta]
) -> None:
    clock = first_response(now=start, target=target, calendar=calendar)
    due_at, warn_at = clock.due_at, clock.warn_at
    now = start
    reported: list[SlaClockEvent] = []
    for step in steps:
        now += step
        pending = next_check_at(clock)
        clock, events = check_clock(clock, now=now)
        assert bool(events) is (pending is not None and pending <= now)
        reported += events
    assert [event.transition for event in reported] == [
        SlaTransition.WARNING,
        SlaTransition.BREACH,
    ][: len(reported)]
    assert [event.occurred_at for event in reported] == [warn_at, due_at][: len(reported)]
    assert all(event.occurred_at <= event.detected_at for event in reported)
    expected = (warn_at is not None and warn_at <= now) + (due_at is not None and due_at <= now)
    assert len(reported) == expected
