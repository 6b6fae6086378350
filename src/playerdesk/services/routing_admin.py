"""Administering routing: routing rules, SLA policies, escalation rules, business calendars,
team purposes, shifts and agent schedules, plus the floor views built on them (who is on
shift now, where the coming week has no cover).

Every write checks the actor's role, refuses a conflicting or impossible configuration with
a `ValidationFailed` naming the field (or a `Conflict` for something still in use), writes
an audit entry and commits once. The rules themselves live in the domain (calendar, sla,
shifts); this module turns rows into domain values and back.

Messages are wrapped in `N_` so that the console can show them translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select

from playerdesk.db.models import (
    Agent,
    AgentShift,
    AgentTeam,
    BusinessCalendarRow,
    EscalationRuleRow,
    RoutingRuleRow,
    ShiftRow,
    SlaPolicyRow,
    Team,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import BusinessCalendar, WorkingInterval
from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.routing import STANDARD_TOPICS, TeamPurpose
from playerdesk.domain.shifts import (
    ScheduledShift,
    ShiftPattern,
    StaffMember,
    coverage_gaps,
)
from playerdesk.domain.sla import (
    MAX_TARGET,
    SlaMetric,
    default_policy_rules,
    validate_policy_rules,
)
from playerdesk.services import audit, floor_config, routing
from playerdesk.services.floor_config import policy_of


def N_(message: str) -> str:
    """Marks a message for translation (the console translates it when it shows it)."""
    return message


async def _commit(uow: UnitOfWork) -> None:
    await floor_config.commit_change(uow)


MAX_NAME_LENGTH = 100
MAX_TOPICS = 50
DEFAULT_UNRESOLVED_MINUTES = 60
MAX_COVERAGE_DAYS = 14
_TOPIC = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
_TOPIC_MAX_LENGTH = 50


class EscalationTrigger(StrEnum):
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    UNRESOLVED = "unresolved"


class Unchanged(Enum):
    """A keyword left out: keep the current value (None is a value: clear it)."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


# Checks shared by the writes ------------------------------------------------------------


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed(N_("a name is required"), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(N_("a name is at most 100 characters"), field="name")
    return name


def _topic(value: str | None, *, field: str = "topic") -> str | None:
    topic = (value or "").strip().lower()
    if not topic:
        return None
    if len(topic) > _TOPIC_MAX_LENGTH or not _TOPIC.match(topic):
        raise ValidationFailed(
            N_("a topic is a short code of lowercase letters, digits and underscores"),
            field=field,
        )
    return topic


def _language(value: str | None, *, languages: Sequence[str]) -> str | None:
    code = (value or "").strip().lower()
    if not code:
        return None
    if code not in languages:
        raise ValidationFailed(N_("unsupported language"), field="language")
    return code


def _channel(value: str, *, field: str = "channel") -> Channel:
    try:
        return Channel(value.strip().lower())
    except ValueError:
        raise ValidationFailed(N_("unknown channel"), field=field) from None


def _priority(value: str) -> Priority:
    try:
        return Priority(value.strip().lower())
    except ValueError:
        raise ValidationFailed(N_("unknown priority"), field="priorities") from None


def _vip(value: str) -> VipMatch:
    try:
        return VipMatch((value or "any").strip().lower())
    except ValueError:
        raise ValidationFailed(
            N_("VIP condition must be any, vip or not_vip"), field="vip"
        ) from None


def _time_zone(value: str) -> str:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(N_("unknown time zone"), field="time_zone") from None
    return name


def _positive_minutes(value: int | None, *, field: str) -> int | None:
    if value is None:
        return None
    if value <= 0:
        raise ValidationFailed(N_("a target must be longer than zero"), field=field)
    if value > MAX_TARGET.total_seconds() // 60:
        raise ValidationFailed(N_("a target is at most 90 days"), field=field)
    return value


@contextmanager
def _renamed_fields(mapping: dict[str, str]) -> Iterator[None]:
    """The domain names some fields differently from our API; report ours."""
    try:
        yield
    except ValidationFailed as exc:
        if exc.field in mapping:
            raise ValidationFailed(exc.detail, field=mapping[exc.field]) from exc
        raise


async def _team(uow: UnitOfWork, team_id: int, *, field: str) -> Team:
    team = await uow.session.get(Team, team_id)
    if team is None:
        raise ValidationFailed(N_("no such team; it may have been deleted"), field=field)
    return team


async def _check_teams(uow: UnitOfWork, team_ids: Sequence[int], *, field: str) -> list[int]:
    wanted = list(dict.fromkeys(team_ids))
    if not wanted:
        return []
    found = set((await uow.session.scalars(select(Team.id).where(Team.id.in_(wanted)))).all())
    if set(wanted) - found:
        raise ValidationFailed(N_("no such team; it may have been deleted"), field=field)
    return wanted


async def _next_position(uow: UnitOfWork, column: Any) -> int:
    highest = await uow.session.scalar(select(func.max(column)))
    return int(highest or 0) + 1


def _check_full_order(given: Sequence[int], existing: Sequence[int]) -> None:
    if len(given) != len(set(given)) or set(given) != set(existing):
        raise ValidationFailed(N_("give every id exactly once, in the new order"), field="ids")


# Routing rules ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RoutingRuleInput:
    """Conversations matching every condition given (None: any) go to `team_id`."""

    name: str
    team_id: int
    topic: str | None = None
    language: str | None = None
    channel: str | None = None
    vip: str = VipMatch.ANY.value
    is_active: bool = True


def _rule_covers(earlier: RoutingRuleRow, later: RoutingRuleRow) -> bool:
    """Whether `earlier` matches every conversation `later` would (so `later` never applies)."""
    for mine, theirs in (
        (earlier.topic, later.topic),
        (earlier.language, later.language),
        (earlier.channel, later.channel),
    ):
        if mine is not None and mine != theirs:
            return False
    return earlier.vip == VipMatch.ANY.value or earlier.vip == later.vip


def _check_rule_order(rules: Sequence[RoutingRuleRow]) -> None:
    active = [rule for rule in rules if rule.is_active]
    for position, rule in enumerate(active):
        for earlier in active[:position]:
            if _rule_covers(earlier, rule):
                raise ValidationFailed(
                    N_(
                        "this rule would never apply: a rule above it already matches every "
                        "conversation it would"
                    ),
                    field="rules",
                )


async def _ordered_rules(uow: UnitOfWork) -> list[RoutingRuleRow]:
    rows = await uow.session.scalars(
        select(RoutingRuleRow).order_by(RoutingRuleRow.position, RoutingRuleRow.id)
    )
    return list(rows.all())


def _rule_snapshot(rule: RoutingRuleRow) -> dict[str, Any]:
    return {
        "name": rule.name,
        "topic": rule.topic,
        "language": rule.language,
        "channel": rule.channel,
        "vip": rule.vip,
        "team_id": rule.team_id,
        "is_active": rule.is_active,
    }


async def _apply_rule(
    uow: UnitOfWork, row: RoutingRuleRow, rule: RoutingRuleInput, *, languages: Sequence[str]
) -> None:
    row.name = _name(rule.name)
    row.topic = _topic(rule.topic)
    row.language = _language(rule.language, languages=languages)
    row.channel = _channel(rule.channel).value if rule.channel and rule.channel.strip() else None
    row.vip = _vip(rule.vip).value
    row.team_id = (await _team(uow, rule.team_id, field="team_id")).id
    row.is_active = rule.is_active


async def list_routing_rules(uow: UnitOfWork, *, actor: Actor) -> list[RoutingRuleRow]:
    actor.require(Permission.FLOOR_READ)
    return await _ordered_rules(uow)


async def create_routing_rule(
    uow: UnitOfWork, *, actor: Actor, rule: RoutingRuleInput, languages: Sequence[str]
) -> RoutingRuleRow:
    """A new rule goes to the end of the list (reorder to move it up)."""
    actor.require(Permission.ROUTING_MANAGE)
    now = uow.clock.now()
    row = RoutingRuleRow(
        position=await _next_position(uow, RoutingRuleRow.position),
        created_at=now,
        updated_at=now,
    )
    await _apply_rule(uow, row, rule, languages=languages)
    _check_rule_order([*await _ordered_rules(uow), row])
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="routing_rule.created",
        entity_type="routing_rule",
        entity_id=row.id,
        details=_rule_snapshot(row),
    )
    await _commit(uow)
    return row


async def _get_rule(uow: UnitOfWork, rule_id: int) -> RoutingRuleRow:
    row = await uow.session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound(N_("no such routing rule"), field="rule_id")
    return row


async def update_routing_rule(
    uow: UnitOfWork,
    *,
    actor: Actor,
    rule_id: int,
    rule: RoutingRuleInput,
    languages: Sequence[str],
) -> RoutingRuleRow:
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_rule(uow, rule_id)
    before = _rule_snapshot(row)
    await _apply_rule(uow, row, rule, languages=languages)
    row.updated_at = uow.clock.now()
    _check_rule_order(await _ordered_rules(uow))
    audit.record(
        uow,
        actor=actor,
        action="routing_rule.updated",
        entity_type="routing_rule",
        entity_id=row.id,
        details={"before": before, "after": _rule_snapshot(row)},
    )
    await _commit(uow)
    return row


async def delete_routing_rule(uow: UnitOfWork, *, actor: Actor, rule_id: int) -> None:
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_rule(uow, rule_id)
    details = _rule_snapshot(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="routing_rule.deleted",
        entity_type="routing_rule",
        entity_id=rule_id,
        details=details,
    )
    await _commit(uow)


async def reorder_routing_rules(
    uow: UnitOfWork, *, actor: Actor, rule_ids: Sequence[int]
) -> list[RoutingRuleRow]:
    """`rule_ids` is every rule's id in the new order (first match wins)."""
    actor.require(Permission.ROUTING_MANAGE)
    rows = {row.id: row for row in await _ordered_rules(uow)}
    _check_full_order(rule_ids, list(rows))
    ordered = [rows[rule_id] for rule_id in rule_ids]
    _check_rule_order(ordered)
    for position, row in enumerate(ordered, start=1):
        row.position = position
    audit.record(
        uow,
        actor=actor,
        action="routing_rules.reordered",
        entity_type="routing_rule",
        entity_id=None,
        details={"ids": list(rule_ids)},
    )
    await _commit(uow)
    return ordered


# SLA policies ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SlaPolicyInput:
    """Tickets matching every condition (an empty list: any) get these targets, in business
    minutes of their team's calendar. The warning comes at `warning_percent` of a target."""

    name: str
    channels: Sequence[str] = ()
    priorities: Sequence[str] = ()
    vip: str = VipMatch.ANY.value
    vip_tiers: Sequence[str] = ()
    team_ids: Sequence[int] = ()
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warning_percent: int = 80
    is_active: bool = True


async def _ordered_policies(uow: UnitOfWork) -> list[SlaPolicyRow]:
    rows = await uow.session.scalars(
        select(SlaPolicyRow).order_by(SlaPolicyRow.position, SlaPolicyRow.id)
    )
    return list(rows.all())


def _check_policies(rows: Sequence[SlaPolicyRow]) -> None:
    names: set[str] = set()
    for row in rows:
        key = row.name.casefold()
        if key in names:
            raise ValidationFailed(N_("another policy has this name"), field="name")
        names.add(key)
    with _renamed_fields({"warning_ratio": "warning_percent"}):
        validate_policy_rules(rules=[policy_of(row) for row in rows if row.is_active])


def _policy_snapshot(row: SlaPolicyRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "channels": list(row.channels),
        "priorities": list(row.priorities),
        "vip": row.vip,
        "vip_tiers": list(row.vip_tiers),
        "team_ids": list(row.team_ids),
        "first_response_minutes": row.first_response_minutes,
        "next_response_minutes": row.next_response_minutes,
        "resolution_minutes": row.resolution_minutes,
        "warning_percent": row.warning_percent,
        "is_active": row.is_active,
    }


async def _apply_policy(
    uow: UnitOfWork, row: SlaPolicyRow, policy: SlaPolicyInput, *, known_vip_tiers: Sequence[str]
) -> None:
    row.name = _name(policy.name)
    row.channels = list(
        dict.fromkeys(_channel(value, field="channels").value for value in policy.channels)
    )
    row.priorities = list(dict.fromkeys(_priority(value).value for value in policy.priorities))
    try:
        row.vip = VipMatch((policy.vip or "any").strip().lower()).value
    except ValueError:
        raise ValidationFailed(
            N_("VIP condition must be any, vip or not_vip"), field="vip"
        ) from None
    tiers = [tier.strip().lower() for tier in policy.vip_tiers if tier.strip()]
    if any(tier not in known_vip_tiers for tier in tiers):
        raise ValidationFailed(N_("unknown VIP tier"), field="vip_tiers")
    row.vip_tiers = list(dict.fromkeys(tiers))
    row.team_ids = await _check_teams(uow, policy.team_ids, field="team_ids")
    row.first_response_minutes = _positive_minutes(
        policy.first_response_minutes, field="first_response_minutes"
    )
    row.next_response_minutes = _positive_minutes(
        policy.next_response_minutes, field="next_response_minutes"
    )
    row.resolution_minutes = _positive_minutes(
        policy.resolution_minutes, field="resolution_minutes"
    )
    if not 1 <= policy.warning_percent <= 99:
        raise ValidationFailed(
            N_("the warning comes between 1 % and 99 % of a target"), field="warning_percent"
        )
    row.warning_percent = policy.warning_percent
    row.is_active = policy.is_active
    with _renamed_fields({"warning_ratio": "warning_percent"}):
        policy_of(row).validate()


async def list_sla_policies(uow: UnitOfWork, *, actor: Actor) -> list[SlaPolicyRow]:
    actor.require(Permission.FLOOR_READ)
    return await _ordered_policies(uow)


async def create_sla_policy(
    uow: UnitOfWork,
    *,
    actor: Actor,
    policy: SlaPolicyInput,
    known_vip_tiers: Sequence[str],
) -> SlaPolicyRow:
    """A new policy goes to the end of the list; one that a policy above it would always
    pre-empt is refused (reorder first, or narrow the one above)."""
    actor.require(Permission.ROUTING_MANAGE)
    now = uow.clock.now()
    row = SlaPolicyRow(
        position=await _next_position(uow, SlaPolicyRow.position),
        created_at=now,
        updated_at=now,
    )
    await _apply_policy(uow, row, policy, known_vip_tiers=known_vip_tiers)
    _check_policies([*await _ordered_policies(uow), row])
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="sla_policy.created",
        entity_type="sla_policy",
        entity_id=row.id,
        details=_policy_snapshot(row),
    )
    await _commit(uow)
    return row


async def _get_policy(uow: UnitOfWork, policy_id: int) -> SlaPolicyRow:
    row = await uow.session.get(SlaPolicyRow, policy_id)
    if row is None:
        raise NotFound(N_("no such SLA policy"), field="policy_id")
    return row


async def update_sla_policy(
    uow: UnitOfWork,
    *,
    actor: Actor,
    policy_id: int,
    policy: SlaPolicyInput,
    known_vip_tiers: Sequence[str],
) -> SlaPolicyRow:
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_policy(uow, policy_id)
    before = _policy_snapshot(row)
    await _apply_policy(uow, row, policy, known_vip_tiers=known_vip_tiers)
    row.updated_at = uow.clock.now()
    _check_policies(await _ordered_policies(uow))
    audit.record(
        uow,
        actor=actor,
        action="sla_policy.updated",
        entity_type="sla_policy",
        entity_id=row.id,
        details={"before": before, "after": _policy_snapshot(row)},
    )
    await _commit(uow)
    return row


async def delete_sla_policy(uow: UnitOfWork, *, actor: Actor, policy_id: int) -> None:
    """Tickets that had this policy keep their running clocks (the ticket's reference is
    cleared by the database)."""
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_policy(uow, policy_id)
    details = _policy_snapshot(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="sla_policy.deleted",
        entity_type="sla_policy",
        entity_id=policy_id,
        details=details,
    )
    await _commit(uow)


async def reorder_sla_policies(
    uow: UnitOfWork, *, actor: Actor, policy_ids: Sequence[int]
) -> list[SlaPolicyRow]:
    actor.require(Permission.ROUTING_MANAGE)
    rows = {row.id: row for row in await _ordered_policies(uow)}
    _check_full_order(policy_ids, list(rows))
    ordered = [rows[policy_id] for policy_id in policy_ids]
    _check_policies(ordered)
    for position, row in enumerate(ordered, start=1):
        row.position = position
    audit.record(
        uow,
        actor=actor,
        action="sla_policies.reordered",
        entity_type="sla_policy",
        entity_id=None,
        details={"ids": list(policy_ids)},
    )
    await _commit(uow)
    return ordered


# Escalation rules ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EscalationRuleInput:
    """On an SLA warning or breach (of `metric`, or of any metric), or when a ticket of one
    of `topics` (any topic when empty) stays unresolved `after_minutes`: raise its priority,
    move it to the Senior team or to `move_to_team_id`, and/or notify the supervisors."""

    name: str
    trigger: str
    metric: str | None = None
    topics: Sequence[str] = ()
    after_minutes: int | None = None
    raise_priority: bool = True
    move_to_senior: bool = False
    move_to_team_id: int | None = None
    notify_supervisors: bool = True
    is_active: bool = True


async def _senior_team_id(uow: UnitOfWork) -> int | None:
    return await uow.session.scalar(select(Team.id).where(Team.purpose == TeamPurpose.SENIOR.value))


async def _apply_escalation(
    uow: UnitOfWork, row: EscalationRuleRow, rule: EscalationRuleInput
) -> None:
    row.name = _name(rule.name)
    try:
        trigger = EscalationTrigger(rule.trigger.strip().lower())
    except ValueError:
        raise ValidationFailed(
            N_("the trigger is sla_warning, sla_breach or unresolved"), field="trigger"
        ) from None
    row.trigger = trigger.value
    metric = (rule.metric or "").strip().lower() or None
    if metric is not None:
        if trigger is EscalationTrigger.UNRESOLVED:
            raise ValidationFailed(
                N_("only SLA warnings and breaches are of a metric"), field="metric"
            )
        try:
            metric = SlaMetric(metric).value
        except ValueError:
            raise ValidationFailed(
                N_("the metric is first_response, next_response or resolution"), field="metric"
            ) from None
    row.metric = metric
    if len(rule.topics) > MAX_TOPICS:
        raise ValidationFailed(N_("too many topics"), field="topics")
    topics = [_topic(value, field="topics") for value in rule.topics]
    row.topics = list(dict.fromkeys(topic for topic in topics if topic))
    if trigger is EscalationTrigger.UNRESOLVED:
        after = DEFAULT_UNRESOLVED_MINUTES if rule.after_minutes is None else rule.after_minutes
        if after <= 0:
            raise ValidationFailed(N_("the time must be longer than zero"), field="after_minutes")
        if after > MAX_TARGET.total_seconds() // 60:
            raise ValidationFailed(N_("the time is at most 90 days"), field="after_minutes")
        row.after_minutes = after
    else:
        if rule.after_minutes is not None:
            raise ValidationFailed(
                N_("a time applies only to the unresolved trigger"), field="after_minutes"
            )
        row.after_minutes = None
    if rule.move_to_senior and rule.move_to_team_id is not None:
        raise ValidationFailed(
            N_("move to the Senior team or to another team, not both"), field="move_to_team_id"
        )
    if rule.move_to_senior and await _senior_team_id(uow) is None:
        raise ValidationFailed(
            N_("no team is the Senior team; set a team's purpose to senior first"),
            field="move_to_senior",
        )
    row.move_to_team_id = (
        None
        if rule.move_to_team_id is None
        else (await _team(uow, rule.move_to_team_id, field="move_to_team_id")).id
    )
    row.move_to_senior = rule.move_to_senior
    row.raise_priority = rule.raise_priority
    row.notify_supervisors = rule.notify_supervisors
    if not (
        row.raise_priority or row.move_to_senior or row.move_to_team_id or row.notify_supervisors
    ):
        raise ValidationFailed(N_("an escalation rule needs at least one action"), field="actions")
    row.is_active = rule.is_active


def _escalation_snapshot(row: EscalationRuleRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "trigger": row.trigger,
        "metric": row.metric,
        "topics": list(row.topics),
        "after_minutes": row.after_minutes,
        "raise_priority": row.raise_priority,
        "move_to_senior": row.move_to_senior,
        "move_to_team_id": row.move_to_team_id,
        "notify_supervisors": row.notify_supervisors,
        "is_active": row.is_active,
    }


async def _ordered_escalations(uow: UnitOfWork) -> list[EscalationRuleRow]:
    rows = await uow.session.scalars(
        select(EscalationRuleRow).order_by(EscalationRuleRow.position, EscalationRuleRow.id)
    )
    return list(rows.all())


async def list_escalation_rules(uow: UnitOfWork, *, actor: Actor) -> list[EscalationRuleRow]:
    actor.require(Permission.FLOOR_READ)
    return await _ordered_escalations(uow)


async def create_escalation_rule(
    uow: UnitOfWork, *, actor: Actor, rule: EscalationRuleInput
) -> EscalationRuleRow:
    actor.require(Permission.ROUTING_MANAGE)
    now = uow.clock.now()
    row = EscalationRuleRow(
        position=await _next_position(uow, EscalationRuleRow.position),
        created_at=now,
        updated_at=now,
    )
    await _apply_escalation(uow, row, rule)
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="escalation_rule.created",
        entity_type="escalation_rule",
        entity_id=row.id,
        details=_escalation_snapshot(row),
    )
    await _commit(uow)
    return row


async def _get_escalation(uow: UnitOfWork, rule_id: int) -> EscalationRuleRow:
    row = await uow.session.get(EscalationRuleRow, rule_id)
    if row is None:
        raise NotFound(N_("no such escalation rule"), field="rule_id")
    return row


async def update_escalation_rule(
    uow: UnitOfWork, *, actor: Actor, rule_id: int, rule: EscalationRuleInput
) -> EscalationRuleRow:
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_escalation(uow, rule_id)
    before = _escalation_snapshot(row)
    await _apply_escalation(uow, row, rule)
    row.updated_at = uow.clock.now()
    audit.record(
        uow,
        actor=actor,
        action="escalation_rule.updated",
        entity_type="escalation_rule",
        entity_id=row.id,
        details={"before": before, "after": _escalation_snapshot(row)},
    )
    await _commit(uow)
    return row


async def delete_escalation_rule(uow: UnitOfWork, *, actor: Actor, rule_id: int) -> None:
    """Past escalations keep their history (their reference to the rule is cleared)."""
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_escalation(uow, rule_id)
    details = _escalation_snapshot(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="escalation_rule.deleted",
        entity_type="escalation_rule",
        entity_id=rule_id,
        details=details,
    )
    await _commit(uow)


async def reorder_escalation_rules(
    uow: UnitOfWork, *, actor: Actor, rule_ids: Sequence[int]
) -> list[EscalationRuleRow]:
    actor.require(Permission.ROUTING_MANAGE)
    rows = {row.id: row for row in await _ordered_escalations(uow)}
    _check_full_order(rule_ids, list(rows))
    ordered = [rows[rule_id] for rule_id in rule_ids]
    for position, row in enumerate(ordered, start=1):
        row.position = position
    audit.record(
        uow,
        actor=actor,
        action="escalation_rules.reordered",
        entity_type="escalation_rule",
        entity_id=None,
        details={"ids": list(rule_ids)},
    )
    await _commit(uow)
    return ordered


# Business calendars ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CalendarInput:
    name: str
    time_zone: str
    intervals: Sequence[WorkingInterval]
    holidays: Sequence[date] = ()


def _check_calendar(calendar: CalendarInput) -> BusinessCalendar:
    time_zone = _time_zone(calendar.time_zone)
    if not calendar.intervals:
        # An empty calendar would mean "around the clock" to the SLA maths; here it is
        # almost certainly a mistake, and a team without a calendar is 24/7 already.
        raise ValidationFailed(
            N_(
                "a calendar needs working time: add at least one interval (a team without "
                "a calendar works around the clock)"
            ),
            field="intervals",
        )
    domain = BusinessCalendar(
        time_zone=time_zone,
        intervals=tuple(
            sorted(calendar.intervals, key=lambda item: (item.weekday, item.start_minute))
        ),
        holidays=frozenset(calendar.holidays),
    )
    domain.validate()
    return domain


def _store_calendar(row: BusinessCalendarRow, name: str, domain: BusinessCalendar) -> None:
    row.name = name
    row.time_zone = domain.time_zone
    row.intervals = [
        [interval.weekday, interval.start_minute, interval.end_minute]
        for interval in domain.intervals
    ]
    row.holidays = [day.isoformat() for day in sorted(domain.holidays)]


def _calendar_snapshot(row: BusinessCalendarRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "time_zone": row.time_zone,
        "intervals": [list(interval) for interval in row.intervals],
        "holidays": list(row.holidays),
    }


async def _check_name_free(
    uow: UnitOfWork,
    model: type[BusinessCalendarRow] | type[ShiftRow],
    name: str,
    *,
    except_id: int | None,
    taken: str,
) -> None:
    """Calendars and shifts are picked by name in the console: one of each name."""
    query = select(model.id).where(model.name == name)
    if except_id is not None:
        query = query.where(model.id != except_id)
    if await uow.session.scalar(query) is not None:
        raise Conflict(taken, field="name")


async def list_calendars(uow: UnitOfWork, *, actor: Actor) -> list[BusinessCalendarRow]:
    actor.require(Permission.FLOOR_READ)
    rows = await uow.session.scalars(select(BusinessCalendarRow).order_by(BusinessCalendarRow.name))
    return list(rows.all())


async def get_calendar(uow: UnitOfWork, *, actor: Actor, calendar_id: int) -> BusinessCalendarRow:
    actor.require(Permission.FLOOR_READ)
    return await _get_calendar(uow, calendar_id)


async def _get_calendar(uow: UnitOfWork, calendar_id: int) -> BusinessCalendarRow:
    row = await uow.session.get(BusinessCalendarRow, calendar_id)
    if row is None:
        raise NotFound(N_("no such calendar"), field="calendar_id")
    return row


async def create_calendar(
    uow: UnitOfWork, *, actor: Actor, calendar: CalendarInput
) -> BusinessCalendarRow:
    actor.require(Permission.ROUTING_MANAGE)
    name = _name(calendar.name)
    domain = _check_calendar(calendar)
    await _check_name_free(
        uow,
        BusinessCalendarRow,
        name,
        except_id=None,
        taken=N_("a calendar with this name exists"),
    )
    now = uow.clock.now()
    row = BusinessCalendarRow(created_at=now, updated_at=now)
    _store_calendar(row, name, domain)
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="calendar.created",
        entity_type="calendar",
        entity_id=row.id,
        details=_calendar_snapshot(row),
    )
    await _commit(uow)
    return row


async def update_calendar(
    uow: UnitOfWork, *, actor: Actor, calendar_id: int, calendar: CalendarInput
) -> BusinessCalendarRow:
    """Clocks already running keep their deadlines; new and resumed clocks use the change."""
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_calendar(uow, calendar_id)
    name = _name(calendar.name)
    domain = _check_calendar(calendar)
    await _check_name_free(
        uow,
        BusinessCalendarRow,
        name,
        except_id=calendar_id,
        taken=N_("a calendar with this name exists"),
    )
    before = _calendar_snapshot(row)
    _store_calendar(row, name, domain)
    row.updated_at = uow.clock.now()
    audit.record(
        uow,
        actor=actor,
        action="calendar.updated",
        entity_type="calendar",
        entity_id=row.id,
        details={"before": before, "after": _calendar_snapshot(row)},
    )
    await _commit(uow)
    return row


async def delete_calendar(uow: UnitOfWork, *, actor: Actor, calendar_id: int) -> None:
    actor.require(Permission.ROUTING_MANAGE)
    row = await _get_calendar(uow, calendar_id)
    users = list(
        (await uow.session.scalars(select(Team.name).where(Team.calendar_id == calendar_id))).all()
    )
    if users:
        raise Conflict(
            N_("teams still use this calendar; give them another one first"),
            field="calendar_id",
        )
    details = _calendar_snapshot(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="calendar.deleted",
        entity_type="calendar",
        entity_id=calendar_id,
        details=details,
    )
    await _commit(uow)


# Teams: purpose and calendar -------------------------------------------------------------


async def list_team_routing(uow: UnitOfWork, *, actor: Actor) -> list[Team]:
    actor.require(Permission.FLOOR_READ)
    return list((await uow.session.scalars(select(Team).order_by(Team.name))).all())


async def set_team_routing(
    uow: UnitOfWork,
    *,
    actor: Actor,
    team_id: int,
    purpose: TeamPurpose | str | Unchanged | None = UNCHANGED,
    calendar_id: int | Unchanged | None = UNCHANGED,
) -> Team:
    """A team's role for the router (one team per purpose) and its working hours (None:
    around the clock). A keyword left out keeps its value; None clears it."""
    actor.require(Permission.ROUTING_MANAGE)
    team = await uow.session.get(Team, team_id)
    if team is None:
        raise NotFound(N_("no such team"), field="team_id")
    before = {"purpose": team.purpose, "calendar_id": team.calendar_id}
    if not isinstance(purpose, Unchanged):
        wanted: str | None = None
        if purpose is not None and str(purpose).strip():
            try:
                wanted = TeamPurpose(str(purpose).strip().lower()).value
            except ValueError:
                raise ValidationFailed(
                    N_("the purpose is general, vip, senior or responsible_gambling"),
                    field="purpose",
                ) from None
        if wanted is not None and wanted != team.purpose:
            holder = await uow.session.scalar(
                select(Team.name).where(Team.purpose == wanted, Team.id != team_id)
            )
            if holder is not None:
                raise Conflict(
                    N_("another team already has this purpose; clear it there first"),
                    field="purpose",
                )
        if team.purpose == TeamPurpose.SENIOR.value and wanted != team.purpose:
            in_use = await uow.session.scalar(
                select(EscalationRuleRow.id).where(EscalationRuleRow.move_to_senior.is_(True))
            )
            if in_use is not None:
                raise Conflict(
                    N_("escalation rules move tickets to the Senior team; change them first"),
                    field="purpose",
                )
        team.purpose = wanted
    if not isinstance(calendar_id, Unchanged):
        if (
            calendar_id is not None
            and await uow.session.get(BusinessCalendarRow, calendar_id) is None
        ):
            raise ValidationFailed(
                N_("no such calendar; it may have been deleted"), field="calendar_id"
            )
        team.calendar_id = calendar_id
    after = {"purpose": team.purpose, "calendar_id": team.calendar_id}
    if after != before:
        audit.record(
            uow,
            actor=actor,
            action="team.routing_changed",
            entity_type="team",
            entity_id=team.id,
            details={"before": before, "after": after},
        )
    await _commit(uow)
    return team


# Shifts ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ShiftInput:
    """A shift in local time; it may run past midnight (22:00-06:00 starts the day before)."""

    name: str
    start_minute: int
    end_minute: int
    weekdays: Sequence[int] = (0, 1, 2, 3, 4, 5, 6)
    time_zone: str = "UTC"


def _check_shift(shift: ShiftInput) -> ShiftPattern:
    pattern = ShiftPattern(
        start_minute=shift.start_minute,
        end_minute=shift.end_minute,
        weekdays=frozenset(shift.weekdays),
        time_zone=_time_zone(shift.time_zone),
    )
    pattern.validate()
    return pattern


def _shift_snapshot(row: ShiftRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "start_minute": row.start_minute,
        "end_minute": row.end_minute,
        "weekdays": list(row.weekdays),
        "time_zone": row.time_zone,
    }


def _store_shift(row: ShiftRow, name: str, pattern: ShiftPattern) -> None:
    row.name = name
    row.start_minute = pattern.start_minute
    row.end_minute = pattern.end_minute
    row.weekdays = sorted(pattern.weekdays)
    row.time_zone = pattern.time_zone


async def list_shifts(uow: UnitOfWork, *, actor: Actor) -> list[ShiftRow]:
    actor.require(Permission.FLOOR_READ)
    rows = await uow.session.scalars(select(ShiftRow).order_by(ShiftRow.start_minute, ShiftRow.id))
    return list(rows.all())


async def _get_shift(uow: UnitOfWork, shift_id: int, *, field: str = "shift_id") -> ShiftRow:
    row = await uow.session.get(ShiftRow, shift_id)
    if row is None:
        raise NotFound(N_("no such shift"), field=field)
    return row


async def create_shift(uow: UnitOfWork, *, actor: Actor, shift: ShiftInput) -> ShiftRow:
    actor.require(Permission.SHIFTS_MANAGE)
    name = _name(shift.name)
    pattern = _check_shift(shift)
    await _check_name_free(
        uow, ShiftRow, name, except_id=None, taken=N_("a shift with this name exists")
    )
    now = uow.clock.now()
    row = ShiftRow(created_at=now, updated_at=now)
    _store_shift(row, name, pattern)
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="shift.created",
        entity_type="shift",
        entity_id=row.id,
        details=_shift_snapshot(row),
    )
    await _commit(uow)
    return row


async def update_shift(
    uow: UnitOfWork, *, actor: Actor, shift_id: int, shift: ShiftInput
) -> ShiftRow:
    actor.require(Permission.SHIFTS_MANAGE)
    row = await _get_shift(uow, shift_id)
    name = _name(shift.name)
    pattern = _check_shift(shift)
    await _check_name_free(
        uow, ShiftRow, name, except_id=shift_id, taken=N_("a shift with this name exists")
    )
    before = _shift_snapshot(row)
    _store_shift(row, name, pattern)
    row.updated_at = uow.clock.now()
    audit.record(
        uow,
        actor=actor,
        action="shift.updated",
        entity_type="shift",
        entity_id=row.id,
        details={"before": before, "after": _shift_snapshot(row)},
    )
    await _commit(uow)
    return row


async def delete_shift(uow: UnitOfWork, *, actor: Actor, shift_id: int) -> None:
    actor.require(Permission.SHIFTS_MANAGE)
    row = await _get_shift(uow, shift_id)
    in_use = await uow.session.scalar(select(AgentShift.id).where(AgentShift.shift_id == shift_id))
    if in_use is not None:
        raise Conflict(
            N_("agents are scheduled on this shift; remove their schedule entries first"),
            field="shift_id",
        )
    details = _shift_snapshot(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="shift.deleted",
        entity_type="shift",
        entity_id=shift_id,
        details=details,
    )
    await _commit(uow)


# Agent schedules ---------------------------------------------------------------------------


def _entry_snapshot(entry: AgentShift) -> dict[str, Any]:
    return {
        "agent_id": entry.agent_id,
        "shift_id": entry.shift_id,
        "starts_on": entry.starts_on.isoformat(),
        "ends_on": entry.ends_on.isoformat() if entry.ends_on else None,
    }


def _ranges_overlap(
    first_start: date, first_end: date | None, second_start: date, second_end: date | None
) -> bool:
    return (first_end is None or second_start <= first_end) and (
        second_end is None or first_start <= second_end
    )


async def list_schedule_entries(
    uow: UnitOfWork, *, actor: Actor, agent_id: int | None = None
) -> list[AgentShift]:
    actor.require(Permission.FLOOR_READ)
    query = select(AgentShift).order_by(AgentShift.agent_id, AgentShift.starts_on, AgentShift.id)
    if agent_id is not None:
        query = query.where(AgentShift.agent_id == agent_id)
    return list((await uow.session.scalars(query)).all())


async def add_schedule_entry(
    uow: UnitOfWork,
    *,
    actor: Actor,
    agent_id: int,
    shift_id: int,
    starts_on: date,
    ends_on: date | None = None,
) -> AgentShift:
    """Agent `agent_id` works shift `shift_id` from `starts_on` until `ends_on` (inclusive;
    None: open-ended)."""
    actor.require(Permission.SHIFTS_MANAGE)
    agent = await uow.session.get(Agent, agent_id)
    if agent is None:
        raise ValidationFailed(N_("no such agent"), field="agent_id")
    if not agent.is_active:
        raise ValidationFailed(N_("the agent is deactivated"), field="agent_id")
    if await uow.session.get(ShiftRow, shift_id) is None:
        raise ValidationFailed(N_("no such shift; it may have been deleted"), field="shift_id")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(
            N_("the schedule must end on or after its first day"), field="ends_on"
        )
    same = await uow.session.scalars(
        select(AgentShift).where(AgentShift.agent_id == agent_id, AgentShift.shift_id == shift_id)
    )
    if any(_ranges_overlap(entry.starts_on, entry.ends_on, starts_on, ends_on) for entry in same):
        raise Conflict(
            N_("the agent is already scheduled on this shift for some of these days"),
            field="starts_on",
        )
    entry = AgentShift(
        agent_id=agent_id,
        shift_id=shift_id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=uow.clock.now(),
    )
    uow.session.add(entry)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="schedule.added",
        entity_type="schedule",
        entity_id=entry.id,
        details=_entry_snapshot(entry),
    )
    await _commit(uow)
    return entry


async def _get_entry(uow: UnitOfWork, entry_id: int) -> AgentShift:
    entry = await uow.session.get(AgentShift, entry_id)
    if entry is None:
        raise NotFound(N_("no such schedule entry"), field="entry_id")
    return entry


async def end_schedule_entry(
    uow: UnitOfWork, *, actor: Actor, entry_id: int, ends_on: date
) -> AgentShift:
    """The last day the agent works the shift (the entry's history stays)."""
    actor.require(Permission.SHIFTS_MANAGE)
    entry = await _get_entry(uow, entry_id)
    if ends_on < entry.starts_on:
        raise ValidationFailed(
            N_("the schedule must end on or after its first day"), field="ends_on"
        )
    before = entry.ends_on.isoformat() if entry.ends_on else None
    entry.ends_on = ends_on
    audit.record(
        uow,
        actor=actor,
        action="schedule.ended",
        entity_type="schedule",
        entity_id=entry.id,
        details={"before": before, "ends_on": ends_on.isoformat()},
    )
    await _commit(uow)
    return entry


async def delete_schedule_entry(uow: UnitOfWork, *, actor: Actor, entry_id: int) -> None:
    actor.require(Permission.SHIFTS_MANAGE)
    entry = await _get_entry(uow, entry_id)
    details = _entry_snapshot(entry)
    await uow.session.delete(entry)
    audit.record(
        uow,
        actor=actor,
        action="schedule.deleted",
        entity_type="schedule",
        entity_id=entry_id,
        details=details,
    )
    await _commit(uow)


# Floor views: who is on shift, where the rota has gaps -----------------------------------


@dataclass(frozen=True, kw_only=True)
class OnShift:
    agent_id: int
    agent_name: str
    languages: list[str]
    team_ids: list[int]
    shift_id: int
    shift_name: str
    started_at: datetime
    ends_at: datetime


async def _schedules_between(
    uow: UnitOfWork, *, start: datetime, end: datetime
) -> list[tuple[AgentShift, ShiftRow, Agent]]:
    """Entries of active agents that can have working time in [start, end) (a night shift
    begun the day before counts)."""
    first_day = start.date() - timedelta(days=2)
    last_day = end.date() + timedelta(days=1)
    query = (
        select(AgentShift, ShiftRow, Agent)
        .join(ShiftRow, ShiftRow.id == AgentShift.shift_id)
        .join(Agent, Agent.id == AgentShift.agent_id)
        .where(
            Agent.is_active.is_(True),
            AgentShift.starts_on <= last_day,
            or_(AgentShift.ends_on.is_(None), AgentShift.ends_on >= first_day),
        )
        .order_by(Agent.name, Agent.id, ShiftRow.start_minute)
    )
    return [
        (entry, shift, agent) for entry, shift, agent in (await uow.session.execute(query)).all()
    ]


async def _team_ids_by_agent(uow: UnitOfWork, agent_ids: Sequence[int]) -> dict[int, list[int]]:
    if not agent_ids:
        return {}
    rows = await uow.session.execute(
        select(AgentTeam.agent_id, AgentTeam.team_id)
        .where(AgentTeam.agent_id.in_(set(agent_ids)))
        .order_by(AgentTeam.team_id)
    )
    found: dict[int, list[int]] = {}
    for agent_id, team_id in rows:
        found.setdefault(int(agent_id), []).append(int(team_id))
    return found


def _scheduled(entry: AgentShift, shift: ShiftRow) -> ScheduledShift:
    return ScheduledShift(
        agent_id=entry.agent_id,
        pattern=routing.shift_pattern(shift),
        starts_on=entry.starts_on,
        ends_on=entry.ends_on,
    )


async def who_is_on_shift(
    uow: UnitOfWork, *, actor: Actor, now: datetime | None = None
) -> list[OnShift]:
    """Agents whose schedule has them working at `now` (default: the clock's now), with the
    shift and when it ends. Agents without any schedule are not listed."""
    actor.require(Permission.FLOOR_READ)
    moment = (now or uow.clock.now()).astimezone(UTC)
    rows = await _schedules_between(uow, start=moment, end=moment)
    teams = await _team_ids_by_agent(uow, [agent.id for _, _, agent in rows])
    found: list[OnShift] = []
    for entry, shift, agent in rows:
        for begins, ends in _scheduled(entry, shift).periods(
            start=moment, end=moment + timedelta(microseconds=1)
        ):
            found.append(
                OnShift(
                    agent_id=agent.id,
                    agent_name=agent.name,
                    languages=list(agent.languages),
                    team_ids=teams.get(agent.id, []),
                    shift_id=shift.id,
                    shift_name=shift.name,
                    started_at=begins,
                    ends_at=ends,
                )
            )
            break
    return found


@dataclass(frozen=True, kw_only=True)
class CoverageHour:
    starts_at: datetime
    missing_languages: list[str] = field(default_factory=list)
    missing_team_ids: list[int] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return not self.missing_languages and not self.missing_team_ids


@dataclass(frozen=True, kw_only=True)
class Coverage:
    starts_at: datetime
    hours: list[CoverageHour]
    languages: list[str]
    teams: dict[int, str]  # team id -> name, every team checked

    @property
    def gaps(self) -> list[CoverageHour]:
        return [hour for hour in self.hours if not hour.covered]


async def coverage(
    uow: UnitOfWork,
    *,
    actor: Actor,
    languages: Sequence[str],
    start: datetime | None = None,
    days: int = 7,
) -> Coverage:
    """Each hour from `start` (default: now; floored to the hour) for `days` days, with the
    languages and teams that no scheduled agent covers for the whole hour."""
    actor.require(Permission.FLOOR_READ)
    if not 1 <= days <= MAX_COVERAGE_DAYS:
        raise ValidationFailed(N_("coverage is shown for 1 to 14 days"), field="days")
    if start is not None and start.utcoffset() is None:
        raise ValidationFailed(N_("give the start with its time zone"), field="start")
    origin = (start or uow.clock.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = origin + timedelta(days=days)
    rows = await _schedules_between(uow, start=origin, end=end)
    teams = {
        int(team_id): str(name)
        for team_id, name in await uow.session.execute(
            select(Team.id, Team.name).order_by(Team.name)
        )
    }
    agents = {agent.id: agent for _, _, agent in rows}
    team_ids = await _team_ids_by_agent(uow, list(agents))
    gaps = coverage_gaps(
        schedules=[_scheduled(entry, shift) for entry, shift, _ in rows],
        staff=[
            StaffMember(
                agent_id=agent.id,
                languages=frozenset(agent.languages),
                team_ids=frozenset(team_ids.get(agent.id, [])),
            )
            for agent in agents.values()
        ],
        languages=list(languages),
        team_ids=list(teams),
        start=origin,
        hours=days * 24,
    )
    missing: dict[datetime, tuple[list[str], list[int]]] = {}
    for gap in gaps:
        languages_missing, teams_missing = missing.setdefault(gap.starts_at, ([], []))
        kind, _, value = gap.group.partition(":")
        if kind == "language":
            languages_missing.append(value)
        else:
            teams_missing.append(int(value))
    hours = []
    for index in range(days * 24):
        at = origin + timedelta(hours=index)
        languages_missing, teams_missing = missing.get(at, ([], []))
        hours.append(
            CoverageHour(
                starts_at=at, missing_languages=languages_missing, missing_team_ids=teams_missing
            )
        )
    return Coverage(starts_at=origin, hours=hours, languages=list(languages), teams=teams)


# The standard floor --------------------------------------------------------------------------


@dataclass(frozen=True)
class _StandardTeam:
    name: str
    description: str
    purpose: TeamPurpose | None
    topic: str | None


STANDARD_TEAMS: tuple[_StandardTeam, ...] = (
    _StandardTeam("Payments", "Deposits, withdrawals and payment methods", None, "payments"),
    _StandardTeam("Verification/KYC", "Identity and document checks", None, "verification"),
    _StandardTeam("Bonuses", "Bonuses, free spins and wagering", None, "bonuses"),
    _StandardTeam("Technical", "Games, the site and the apps", None, "technical"),
    _StandardTeam("VIP", "VIP players", TeamPurpose.VIP, "vip"),
    _StandardTeam(
        "Responsible Gambling",
        "Limits, self-exclusion and risk signals",
        TeamPurpose.RESPONSIBLE_GAMBLING,
        "responsible_gambling",
    ),
    _StandardTeam("Complaints", "Formal complaints", None, "complaints"),
    _StandardTeam("General", "Everything else", TeamPurpose.GENERAL, "general"),
    _StandardTeam("Senior", "Escalations", TeamPurpose.SENIOR, None),
)

COMPLEX_TOPICS: tuple[str, ...] = ("complaints", "payments", "verification")


@dataclass(frozen=True, kw_only=True)
class FloorInstalled:
    teams_created: list[str]
    purposes_set: list[str]
    routing_rules_created: int
    sla_policies_created: int
    escalation_rules_created: int

    @property
    def changed(self) -> bool:
        return bool(
            self.teams_created
            or self.purposes_set
            or self.routing_rules_created
            or self.sla_policies_created
            or self.escalation_rules_created
        )


def _default_escalations(senior_team_exists: bool) -> list[EscalationRuleInput]:
    return [
        EscalationRuleInput(
            name="First response breached",
            trigger=EscalationTrigger.SLA_BREACH.value,
            metric=SlaMetric.FIRST_RESPONSE.value,
            raise_priority=True,
            notify_supervisors=True,
        ),
        EscalationRuleInput(
            name="SLA warning",
            trigger=EscalationTrigger.SLA_WARNING.value,
            raise_priority=False,
            notify_supervisors=True,
        ),
        EscalationRuleInput(
            name="Complex topic unresolved for an hour",
            trigger=EscalationTrigger.UNRESOLVED.value,
            topics=COMPLEX_TOPICS,
            after_minutes=DEFAULT_UNRESOLVED_MINUTES,
            raise_priority=True,
            move_to_senior=senior_team_exists,
            notify_supervisors=True,
        ),
    ]


async def install_standard_floor(uow: UnitOfWork, *, actor: Actor) -> FloorInstalled:
    """The teams of a casino support floor, one routing rule per standard topic, the default
    SLA policies and escalation rules. Idempotent: what exists (a team of the same name, a
    rule for the topic, any SLA policy, any escalation rule) is kept as it is."""
    actor.require(Permission.ROUTING_MANAGE)
    now = uow.clock.now()
    existing = {team.name: team for team in (await uow.session.scalars(select(Team))).all()}
    taken = {team.purpose for team in existing.values() if team.purpose}
    created: list[str] = []
    new_teams: list[Team] = []
    purposes: list[str] = []
    by_topic: dict[str, Team] = {}
    for spec in STANDARD_TEAMS:
        team = existing.get(spec.name)
        if team is None:
            team = Team(name=spec.name, description=spec.description, created_at=now)
            uow.session.add(team)
            created.append(spec.name)
            new_teams.append(team)
        if spec.purpose is not None and spec.purpose.value not in taken and team.purpose is None:
            team.purpose = spec.purpose.value
            taken.add(spec.purpose.value)
            purposes.append(f"{spec.name}:{spec.purpose.value}")
        if spec.topic is not None:
            by_topic[spec.topic] = team
    await uow.session.flush()
    for team in new_teams:
        audit.record(
            uow,
            actor=actor,
            action="team.created",
            entity_type="team",
            entity_id=team.id,
            details={"name": team.name},
        )

    rules = await _ordered_rules(uow)
    routed = {rule.topic for rule in rules}
    position = max((rule.position for rule in rules), default=0)
    rules_created = 0
    for topic in STANDARD_TOPICS:
        if topic in routed or topic not in by_topic:
            continue
        position += 1
        uow.session.add(
            RoutingRuleRow(
                position=position,
                name=by_topic[topic].name,
                topic=topic,
                language=None,
                channel=None,
                vip=VipMatch.ANY.value,
                team_id=by_topic[topic].id,
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
        rules_created += 1

    policies_created = 0
    if await uow.session.scalar(select(SlaPolicyRow.id).limit(1)) is None:
        for position, rule in enumerate(default_policy_rules(), start=1):
            uow.session.add(
                SlaPolicyRow(
                    position=position,
                    name=rule.name,
                    channels=sorted(channel.value for channel in rule.conditions.channels),
                    priorities=sorted(value.value for value in rule.conditions.priorities),
                    vip=rule.conditions.vip.value,
                    vip_tiers=sorted(rule.conditions.vip_tiers),
                    team_ids=sorted(rule.conditions.team_ids),
                    first_response_minutes=_whole_minutes(rule.targets.first_response),
                    next_response_minutes=_whole_minutes(rule.targets.next_response),
                    resolution_minutes=_whole_minutes(rule.targets.resolution),
                    warning_percent=round(rule.warning_ratio * 100),
                    is_active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            policies_created += 1

    escalations_created = 0
    if await uow.session.scalar(select(EscalationRuleRow.id).limit(1)) is None:
        senior = await _senior_team_id(uow)
        defaults = _default_escalations(senior is not None)
        for position, escalation in enumerate(defaults, start=1):
            row = EscalationRuleRow(position=position, created_at=now, updated_at=now)
            await _apply_escalation(uow, row, escalation)
            uow.session.add(row)
            escalations_created += 1

    result = FloorInstalled(
        teams_created=created,
        purposes_set=purposes,
        routing_rules_created=rules_created,
        sla_policies_created=policies_created,
        escalation_rules_created=escalations_created,
    )
    if result.changed:
        audit.record(
            uow,
            actor=actor,
            action="routing.standard_floor_installed",
            entity_type="routing",
            entity_id=None,
            details={
                "teams_created": created,
                "purposes_set": purposes,
                "routing_rules_created": rules_created,
                "sla_policies_created": policies_created,
                "escalation_rules_created": escalations_created,
            },
        )
    await _commit(uow)
    return result


def _whole_minutes(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


__all__ = [
    "UNCHANGED",
    "CalendarInput",
    "Coverage",
    "CoverageHour",
    "EscalationRuleInput",
    "EscalationTrigger",
    "FloorInstalled",
    "OnShift",
    "RoutingRuleInput",
    "ShiftInput",
    "SlaPolicyInput",
    "Unchanged",
]
