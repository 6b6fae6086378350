"""Routing rules, SLA policies, escalation rules, calendars, team routing, shifts, schedules
and the coverage of the coming week."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from playerdesk.domain.calendar import WorkingInterval
from playerdesk.services import routing_admin as service
from playerdesk.web.deps import MAX_ID, CurrentActor, IdPath, RuntimeDep, UowDep
from playerdesk.web.schemas.routing_admin import (
    CalendarIn,
    CalendarOut,
    CoverageOut,
    EscalationRuleIn,
    EscalationRuleOut,
    OnShiftOut,
    ReorderIn,
    RoutingRuleIn,
    RoutingRuleOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ShiftIn,
    ShiftOut,
    SlaPolicyIn,
    SlaPolicyOut,
    TeamRoutingOut,
    TeamRoutingPatch,
    to_minutes,
)

router = APIRouter(tags=["routing, SLA and shifts"])

NO_CONTENT = status.HTTP_204_NO_CONTENT


def _rule(body: RoutingRuleIn) -> service.RoutingRuleInput:
    return service.RoutingRuleInput(**body.model_dump())


def _policy(body: SlaPolicyIn) -> service.SlaPolicyInput:
    return service.SlaPolicyInput(**body.model_dump())


def _escalation(body: EscalationRuleIn) -> service.EscalationRuleInput:
    return service.EscalationRuleInput(**body.model_dump())


def _calendar(body: CalendarIn) -> service.CalendarInput:
    return service.CalendarInput(
        name=body.name,
        time_zone=body.time_zone,
        intervals=[
            WorkingInterval(
                weekday=interval.weekday,
                start_minute=to_minutes(interval.start),
                end_minute=to_minutes(interval.end),
            )
            for interval in body.intervals
        ],
        holidays=body.holidays,
    )


def _shift(body: ShiftIn) -> service.ShiftInput:
    return service.ShiftInput(
        name=body.name,
        start_minute=to_minutes(body.start),
        end_minute=to_minutes(body.end),
        weekdays=body.weekdays,
        time_zone=body.time_zone,
    )


# Routing rules ------------------------------------------------------------------------------


@router.get("/routing-rules")
async def list_routing_rules(uow: UowDep, actor: CurrentActor) -> list[RoutingRuleOut]:
    return [RoutingRuleOut.of(row) for row in await service.list_routing_rules(uow, actor=actor)]


@router.post("/routing-rules", status_code=status.HTTP_201_CREATED)
async def create_routing_rule(
    body: RoutingRuleIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> RoutingRuleOut:
    row = await service.create_routing_rule(
        uow, actor=actor, rule=_rule(body), languages=runtime.policies.players.languages
    )
    return RoutingRuleOut.of(row)


@router.post("/routing-rules/reorder")
async def reorder_routing_rules(
    body: ReorderIn, uow: UowDep, actor: CurrentActor
) -> list[RoutingRuleOut]:
    rows = await service.reorder_routing_rules(uow, actor=actor, rule_ids=body.ids)
    return [RoutingRuleOut.of(row) for row in rows]


@router.put("/routing-rules/{rule_id}")
async def update_routing_rule(
    rule_id: IdPath, body: RoutingRuleIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> RoutingRuleOut:
    row = await service.update_routing_rule(
        uow,
        actor=actor,
        rule_id=rule_id,
        rule=_rule(body),
        languages=runtime.policies.players.languages,
    )
    return RoutingRuleOut.of(row)


@router.delete("/routing-rules/{rule_id}", status_code=NO_CONTENT)
async def delete_routing_rule(rule_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_routing_rule(uow, actor=actor, rule_id=rule_id)
    return Response(status_code=NO_CONTENT)


# SLA policies -------------------------------------------------------------------------------


@router.get("/sla-policies")
async def list_sla_policies(uow: UowDep, actor: CurrentActor) -> list[SlaPolicyOut]:
    return [SlaPolicyOut.of(row) for row in await service.list_sla_policies(uow, actor=actor)]


@router.post("/sla-policies", status_code=status.HTTP_201_CREATED)
async def create_sla_policy(
    body: SlaPolicyIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> SlaPolicyOut:
    row = await service.create_sla_policy(
        uow,
        actor=actor,
        policy=_policy(body),
        known_vip_tiers=runtime.policies.players.vip_tiers,
    )
    return SlaPolicyOut.of(row)


@router.post("/sla-policies/reorder")
async def reorder_sla_policies(
    body: ReorderIn, uow: UowDep, actor: CurrentActor
) -> list[SlaPolicyOut]:
    rows = await service.reorder_sla_policies(uow, actor=actor, policy_ids=body.ids)
    return [SlaPolicyOut.of(row) for row in rows]


@router.put("/sla-policies/{policy_id}")
async def update_sla_policy(
    policy_id: IdPath, body: SlaPolicyIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> SlaPolicyOut:
    row = await service.update_sla_policy(
        uow,
        actor=actor,
        policy_id=policy_id,
        policy=_policy(body),
        known_vip_tiers=runtime.policies.players.vip_tiers,
    )
    return SlaPolicyOut.of(row)


@router.delete("/sla-policies/{policy_id}", status_code=NO_CONTENT)
async def delete_sla_policy(policy_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_sla_policy(uow, actor=actor, policy_id=policy_id)
    return Response(status_code=NO_CONTENT)


# Escalation rules ---------------------------------------------------------------------------


@router.get("/escalation-rules")
async def list_escalation_rules(uow: UowDep, actor: CurrentActor) -> list[EscalationRuleOut]:
    rows = await service.list_escalation_rules(uow, actor=actor)
    return [EscalationRuleOut.of(row) for row in rows]


@router.post("/escalation-rules", status_code=status.HTTP_201_CREATED)
async def create_escalation_rule(
    body: EscalationRuleIn, uow: UowDep, actor: CurrentActor
) -> EscalationRuleOut:
    row = await service.create_escalation_rule(uow, actor=actor, rule=_escalation(body))
    return EscalationRuleOut.of(row)


@router.post("/escalation-rules/reorder")
async def reorder_escalation_rules(
    body: ReorderIn, uow: UowDep, actor: CurrentActor
) -> list[EscalationRuleOut]:
    rows = await service.reorder_escalation_rules(uow, actor=actor, rule_ids=body.ids)
    return [EscalationRuleOut.of(row) for row in rows]


@router.put("/escalation-rules/{rule_id}")
async def update_escalation_rule(
    rule_id: IdPath, body: EscalationRuleIn, uow: UowDep, actor: CurrentActor
) -> EscalationRuleOut:
    row = await service.update_escalation_rule(
        uow, actor=actor, rule_id=rule_id, rule=_escalation(body)
    )
    return EscalationRuleOut.of(row)


@router.delete("/escalation-rules/{rule_id}", status_code=NO_CONTENT)
async def delete_escalation_rule(rule_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_escalation_rule(uow, actor=actor, rule_id=rule_id)
    return Response(status_code=NO_CONTENT)


# Calendars ----------------------------------------------------------------------------------


@router.get("/calendars")
async def list_calendars(uow: UowDep, actor: CurrentActor) -> list[CalendarOut]:
    return [CalendarOut.of(row) for row in await service.list_calendars(uow, actor=actor)]


@router.post("/calendars", status_code=status.HTTP_201_CREATED)
async def create_calendar(body: CalendarIn, uow: UowDep, actor: CurrentActor) -> CalendarOut:
    row = await service.create_calendar(uow, actor=actor, calendar=_calendar(body))
    return CalendarOut.of(row)


@router.get("/calendars/{calendar_id}")
async def get_calendar(calendar_id: IdPath, uow: UowDep, actor: CurrentActor) -> CalendarOut:
    row = await service.get_calendar(uow, actor=actor, calendar_id=calendar_id)
    return CalendarOut.of(row)


@router.put("/calendars/{calendar_id}")
async def update_calendar(
    calendar_id: IdPath, body: CalendarIn, uow: UowDep, actor: CurrentActor
) -> CalendarOut:
    row = await service.update_calendar(
        uow, actor=actor, calendar_id=calendar_id, calendar=_calendar(body)
    )
    return CalendarOut.of(row)


@router.delete("/calendars/{calendar_id}", status_code=NO_CONTENT)
async def delete_calendar(calendar_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_calendar(uow, actor=actor, calendar_id=calendar_id)
    return Response(status_code=NO_CONTENT)


# Teams --------------------------------------------------------------------------------------


@router.get("/teams/routing")
async def list_team_routing(uow: UowDep, actor: CurrentActor) -> list[TeamRoutingOut]:
    return [TeamRoutingOut.of(team) for team in await service.list_team_routing(uow, actor=actor)]


@router.patch("/teams/{team_id}/routing")
async def set_team_routing(
    team_id: IdPath, body: TeamRoutingPatch, uow: UowDep, actor: CurrentActor
) -> TeamRoutingOut:
    given = body.model_fields_set
    team = await service.set_team_routing(
        uow,
        actor=actor,
        team_id=team_id,
        purpose=body.purpose if "purpose" in given else service.UNCHANGED,
        calendar_id=body.calendar_id if "calendar_id" in given else service.UNCHANGED,
    )
    return TeamRoutingOut.of(team)


# Shifts and schedules -----------------------------------------------------------------------


@router.get("/shifts")
async def list_shifts(uow: UowDep, actor: CurrentActor) -> list[ShiftOut]:
    return [ShiftOut.of(row) for row in await service.list_shifts(uow, actor=actor)]


@router.get("/shifts/on-duty")
async def on_duty(uow: UowDep, actor: CurrentActor) -> list[OnShiftOut]:
    return [OnShiftOut.of(item) for item in await service.who_is_on_shift(uow, actor=actor)]


@router.post("/shifts", status_code=status.HTTP_201_CREATED)
async def create_shift(body: ShiftIn, uow: UowDep, actor: CurrentActor) -> ShiftOut:
    return ShiftOut.of(await service.create_shift(uow, actor=actor, shift=_shift(body)))


@router.put("/shifts/{shift_id}")
async def update_shift(
    shift_id: IdPath, body: ShiftIn, uow: UowDep, actor: CurrentActor
) -> ShiftOut:
    row = await service.update_shift(uow, actor=actor, shift_id=shift_id, shift=_shift(body))
    return ShiftOut.of(row)


@router.delete("/shifts/{shift_id}", status_code=NO_CONTENT)
async def delete_shift(shift_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_shift(uow, actor=actor, shift_id=shift_id)
    return Response(status_code=NO_CONTENT)


@router.get("/schedules")
async def list_schedules(
    uow: UowDep,
    actor: CurrentActor,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[ScheduleOut]:
    entries = await service.list_schedule_entries(uow, actor=actor, agent_id=agent_id)
    return [ScheduleOut.of(entry) for entry in entries]


@router.post("/schedules", status_code=status.HTTP_201_CREATED)
async def add_schedule(body: ScheduleIn, uow: UowDep, actor: CurrentActor) -> ScheduleOut:
    entry = await service.add_schedule_entry(
        uow,
        actor=actor,
        agent_id=body.agent_id,
        shift_id=body.shift_id,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )
    return ScheduleOut.of(entry)


@router.patch("/schedules/{entry_id}")
async def end_schedule(
    entry_id: IdPath, body: SchedulePatch, uow: UowDep, actor: CurrentActor
) -> ScheduleOut:
    entry = await service.end_schedule_entry(
        uow, actor=actor, entry_id=entry_id, ends_on=body.ends_on
    )
    return ScheduleOut.of(entry)


@router.delete("/schedules/{entry_id}", status_code=NO_CONTENT)
async def delete_schedule(entry_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await service.delete_schedule_entry(uow, actor=actor, entry_id=entry_id)
    return Response(status_code=NO_CONTENT)


@router.get("/coverage")
async def coverage(
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=service.MAX_COVERAGE_DAYS)] = 7,
    start: Annotated[datetime | None, Query(description="aware; default now")] = None,
) -> CoverageOut:
    result = await service.coverage(
        uow,
        actor=actor,
        languages=runtime.policies.players.languages,
        start=start,
        days=days,
    )
    return CoverageOut.of(result)
