"""SLA policies and clocks: which targets a ticket gets, and when they are due, warned, met or
breached. Pure functions over immutable values; the services layer stores a clock's fields in
a row, calls these functions with the time from its Clock and records the events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from playerdesk.domain.calendar import BusinessCalendar
from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.errors import ValidationFailed

MAX_TARGET = timedelta(days=90)
DEFAULT_WARNING_RATIO = 0.8
MAX_RULE_NAME_LENGTH = 100

_ZERO = timedelta(0)


class SlaMetric(StrEnum):
    FIRST_RESPONSE = "first_response"
    # Each player message that waits for an agent starts one.
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, kw_only=True)
class SlaTargets:
    """Business time allowed per metric; None means the metric has no target."""

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None

    def target_for(self, metric: SlaMetric) -> timedelta | None:
        return {
            SlaMetric.FIRST_RESPONSE: self.first_response,
            SlaMetric.NEXT_RESPONSE: self.next_response,
            SlaMetric.RESOLUTION: self.resolution,
        }[metric]

    def validate(self) -> None:
        if all(self.target_for(metric) is None for metric in SlaMetric):
            raise ValidationFailed("a policy sets at least one target", field="targets")
        for metric in SlaMetric:
            target = self.target_for(metric)
            if target is None:
                continue
            field = f"{metric.value}_minutes"
            if target <= _ZERO:
                raise ValidationFailed("a target must be longer than zero", field=field)
            if target > MAX_TARGET:
                raise ValidationFailed(f"a target is at most {MAX_TARGET.days} days", field=field)


@dataclass(frozen=True, kw_only=True)
class SlaTicketFacts:
    channel: Channel
    priority: Priority
    vip_tier: str | None  # None (or empty): not a VIP
    team_id: int | None


@dataclass(frozen=True, kw_only=True)
class SlaConditions:
    """Which tickets a rule applies to. An empty set places no restriction."""

    channels: frozenset[Channel] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    vip: VipMatch = VipMatch.ANY
    vip_tiers: frozenset[str] = frozenset()  # only these tiers (so only VIPs)
    team_ids: frozenset[int] = frozenset()

    def validate(self) -> None:
        if self.vip_tiers and self.vip is VipMatch.NOT_VIP:
            raise ValidationFailed(
                "VIP tiers cannot be required of players who are not VIPs", field="vip_tiers"
            )
        if any(not tier.strip() for tier in self.vip_tiers):
            raise ValidationFailed("a VIP tier needs a name", field="vip_tiers")

    def matches(self, facts: SlaTicketFacts) -> bool:
        if self.channels and facts.channel not in self.channels:
            return False
        if self.priorities and facts.priority not in self.priorities:
            return False
        if self.team_ids and facts.team_id not in self.team_ids:
            return False
        if not self.vip.admits(facts.vip_tier):
            return False
        return not self.vip_tiers or facts.vip_tier in self.vip_tiers

    def covers(self, other: SlaConditions) -> bool:
        """Whether every ticket `other` matches is matched here too (a rule below this one
        with `other` would never be reached)."""
        for mine, theirs in (
            (self.channels, other.channels),
            (self.priorities, other.priorities),
            (self.team_ids, other.team_ids),
        ):
            if mine and not (theirs and theirs <= mine):
                return False
        if other._admits_non_vip and not self._admits_non_vip:
            return False
        if other._admits_vip:
            if self.vip is VipMatch.NOT_VIP:
                return False
            if self.vip_tiers and not (other.vip_tiers and other.vip_tiers <= self.vip_tiers):
                return False
        return True

    @property
    def _admits_non_vip(self) -> bool:
        return self.vip is not VipMatch.VIP and not self.vip_tiers

    @property
    def _admits_vip(self) -> bool:
        return self.vip is not VipMatch.NOT_VIP


@dataclass(frozen=True, kw_only=True)
class SlaPolicyRule:
    name: str
    conditions: SlaConditions
    targets: SlaTargets
    warning_ratio: float = DEFAULT_WARNING_RATIO  # share of a target after which to warn

    def validate(self) -> None:
        if not self.name.strip():
            raise ValidationFailed("a policy needs a name", field="name")
        if len(self.name) > MAX_RULE_NAME_LENGTH:
            raise ValidationFailed(
                f"a policy name is at most {MAX_RULE_NAME_LENGTH} characters", field="name"
            )
        if not 0 < self.warning_ratio < 1:  # also refuses NaN
            raise ValidationFailed(
                "the warning comes after 0 % and before 100 % of a target",
                field="warning_ratio",
            )
        self.conditions.validate()
        self.targets.validate()


def validate_policy_rules(*, rules: Sequence[SlaPolicyRule]) -> None:
    """Refuse an ordered rule list with an invalid rule, two rules of one name, or a rule
    that can never apply because a rule above it matches every ticket it would."""
    seen: set[str] = set()
    for position, rule in enumerate(rules):
        rule.validate()
        key = rule.name.strip().casefold()
        if key in seen:
            raise ValidationFailed(f"two policies are named {rule.name!r}", field="name")
        seen.add(key)
        for earlier in rules[:position]:
            if earlier.conditions.covers(rule.conditions):
                raise ValidationFailed(
                    f"policy {rule.name!r} never applies: {earlier.name!r} above it matches "
                    "every ticket it would",
                    field="rules",
                )


def match_policy(*, rules: Sequence[SlaPolicyRule], facts: SlaTicketFacts) -> SlaPolicyRule | None:
    """The first rule whose conditions the ticket meets, in the order given."""
    return next((rule for rule in rules if rule.conditions.matches(facts)), None)


_LIVE_CHANNELS = frozenset(
    {Channel.WEB_CHAT, Channel.TELEGRAM, Channel.WHATSAPP, Channel.VIBER, Channel.PHONE}
)
_WRITTEN_CHANNELS = frozenset({Channel.EMAIL, Channel.FORM, Channel.API})


def default_policy_rules() -> list[SlaPolicyRule]:
    """The policies a new installation ships with. Messengers and phone are answered like
    live chat; forms and the API like email. VIPs (any tier) get a faster first response."""
    live_targets = SlaTargets(
        first_response=timedelta(minutes=5),
        next_response=timedelta(minutes=5),
        resolution=timedelta(minutes=15),
    )
    written_targets = SlaTargets(
        first_response=timedelta(hours=2),
        next_response=timedelta(hours=2),
        resolution=timedelta(hours=24),
    )
    return [
        SlaPolicyRule(
            name="VIP live chat and messengers",
            conditions=SlaConditions(channels=_LIVE_CHANNELS, vip=VipMatch.VIP),
            targets=replace(live_targets, first_response=timedelta(minutes=1)),
        ),
        SlaPolicyRule(
            name="Live chat and messengers",
            conditions=SlaConditions(channels=_LIVE_CHANNELS),
            targets=live_targets,
        ),
        SlaPolicyRule(
            name="VIP email, forms and API",
            conditions=SlaConditions(channels=_WRITTEN_CHANNELS, vip=VipMatch.VIP),
            targets=replace(written_targets, first_response=timedelta(minutes=30)),
        ),
        SlaPolicyRule(
            name="Email, forms and API",
            conditions=SlaConditions(channels=_WRITTEN_CHANNELS),
            targets=written_targets,
        ),
    ]


class SlaClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # waiting on the player or on hold; no deadline
    MET = "met"  # stopped before it was due
    BREACHED = "breached"  # due passed while it ran (it may be paused or stopped since)
    CANCELLED = "cancelled"  # stopped without counting, e.g. the ticket was merged


class SlaTransition(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True, kw_only=True)
class SlaClockEvent:
    metric: SlaMetric
    transition: SlaTransition
    occurred_at: datetime  # the warning or due instant itself
    detected_at: datetime  # when check_clock noticed it


@dataclass(frozen=True, kw_only=True)
class SlaClock:
    """One SLA target being timed for one ticket.

    warn_at and due_at are the instants the warning and the breach happen while the clock
    runs. Pausing or stopping clears the ones still ahead (a paused clock has no deadline)
    and keeps the ones already passed, so that check_clock still reports a warning or a
    breach that happened before the pause even if nobody checked in between.
    warned_at and breached_at record reported events, with the instant they happened.
    """

    metric: SlaMetric
    target: timedelta
    warning_ratio: float
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    consumed: timedelta  # business time used before the current running stretch
    running_since: datetime | None  # None while paused or stopped
    stopped_at: datetime | None = None
    cancelled: bool = False
    warned_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def is_paused(self) -> bool:
        return self.running_since is None and self.stopped_at is None

    @property
    def state(self) -> SlaClockState:
        # Off the clock, due_at survives only when it passed before the pause or stop.
        if self.breached_at is not None or (not self.is_running and self.due_at is not None):
            return SlaClockState.BREACHED
        if self.stopped_at is not None:
            return SlaClockState.CANCELLED if self.cancelled else SlaClockState.MET
        if self.running_since is None:
            return SlaClockState.PAUSED
        return SlaClockState.RUNNING

    @property
    def warning_after(self) -> timedelta:
        """Business time after which the warning is due."""
        return self.target * self.warning_ratio


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"SLA times must be aware datetimes, got naive {moment!r}")
    return moment.astimezone(UTC)


def _passed(instant: datetime | None, *, now: datetime) -> datetime | None:
    return instant if instant is not None and instant <= now else None


def start_clock(
    *,
    metric: SlaMetric,
    target: timedelta,
    warning_ratio: float,
    now: datetime,
    calendar: BusinessCalendar,
) -> SlaClock:
    if target <= _ZERO:
        raise ValueError(f"an SLA target must be positive, got {target}")
    if not 0 < warning_ratio < 1:
        raise ValueError(f"warning_ratio must be between 0 and 1, got {warning_ratio}")
    started = _utc(now)
    clock = SlaClock(
        metric=metric,
        target=target,
        warning_ratio=warning_ratio,
        started_at=started,
        due_at=None,
        warn_at=None,
        consumed=_ZERO,
        running_since=started,
    )
    return _schedule(clock, calendar=calendar)


def _schedule(clock: SlaClock, *, calendar: BusinessCalendar) -> SlaClock:
    """Set warn_at and due_at of a running clock from its remaining business time; instants
    that already passed (kept through a pause) stay as they were."""
    assert clock.running_since is not None
    since = clock.running_since
    warn_at = clock.warn_at
    if warn_at is None:
        warn_at = calendar.add(
            start=since, duration=max(clock.warning_after - clock.consumed, _ZERO)
        )
    due_at = clock.due_at
    if due_at is None:
        due_at = calendar.add(start=since, duration=max(clock.target - clock.consumed, _ZERO))
    return replace(clock, warn_at=warn_at, due_at=due_at)


def pause_clock(clock: SlaClock, *, now: datetime, calendar: BusinessCalendar) -> SlaClock:
    """Stop consuming business time (pending on the player, on hold). No-op unless running."""
    if clock.running_since is None:
        return clock
    moment = _utc(now)
    return replace(
        clock,
        consumed=clock.consumed + calendar.elapsed(start=clock.running_since, end=moment),
        running_since=None,
        warn_at=_passed(clock.warn_at, now=moment),
        due_at=_passed(clock.due_at, now=moment),
    )


def resume_clock(clock: SlaClock, *, now: datetime, calendar: BusinessCalendar) -> SlaClock:
    """Run again with the business time left; never earlier than the deadline before the
    pause. No-op unless paused."""
    if not clock.is_paused:
        return clock
    return _schedule(replace(clock, running_since=_utc(now)), calendar=calendar)


def stop_clock(clock: SlaClock, *, now: datetime, calendar: BusinessCalendar) -> SlaClock:
    """The target was answered (agent reply, resolution). The clock is MET when stopped
    before due_at and BREACHED from due_at on. No-op when already stopped."""
    return _halt(clock, now=now, calendar=calendar, cancelled=False)


def cancel_clock(clock: SlaClock, *, now: datetime, calendar: BusinessCalendar) -> SlaClock:
    """Stop without an outcome (ticket merged, marked spam, policy removed). A breach that
    already happened still counts."""
    return _halt(clock, now=now, calendar=calendar, cancelled=True)


def _halt(
    clock: SlaClock, *, now: datetime, calendar: BusinessCalendar, cancelled: bool
) -> SlaClock:
    if clock.stopped_at is not None:
        return clock
    moment = _utc(now)
    consumed = clock.consumed
    if clock.running_since is not None:
        consumed += calendar.elapsed(start=clock.running_since, end=moment)
    return replace(
        clock,
        consumed=consumed,
        running_since=None,
        stopped_at=moment,
        cancelled=cancelled,
        warn_at=_passed(clock.warn_at, now=moment),
        due_at=_passed(clock.due_at, now=moment),
    )


def check_clock(clock: SlaClock, *, now: datetime) -> tuple[SlaClock, list[SlaClockEvent]]:
    """Report the warning and the breach whose instants have come, each once, warning first.
    A breach happens at due_at itself: an answer is on time only strictly before it."""
    moment = _utc(now)
    events: list[SlaClockEvent] = []
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= moment:
        events.append(_event(clock, SlaTransition.WARNING, at=clock.warn_at, now=moment))
        clock = replace(clock, warned_at=clock.warn_at)
    if clock.breached_at is None and clock.due_at is not None and clock.due_at <= moment:
        events.append(_event(clock, SlaTransition.BREACH, at=clock.due_at, now=moment))
        clock = replace(clock, breached_at=clock.due_at)
    return clock, events


def _event(
    clock: SlaClock, transition: SlaTransition, *, at: datetime, now: datetime
) -> SlaClockEvent:
    return SlaClockEvent(
        metric=clock.metric, transition=transition, occurred_at=at, detected_at=now
    )


def next_check_at(clock: SlaClock) -> datetime | None:
    """The earliest instant at which check_clock would report something; None when nothing
    is pending. Stored and indexed so the SLA job only loads clocks that are due."""
    pending = [
        instant
        for instant, reported in (
            (clock.warn_at, clock.warned_at),
            (clock.due_at, clock.breached_at),
        )
        if instant is not None and reported is None
    ]
    return min(pending, default=None)


def remaining(clock: SlaClock, *, now: datetime, calendar: BusinessCalendar) -> timedelta:
    """Business time left before the target, for the console timers: zero at the deadline,
    negative by the business time spent since. Frozen while paused or stopped."""
    used = clock.consumed
    if clock.running_since is not None:
        used += calendar.elapsed(start=clock.running_since, end=_utc(now))
    return clock.target - used
