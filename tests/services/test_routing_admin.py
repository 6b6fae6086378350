"""Administering routing, SLA policies, escalation, calendars and shifts: every refusal names
its field, every change is audited, roles are enforced, and the standard floor installs once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import delete, func, select

from playerdesk.db.models import (
    Agent,
    AgentTeam,
    AuditEntry,
    BusinessCalendarRow,
    EscalationRuleRow,
    RoutingRuleRow,
    SlaPolicyRow,
    Team,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import WorkingInterval
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from playerdesk.domain.permissions import Actor
from playerdesk.domain.routing import STANDARD_TOPICS, TeamPurpose
from playerdesk.domain.sla import default_policy_rules
from playerdesk.runtime import Runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import floor_config
from playerdesk.services import routing_admin as admin
from tests.conftest import AgentFactory

T = TypeVar("T")
LANGUAGES = ["en", "pl", "sv"]
TIERS = ["bronze", "silver", "gold", "platinum"]
SYSTEM = Actor.system()
WEEKDAYS_9_TO_17 = [
    WorkingInterval(weekday=day, start_minute=9 * 60, end_minute=17 * 60) for day in range(5)
]


@pytest.fixture(autouse=True)
async def no_shipped_configuration(runtime: Runtime) -> None:
    """The migration ships default SLA policies and escalation rules (the SQLite template
    keeps them, the PostgreSQL run truncates them): every test here starts from none."""
    async with runtime.uow() as uow:
        await uow.session.execute(delete(EscalationRuleRow))
        await uow.session.execute(delete(SlaPolicyRow))
        await uow.session.commit()


async def run(runtime: Runtime, call: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async with runtime.uow() as uow:
        return await call(uow)


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.uow() as uow:
        return list(
            (await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        )


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def make_team(runtime: Runtime, name: str) -> int:
    team = await run(runtime, lambda uow: agent_service.create_team(uow, actor=SYSTEM, name=name))
    return team.id


async def refused(
    runtime: Runtime,
    call: Callable[[UnitOfWork], Awaitable[object]],
    error: type[Exception] = ValidationFailed,
) -> str | None:
    async with runtime.uow() as uow:
        with pytest.raises(error) as caught:
            await call(uow)
    return getattr(caught.value, "field", None)


# Routing rules ------------------------------------------------------------------------------


async def test_routing_rules_are_created_updated_reordered_and_deleted_with_audit(
    runtime: Runtime,
) -> None:
    payments = await make_team(runtime, "Payments")
    general = await make_team(runtime, "General")

    first = await run(
        runtime,
        lambda uow: admin.create_routing_rule(
            uow,
            actor=SYSTEM,
            rule=admin.RoutingRuleInput(name="Payments", team_id=payments, topic=" Payments "),
            languages=LANGUAGES,
        ),
    )
    second = await run(
        runtime,
        lambda uow: admin.create_routing_rule(
            uow,
            actor=SYSTEM,
            rule=admin.RoutingRuleInput(
                name="Swedish email", team_id=general, language="sv", channel="email", vip="vip"
            ),
            languages=LANGUAGES,
        ),
    )
    assert (first.position, first.topic) == (1, "payments")
    assert (second.position, second.language, second.channel, second.vip) == (
        2,
        "sv",
        "email",
        "vip",
    )

    updated = await run(
        runtime,
        lambda uow: admin.update_routing_rule(
            uow,
            actor=SYSTEM,
            rule_id=first.id,
            rule=admin.RoutingRuleInput(
                name="Payments PL", team_id=payments, topic="payments", language="pl"
            ),
            languages=LANGUAGES,
        ),
    )
    assert (updated.name, updated.language) == ("Payments PL", "pl")

    await run(
        runtime,
        lambda uow: admin.reorder_routing_rules(uow, actor=SYSTEM, rule_ids=[second.id, first.id]),
    )
    rules = await run(runtime, lambda uow: admin.list_routing_rules(uow, actor=SYSTEM))
    assert [(rule.id, rule.position) for rule in rules] == [(second.id, 1), (first.id, 2)]

    await run(runtime, lambda uow: admin.delete_routing_rule(uow, actor=SYSTEM, rule_id=first.id))
    assert [
        rule.id
        for rule in await run(runtime, lambda uow: admin.list_routing_rules(uow, actor=SYSTEM))
    ] == [second.id]

    actions = await audit_actions(runtime)
    assert actions[-5:] == [
        "routing_rule.created",
        "routing_rule.created",
        "routing_rule.updated",
        "routing_rules.reordered",
        "routing_rule.deleted",
    ]
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "routing_rule.updated")
        )
        assert entry is not None
        assert entry.details["before"]["language"] is None
        assert entry.details["after"]["language"] == "pl"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"team_id": 999_999}, "team_id"),
        ({"topic": "Payments & more"}, "topic"),
        ({"language": "de"}, "language"),
        ({"channel": "pigeon"}, "channel"),
        ({"vip": "sometimes"}, "vip"),
    ],
)
async def test_a_bad_routing_rule_is_refused_with_its_field(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    team = await make_team(runtime, "General")
    rule = replace(admin.RoutingRuleInput(name="Rule", team_id=team, topic="bonuses"), **changes)

    assert (
        await refused(
            runtime,
            lambda uow: admin.create_routing_rule(
                uow, actor=SYSTEM, rule=rule, languages=LANGUAGES
            ),
        )
        == field
    )
    assert await count(runtime, RoutingRuleRow) == 0
    assert "routing_rule.created" not in await audit_actions(runtime)


async def test_a_rule_that_could_never_apply_is_refused_on_create_and_on_reorder(
    runtime: Runtime,
) -> None:
    team = await make_team(runtime, "General")
    broad = admin.RoutingRuleInput(name="All payments", team_id=team, topic="payments")
    narrow = admin.RoutingRuleInput(
        name="Polish payments", team_id=team, topic="payments", language="pl"
    )

    async def create(rule: admin.RoutingRuleInput) -> RoutingRuleRow:
        return await run(
            runtime,
            lambda uow: admin.create_routing_rule(
                uow, actor=SYSTEM, rule=rule, languages=LANGUAGES
            ),
        )

    await create(broad)
    assert (
        await refused(
            runtime,
            lambda uow: admin.create_routing_rule(
                uow, actor=SYSTEM, rule=narrow, languages=LANGUAGES
            ),
        )
        == "rules"
    )
    # Narrow first, then broad: fine. Turning that order round is refused.
    await run(runtime, lambda uow: admin.delete_routing_rule(uow, actor=SYSTEM, rule_id=1))
    narrow_row = await create(narrow)
    broad_row = await create(broad)
    assert (
        await refused(
            runtime,
            lambda uow: admin.reorder_routing_rules(
                uow, actor=SYSTEM, rule_ids=[broad_row.id, narrow_row.id]
            ),
        )
        == "rules"
    )
    # An inactive broad rule does not hide anything.
    await run(
        runtime,
        lambda uow: admin.update_routing_rule(
            uow,
            actor=SYSTEM,
            rule_id=broad_row.id,
            rule=replace(broad, is_active=False),
            languages=LANGUAGES,
        ),
    )
    await run(
        runtime,
        lambda uow: admin.reorder_routing_rules(
            uow, actor=SYSTEM, rule_ids=[broad_row.id, narrow_row.id]
        ),
    )


@pytest.mark.parametrize("ids", [[], [1], [1, 1, 2], [1, 2, 3]])
async def test_reorder_needs_every_id_exactly_once(runtime: Runtime, ids: list[int]) -> None:
    team = await make_team(runtime, "General")
    for topic in ("payments", "bonuses"):
        await run(
            runtime,
            lambda uow, topic=topic: admin.create_routing_rule(
                uow,
                actor=SYSTEM,
                rule=admin.RoutingRuleInput(name=topic, team_id=team, topic=topic),
                languages=LANGUAGES,
            ),
        )
    assert (
        await refused(
            runtime, lambda uow: admin.reorder_routing_rules(uow, actor=SYSTEM, rule_ids=ids)
        )
        == "ids"
    )


async def test_unknown_ids_are_not_found(runtime: Runtime) -> None:
    team = await make_team(runtime, "General")
    rule = admin.RoutingRuleInput(name="x", team_id=team)
    calls: list[Callable[[UnitOfWork], Awaitable[object]]] = [
        lambda uow: admin.update_routing_rule(
            uow, actor=SYSTEM, rule_id=42, rule=rule, languages=LANGUAGES
        ),
        lambda uow: admin.delete_routing_rule(uow, actor=SYSTEM, rule_id=42),
        lambda uow: admin.delete_sla_policy(uow, actor=SYSTEM, policy_id=42),
        lambda uow: admin.delete_escalation_rule(uow, actor=SYSTEM, rule_id=42),
        lambda uow: admin.delete_calendar(uow, actor=SYSTEM, calendar_id=42),
        lambda uow: admin.delete_shift(uow, actor=SYSTEM, shift_id=42),
        lambda uow: admin.delete_schedule_entry(uow, actor=SYSTEM, entry_id=42),
        lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=42, purpose=None),
    ]
    for call in calls:
        await refused(runtime, call, NotFound)


# Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "may_route", "may_schedule", "may_read"),
    [
        (AgentRole.AGENT, False, False, False),
        (AgentRole.SENIOR, False, False, False),
        (AgentRole.SUPERVISOR, False, True, True),
        (AgentRole.ADMIN, True, True, True),
    ],
)
async def test_roles(
    runtime: Runtime,
    make_agent: AgentFactory,
    role: AgentRole,
    may_route: bool,
    may_schedule: bool,
    may_read: bool,
) -> None:
    team = await make_team(runtime, "General")
    actor = (await make_agent(role)).actor

    async def attempt(call: Callable[[UnitOfWork], Awaitable[object]], allowed: bool) -> None:
        async with runtime.uow() as uow:
            if allowed:
                await call(uow)
            else:
                with pytest.raises(PermissionDenied):
                    await call(uow)

    await attempt(
        lambda uow: admin.create_routing_rule(
            uow,
            actor=actor,
            rule=admin.RoutingRuleInput(name="r", team_id=team),
            languages=LANGUAGES,
        ),
        may_route,
    )
    await attempt(
        lambda uow: admin.create_calendar(
            uow,
            actor=actor,
            calendar=admin.CalendarInput(name="c", time_zone="UTC", intervals=WEEKDAYS_9_TO_17),
        ),
        may_route,
    )
    await attempt(lambda uow: admin.install_standard_floor(uow, actor=actor), may_route)
    await attempt(
        lambda uow: admin.create_shift(
            uow,
            actor=actor,
            shift=admin.ShiftInput(name="Night", start_minute=1320, end_minute=360),
        ),
        may_schedule,
    )
    await attempt(lambda uow: admin.list_routing_rules(uow, actor=actor), may_read)
    await attempt(lambda uow: admin.who_is_on_shift(uow, actor=actor), may_read)
    await attempt(lambda uow: admin.coverage(uow, actor=actor, languages=LANGUAGES), may_read)


# SLA policies -------------------------------------------------------------------------------


def policy(**changes: Any) -> admin.SlaPolicyInput:
    base = admin.SlaPolicyInput(
        name="Live chat",
        channels=["web_chat"],
        first_response_minutes=5,
        next_response_minutes=5,
        resolution_minutes=30,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"next_response_minutes": -5}, "next_response_minutes"),
        ({"resolution_minutes": 91 * 24 * 60}, "resolution_minutes"),
        (
            {
                "first_response_minutes": None,
                "next_response_minutes": None,
                "resolution_minutes": None,
            },
            "targets",
        ),
        ({"warning_percent": 0}, "warning_percent"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"channels": ["web_chat", "fax"]}, "channels"),
        ({"priorities": ["critical"]}, "priorities"),
        ({"vip": "maybe"}, "vip"),
        ({"vip_tiers": ["diamond"]}, "vip_tiers"),
        ({"vip": "not_vip", "vip_tiers": ["gold"]}, "vip_tiers"),
        ({"team_ids": [987_654]}, "team_ids"),
        ({"name": ""}, "name"),
    ],
)
async def test_a_bad_sla_policy_is_refused_with_its_field(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    bad = policy(**changes)
    assert (
        await refused(
            runtime,
            lambda uow: admin.create_sla_policy(
                uow, actor=SYSTEM, policy=bad, known_vip_tiers=TIERS
            ),
        )
        == field
    )
    assert await count(runtime, SlaPolicyRow) == 0


async def test_sla_policies_first_match_order_is_kept_consistent(runtime: Runtime) -> None:
    team = await make_team(runtime, "VIP")

    async def create(item: admin.SlaPolicyInput) -> SlaPolicyRow:
        return await run(
            runtime,
            lambda uow: admin.create_sla_policy(
                uow, actor=SYSTEM, policy=item, known_vip_tiers=TIERS
            ),
        )

    vip = await create(
        policy(
            name="VIP chat",
            vip="vip",
            vip_tiers=["Gold"],
            team_ids=[team],
            first_response_minutes=1,
        )
    )
    chat = await create(policy())
    assert (vip.position, chat.position, vip.vip_tiers, vip.team_ids) == (1, 2, ["gold"], [team])

    # The same name twice, or a policy hidden below a broader one, is refused.
    assert (
        await refused(
            runtime,
            lambda uow: admin.create_sla_policy(
                uow, actor=SYSTEM, policy=policy(name="live CHAT"), known_vip_tiers=TIERS
            ),
        )
        == "name"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.create_sla_policy(
                uow,
                actor=SYSTEM,
                policy=policy(name="Urgent chat", priorities=["urgent"]),
                known_vip_tiers=TIERS,
            ),
        )
        == "rules"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.reorder_sla_policies(uow, actor=SYSTEM, policy_ids=[chat.id, vip.id]),
        )
        == "rules"
    )
    await run(
        runtime,
        lambda uow: admin.update_sla_policy(
            uow,
            actor=SYSTEM,
            policy_id=chat.id,
            policy=policy(warning_percent=50),
            known_vip_tiers=TIERS,
        ),
    )
    rows = await run(runtime, lambda uow: admin.list_sla_policies(uow, actor=SYSTEM))
    assert [(row.id, row.warning_percent) for row in rows] == [(vip.id, 80), (chat.id, 50)]
    actions = await audit_actions(runtime)
    assert actions.count("sla_policy.created") == 2 and actions.count("sla_policy.updated") == 1
    assert "sla_policies.reordered" not in actions


# Escalation rules ---------------------------------------------------------------------------


def escalation(**changes: Any) -> admin.EscalationRuleInput:
    return replace(
        admin.EscalationRuleInput(name="Breach", trigger="sla_breach", metric="first_response"),
        **changes,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger": "full_moon"}, "trigger"),
        ({"metric": "happiness"}, "metric"),
        ({"trigger": "unresolved", "metric": "resolution"}, "metric"),
        ({"after_minutes": 30}, "after_minutes"),
        ({"trigger": "unresolved", "metric": None, "after_minutes": 0}, "after_minutes"),
        ({"topics": ["Not a topic!"]}, "topics"),
        ({"move_to_team_id": 123_456}, "move_to_team_id"),
        ({"move_to_senior": True}, "move_to_senior"),  # no team is the Senior team yet
        (
            {"raise_priority": False, "notify_supervisors": False, "move_to_senior": False},
            "actions",
        ),
    ],
)
async def test_a_bad_escalation_rule_is_refused_with_its_field(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    bad = escalation(**changes)
    assert (
        await refused(
            runtime, lambda uow: admin.create_escalation_rule(uow, actor=SYSTEM, rule=bad)
        )
        == field
    )
    assert await count(runtime, EscalationRuleRow) == 0


async def test_escalation_to_senior_needs_and_then_keeps_the_senior_team(runtime: Runtime) -> None:
    senior = await make_team(runtime, "Senior")
    other = await make_team(runtime, "Complaints")
    await run(
        runtime,
        lambda uow: admin.set_team_routing(
            uow, actor=SYSTEM, team_id=senior, purpose=TeamPurpose.SENIOR
        ),
    )
    both = escalation(move_to_senior=True, move_to_team_id=other)
    assert await refused(
        runtime, lambda uow: admin.create_escalation_rule(uow, actor=SYSTEM, rule=both)
    ) == ("move_to_team_id")
    rule = await run(
        runtime,
        lambda uow: admin.create_escalation_rule(
            uow,
            actor=SYSTEM,
            rule=escalation(
                trigger="unresolved", metric=None, topics=["complaints"], move_to_senior=True
            ),
        ),
    )
    assert (rule.after_minutes, rule.topics, rule.move_to_senior) == (60, ["complaints"], True)

    # The Senior team cannot lose its purpose, nor another team take it, while rules use it.
    assert (
        await refused(
            runtime,
            lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=senior, purpose=None),
            Conflict,
        )
        == "purpose"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=other, purpose="senior"),
            Conflict,
        )
        == "purpose"
    )
    await run(runtime, lambda uow: admin.delete_escalation_rule(uow, actor=SYSTEM, rule_id=rule.id))
    team = await run(
        runtime, lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=senior, purpose=None)
    )
    assert team.purpose is None
    assert (await audit_actions(runtime))[-3:] == [
        "escalation_rule.created",
        "escalation_rule.deleted",
        "team.routing_changed",
    ]


# Calendars and teams ------------------------------------------------------------------------


def calendar(**changes: Any) -> admin.CalendarInput:
    return replace(
        admin.CalendarInput(
            name="Warsaw office",
            time_zone="Europe/Warsaw",
            intervals=WEEKDAYS_9_TO_17,
            holidays=[date(2026, 12, 25)],
        ),
        **changes,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"intervals": []}, "intervals"),  # no working time at all
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "Europe"}, "time_zone"),
        (
            {
                "intervals": [
                    WorkingInterval(weekday=0, start_minute=540, end_minute=780),
                    WorkingInterval(weekday=0, start_minute=720, end_minute=1020),
                ]
            },
            "intervals",
        ),
        (
            {"intervals": [WorkingInterval(weekday=0, start_minute=600, end_minute=600)]},
            "intervals",
        ),
        ({"intervals": [WorkingInterval(weekday=7, start_minute=0, end_minute=60)]}, "intervals"),
        ({"intervals": [WorkingInterval(weekday=0, start_minute=0, end_minute=1441)]}, "intervals"),
        (
            # Open only on Mondays, and every Monday for more than a year is a holiday.
            {
                "intervals": [WorkingInterval(weekday=0, start_minute=540, end_minute=1020)],
                "holidays": [
                    date.fromordinal(date(2026, 1, 5).toordinal() + 7 * week) for week in range(60)
                ],
            },
            "holidays",
        ),
        ({"name": " "}, "name"),
    ],
)
async def test_an_impossible_calendar_is_refused_with_its_field(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    bad = calendar(**changes)
    assert (
        await refused(runtime, lambda uow: admin.create_calendar(uow, actor=SYSTEM, calendar=bad))
        == field
    )
    assert await count(runtime, BusinessCalendarRow) == 0


async def test_calendars_are_stored_assigned_to_teams_and_kept_while_in_use(
    runtime: Runtime,
) -> None:
    team = await make_team(runtime, "Payments")
    unsorted = [
        *reversed(WEEKDAYS_9_TO_17),
        WorkingInterval(weekday=5, start_minute=600, end_minute=840),
    ]
    row = await run(
        runtime,
        lambda uow: admin.create_calendar(uow, actor=SYSTEM, calendar=calendar(intervals=unsorted)),
    )
    assert row.intervals[0] == [0, 540, 1020] and row.intervals[-1] == [5, 600, 840]
    assert row.holidays == ["2026-12-25"]
    domain = floor_config.calendar_of(row)
    assert domain.is_open(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))  # Monday 11:00 in Warsaw
    assert not domain.is_open(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))

    assert (
        await refused(
            runtime,
            lambda uow: admin.create_calendar(uow, actor=SYSTEM, calendar=calendar()),
            Conflict,
        )
        == "name"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=team, calendar_id=999),
        )
        == "calendar_id"
    )
    updated = await run(
        runtime,
        lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=team, calendar_id=row.id),
    )
    assert (updated.calendar_id, updated.purpose) == (row.id, None)  # purpose left as it was

    assert (
        await refused(
            runtime,
            lambda uow: admin.delete_calendar(uow, actor=SYSTEM, calendar_id=row.id),
            Conflict,
        )
        == "calendar_id"
    )
    await run(
        runtime,
        lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=team, calendar_id=None),
    )
    await run(runtime, lambda uow: admin.delete_calendar(uow, actor=SYSTEM, calendar_id=row.id))
    assert await count(runtime, BusinessCalendarRow) == 0
    assert (await audit_actions(runtime))[-4:] == [
        "calendar.created",
        "team.routing_changed",
        "team.routing_changed",
        "calendar.deleted",
    ]


async def test_one_team_per_purpose_and_a_known_purpose(runtime: Runtime) -> None:
    first = await make_team(runtime, "General")
    second = await make_team(runtime, "Other")
    await run(
        runtime,
        lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=first, purpose="general"),
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.set_team_routing(
                uow, actor=SYSTEM, team_id=second, purpose="general"
            ),
            Conflict,
        )
        == "purpose"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.set_team_routing(uow, actor=SYSTEM, team_id=second, purpose="boss"),
        )
        == "purpose"
    )


# Shifts, schedules, on duty and coverage ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_minute": 600, "end_minute": 600}, "end"),
        ({"start_minute": 1440}, "start"),
        ({"end_minute": -1}, "end"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [0, 9]}, "weekdays"),
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"name": ""}, "name"),
    ],
)
async def test_a_bad_shift_is_refused_with_its_field(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    bad = replace(admin.ShiftInput(name="Day", start_minute=360, end_minute=840), **changes)
    assert (
        await refused(runtime, lambda uow: admin.create_shift(uow, actor=SYSTEM, shift=bad))
        == field
    )


async def test_schedules_on_duty_and_coverage(runtime: Runtime, make_agent: AgentFactory) -> None:
    # The frozen clock: Monday 2026-11-02 09:00 UTC.
    payments = await make_team(runtime, "Payments")
    vip = await make_team(runtime, "VIP")
    anna = await make_agent(AgentRole.AGENT, languages=["en", "pl"])
    bo = await make_agent(AgentRole.AGENT, languages=["sv"])
    async with runtime.uow() as uow:
        uow.session.add(AgentTeam(agent_id=anna.id, team_id=payments))
        await uow.commit()

    async def shift(name: str, start: int, end: int) -> int:
        row = await run(
            runtime,
            lambda uow: admin.create_shift(
                uow,
                actor=SYSTEM,
                shift=admin.ShiftInput(name=name, start_minute=start, end_minute=end),
            ),
        )
        return row.id

    early = await shift("Early", 6 * 60, 14 * 60)
    late = await shift("Late", 14 * 60, 22 * 60)
    night = await shift("Night", 22 * 60, 6 * 60)

    async def schedule(
        agent_id: int, shift_id: int, starts_on: date, ends_on: date | None = None
    ) -> int:
        entry = await run(
            runtime,
            lambda uow: admin.add_schedule_entry(
                uow,
                actor=SYSTEM,
                agent_id=agent_id,
                shift_id=shift_id,
                starts_on=starts_on,
                ends_on=ends_on,
            ),
        )
        return entry.id

    anna_early = await schedule(anna.id, early, date(2026, 11, 1))
    await schedule(bo.id, night, date(2026, 11, 1), date(2026, 11, 3))

    # Refusals: the same shift twice for overlapping days, an end before the start,
    # unknown agent or shift, and deleting a shift someone works.
    assert (
        await refused(
            runtime,
            lambda uow: admin.add_schedule_entry(
                uow, actor=SYSTEM, agent_id=anna.id, shift_id=early, starts_on=date(2026, 12, 1)
            ),
            Conflict,
        )
        == "starts_on"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.add_schedule_entry(
                uow,
                actor=SYSTEM,
                agent_id=anna.id,
                shift_id=late,
                starts_on=date(2026, 11, 5),
                ends_on=date(2026, 11, 4),
            ),
        )
        == "ends_on"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.add_schedule_entry(
                uow, actor=SYSTEM, agent_id=99_999, shift_id=late, starts_on=date(2026, 11, 5)
            ),
        )
        == "agent_id"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.add_schedule_entry(
                uow, actor=SYSTEM, agent_id=anna.id, shift_id=99_999, starts_on=date(2026, 11, 5)
            ),
        )
        == "shift_id"
    )
    assert await refused(
        runtime, lambda uow: admin.delete_shift(uow, actor=SYSTEM, shift_id=early), Conflict
    ) == ("shift_id")

    on_duty = await run(runtime, lambda uow: admin.who_is_on_shift(uow, actor=SYSTEM))
    assert [(item.agent_id, item.shift_name, item.team_ids) for item in on_duty] == [
        (anna.id, "Early", [payments])
    ]
    assert on_duty[0].ends_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    at_night = await run(
        runtime,
        lambda uow: admin.who_is_on_shift(
            uow, actor=SYSTEM, now=datetime(2026, 11, 3, 2, 30, tzinfo=UTC)
        ),
    )
    assert [(item.agent_id, item.shift_name) for item in at_night] == [(bo.id, "Night")]

    result = await run(
        runtime,
        lambda uow: admin.coverage(
            uow,
            actor=SYSTEM,
            languages=LANGUAGES,
            start=datetime(2026, 11, 2, 0, 30, tzinfo=UTC),
            days=2,
        ),
    )
    assert result.starts_at == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert len(result.hours) == 48
    by_hour = {hour.starts_at.hour + 24 * (hour.starts_at.day - 2): hour for hour in result.hours}
    # 03:00 Monday: Bo (sv, no team) on the night shift.
    assert by_hour[3].missing_languages == ["en", "pl"]
    assert by_hour[3].missing_team_ids == [payments, vip]
    # 10:00 Monday: Anna (en, pl, Payments) on the early shift.
    assert (by_hour[10].missing_languages, by_hour[10].missing_team_ids) == (["sv"], [vip])
    # 15:00: nobody on the late shift.
    assert by_hour[15].missing_languages == LANGUAGES
    assert set(result.teams) == {payments, vip}
    assert not any(hour.covered for hour in result.hours)  # the VIP team has nobody

    await run(
        runtime,
        lambda uow: admin.end_schedule_entry(
            uow, actor=SYSTEM, entry_id=anna_early, ends_on=date(2026, 11, 1)
        ),
    )
    assert await run(runtime, lambda uow: admin.who_is_on_shift(uow, actor=SYSTEM)) == []
    assert (
        await refused(
            runtime,
            lambda uow: admin.end_schedule_entry(
                uow, actor=SYSTEM, entry_id=anna_early, ends_on=date(2026, 10, 1)
            ),
        )
        == "ends_on"
    )
    await run(
        runtime, lambda uow: admin.delete_schedule_entry(uow, actor=SYSTEM, entry_id=anna_early)
    )
    entries = await run(
        runtime, lambda uow: admin.list_schedule_entries(uow, actor=SYSTEM, agent_id=anna.id)
    )
    assert entries == []
    actions = await audit_actions(runtime)
    assert actions.count("shift.created") == 3
    assert actions[-3:] == ["schedule.added", "schedule.ended", "schedule.deleted"]

    assert (
        await refused(
            runtime, lambda uow: admin.coverage(uow, actor=SYSTEM, languages=LANGUAGES, days=15)
        )
        == "days"
    )
    assert (
        await refused(
            runtime,
            lambda uow: admin.coverage(
                uow, actor=SYSTEM, languages=LANGUAGES, start=datetime(2026, 11, 2)
            ),
        )
        == "start"
    )


# The standard floor -------------------------------------------------------------------------


async def test_install_standard_floor_is_complete_and_idempotent(runtime: Runtime) -> None:
    # A team the operator already has keeps its id and gains its purpose.
    existing = await make_team(runtime, "General")

    first = await run(runtime, lambda uow: admin.install_standard_floor(uow, actor=SYSTEM))
    assert "General" not in first.teams_created and len(first.teams_created) == 8
    assert first.routing_rules_created == len(STANDARD_TOPICS)
    assert first.sla_policies_created == len(default_policy_rules())
    assert first.escalation_rules_created == 3

    async with runtime.uow() as uow:
        teams = {team.name: team for team in (await uow.session.scalars(select(Team))).all()}
        rules = list(
            (
                await uow.session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position))
            ).all()
        )
        escalations = list(
            (
                await uow.session.scalars(
                    select(EscalationRuleRow).order_by(EscalationRuleRow.position)
                )
            ).all()
        )
    assert teams["General"].id == existing
    assert {name: team.purpose for name, team in teams.items() if team.purpose} == {
        "General": "general",
        "VIP": "vip",
        "Senior": "senior",
        "Responsible Gambling": "responsible_gambling",
    }
    assert [rule.topic for rule in rules] == list(STANDARD_TOPICS)
    assert {rule.topic: rule.team_id for rule in rules}["verification"] == teams[
        "Verification/KYC"
    ].id
    assert [(rule.trigger, rule.metric) for rule in escalations] == [
        ("sla_breach", "first_response"),
        ("sla_warning", None),
        ("unresolved", None),
    ]
    unresolved = escalations[2]
    assert (unresolved.after_minutes, unresolved.move_to_senior, unresolved.raise_priority) == (
        60,
        True,
        True,
    )
    assert sorted(unresolved.topics) == ["complaints", "payments", "verification"]
    assert escalations[1].raise_priority is False and escalations[1].notify_supervisors

    audit_before = await audit_actions(runtime)
    assert audit_before.count("team.created") == 9  # the existing one and eight new
    assert audit_before[-1] == "routing.standard_floor_installed"

    second = await run(runtime, lambda uow: admin.install_standard_floor(uow, actor=SYSTEM))
    assert not second.changed
    assert await count(runtime, Team) == 9
    assert await count(runtime, RoutingRuleRow) == len(STANDARD_TOPICS)
    assert await count(runtime, SlaPolicyRow) == len(default_policy_rules())
    assert await count(runtime, EscalationRuleRow) == 3
    assert await audit_actions(runtime) == audit_before


# Deleting a team --------------------------------------------------------------------------------


async def test_a_team_in_use_is_kept_and_says_why_then_deleted_when_free(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    bonuses = await make_team(runtime, "Bonuses")
    member = await make_agent(AgentRole.AGENT, team_ids=[bonuses])
    rule = await run(
        runtime,
        lambda uow: admin.create_routing_rule(
            uow,
            actor=SYSTEM,
            rule=admin.RoutingRuleInput(name="Bonus questions", team_id=bonuses, topic="bonuses"),
            languages=LANGUAGES,
        ),
    )
    policy = await run(
        runtime,
        lambda uow: admin.create_sla_policy(
            uow,
            actor=SYSTEM,
            policy=admin.SlaPolicyInput(
                name="Bonus chats", team_ids=[bonuses], first_response_minutes=10
            ),
            known_vip_tiers=TIERS,
        ),
    )

    async with runtime.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await agent_service.delete_team(uow, actor=SYSTEM, team_id=bonuses)
    assert caught.value.field == "team_id"
    assert "Bonus questions" in caught.value.detail
    assert "Bonus chats" in caught.value.detail

    await run(runtime, lambda uow: admin.delete_routing_rule(uow, actor=SYSTEM, rule_id=rule.id))
    await run(runtime, lambda uow: admin.delete_sla_policy(uow, actor=SYSTEM, policy_id=policy.id))
    await run(runtime, lambda uow: agent_service.delete_team(uow, actor=SYSTEM, team_id=bonuses))

    async with runtime.uow() as uow:
        assert await uow.session.get(Team, bonuses) is None
        still_there = await uow.session.get(Agent, member.id)
        assert still_there is not None and still_there.is_active
    assert "team.deleted" in await audit_actions(runtime)
    assert (
        await refused(
            runtime,
            lambda uow: agent_service.delete_team(uow, actor=SYSTEM, team_id=bonuses),
            NotFound,
        )
        == "team_id"
    )


async def test_a_team_with_a_role_or_open_conversations_is_kept(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    general = await make_team(runtime, "General")
    await run(
        runtime,
        lambda uow: admin.set_team_routing(
            uow, actor=SYSTEM, team_id=general, purpose=TeamPurpose.GENERAL.value
        ),
    )
    async with runtime.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await agent_service.delete_team(uow, actor=SYSTEM, team_id=general)
    assert "general team" in caught.value.detail

    agent = await make_agent(AgentRole.AGENT)
    assert (
        await refused(
            runtime,
            lambda uow: agent_service.delete_team(uow, actor=agent.actor, team_id=general),
            PermissionDenied,
        )
        is None
    )
