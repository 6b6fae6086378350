"""Console administration pages: routing rules and team purposes, SLA policies and escalation
rules, business calendars, shifts, schedules and the coverage of the coming week.

Plain forms that post back and redirect (no script needed). A refused change re-renders the
page with the message next to the form it came from, and the input kept. Supervisors see
routing, SLA and calendars read-only and manage shifts; admins manage everything.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import get_day_names
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import WorkingInterval
from playerdesk.domain.enums import Channel, Priority
from playerdesk.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.routing import STANDARD_TOPICS, TeamPurpose
from playerdesk.domain.sla import SlaMetric
from playerdesk.i18n import language_name, translations
from playerdesk.services import agents as agent_service
from playerdesk.services import routing_admin as service
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.routes import LOGIN, _language, _page, _signed_in
from playerdesk.web.deps import IdPath, RuntimeDep, UowDep, csrf_valid

router = APIRouter(prefix="/console/admin", include_in_schema=False)

BASE = "/console/admin"
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_RANGE_SEPARATORS = re.compile(r"\s*[-–—]\s*")

# Messages of the domain's own checks, marked here so that the console can translate them.
DOMAIN_MESSAGES = (
    N_("weekdays are 0 (Monday) to 6 (Sunday)"),
    N_("working time starts between 00:00 and 23:59"),
    N_("working time ends between 00:01 and 24:00"),
    N_("working time must end after it starts"),
    N_("working intervals on the same day overlap"),
    N_("a policy sets at least one target"),
    N_("a target must be longer than zero"),
    N_("VIP tiers cannot be required of players who are not VIPs"),
    N_("a shift starts between 00:00 and 23:59"),
    N_("a shift ends between 00:00 and 23:59"),
    N_("a shift needs working time"),
    N_("a shift runs on at least one weekday"),
    N_("the calendar has no working time for more than 366 days"),
)


@cache
def time_zones() -> list[str]:
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str, *, field: str, allow_midnight_end: bool = False) -> int:
    match = _TIME.match(text)
    if match is None:
        raise ValidationFailed(N_("write a time of day like 09:30"), field=field)
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    limit = 24 * 60 if allow_midnight_end else 24 * 60 - 1
    if minutes > 59 or total > limit:
        raise ValidationFailed(N_("write a time of day like 09:30"), field=field)
    return total


def _whole_number(form: FormData, name: str) -> int | None:
    text = str(form.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(N_("enter a whole number"), field=name) from None


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _texts(form: FormData, name: str) -> list[str]:
    return [str(value).strip() for value in form.getlist(name) if str(value).strip()]


def _ids(form: FormData, name: str) -> list[int]:
    try:
        return [int(value) for value in _texts(form, name)]
    except ValueError:
        raise ValidationFailed(N_("no such team; it may have been deleted"), field=name) from None


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,;]+", text) if word]


def _date(text: str, *, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(N_("write a date like 2026-12-24"), field=field) from None


@dataclass(frozen=True)
class FormError:
    form: str  # which form on the page it belongs to
    field: str | None
    message: str


def _error_of(exc: DomainError, *, form: str, language: str) -> FormError:
    message = translations(language).gettext(exc.detail)
    # Service messages are written to follow a field name; on their own they start a sentence.
    return FormError(form=form, field=exc.field, message=message[:1].upper() + message[1:])


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 422


# Page plumbing ---------------------------------------------------------------------------


PageBuilder = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Viewer:
    """Who is looking, read once: after a refused change rolls back, the agent row is
    expired and must not be lazily reloaded."""

    actor: Actor
    name: str


async def _signed_or_login(request: Request, uow: UnitOfWork) -> Viewer | Response:
    signed = await _signed_in(request, uow)
    if signed is None:
        return RedirectResponse(LOGIN, status_code=303)
    return Viewer(actor=signed.actor, name=signed.agent.name)


def forbidden_page(
    request: Request, runtime: RuntimeDep, signed: Viewer, *, title: str | None = None
) -> Response:
    """403 for a signed-in agent whose role does not reach the page (`title`: its name)."""
    language = _language(request, runtime)
    return _page(
        request,
        runtime,
        "console/admin/forbidden.html",
        status_code=403,
        **_common(signed, "", language),
        forbidden_title=title,
    )


def _common(signed: Viewer, section: str, language: str) -> dict[str, Any]:
    return {
        "agent_name": signed.name,
        "section": section,
        "can_route": signed.actor.can(Permission.ROUTING_MANAGE),
        "can_shifts": signed.actor.can(Permission.SHIFTS_MANAGE),
        "can_floor": signed.actor.can(Permission.FLOOR_READ),
        "can_callbacks": signed.actor.can(Permission.TICKETS_READ),
        "can_channels": signed.actor.can(Permission.CHANNELS_MANAGE),
        "can_kb": signed.actor.can(Permission.KB_MANAGE),
        "can_canned": signed.actor.can(Permission.CANNED_REPLIES_MANAGE),
        "can_bot": signed.actor.can(Permission.BOT_MANAGE),
        "weekday_names": get_day_names("wide", locale=language),
        "weekday_short": get_day_names("abbreviated", locale=language),
    }


async def _render(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    section: str,
    error: FormError | None = None,
    form_values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    language = _language(request, runtime)
    builder = _BUILDERS[section]
    try:
        context = await builder(
            uow,
            signed=signed,
            runtime=runtime,
            language=language,
            query=request.query_params,
        )
    except PermissionDenied:
        return forbidden_page(request, runtime, signed)
    if form_values is not None and error is not None:
        context["forms"][error.form] = form_values
    saved = request.query_params.get("saved") == "1" and error is None
    return _page(
        request,
        runtime,
        f"console/admin/{section}.html",
        status_code=status_code,
        error=error,
        saved=saved,
        **_common(signed, section, language),
        **context,
    )


async def _show(request: Request, runtime: RuntimeDep, uow: UowDep, section: str) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _render(request, runtime, uow, signed, section=section)


RefusedPage = Callable[[Viewer, FormError, int, FormData], Awaitable[Response]]


async def submit_form(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    *,
    form_name: str,
    action: Callable[[FormData, Viewer], Awaitable[object]],
    refused: RefusedPage,
    done: str,
) -> Response:
    """Every admin form: check the CSRF token, run one service call, then back to the page
    (`done`), or the page again (`refused`) with the refusal next to the form."""
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    form = await request.form()
    language = _language(request, runtime)
    if not csrf_valid(
        request, submitted=str(form.get("csrf_token") or ""), secret_key=runtime.settings.secret_key
    ):
        _ = translations(language).gettext
        expired = FormError(
            form=form_name, field=None, message=_("Your session expired. Please try again.")
        )
        return await refused(signed, expired, 403, form)
    try:
        await action(form, signed)
    except DomainError as exc:
        # The failed use case rolled back; the page is read in a fresh transaction.
        await uow.session.rollback()
        error = _error_of(exc, form=form_name, language=language)
        return await refused(signed, error, _status_of(exc), form)
    return RedirectResponse(done, status_code=303)


async def _submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    *,
    section: str,
    form_name: str,
    action: Callable[[FormData, Viewer], Awaitable[object]],
    form_values: Callable[[FormData], dict[str, Any]] | None = None,
) -> Response:
    async def refused(signed: Viewer, error: FormError, status: int, form: FormData) -> Response:
        return await _render(
            request,
            runtime,
            uow,
            signed,
            section=section,
            error=error,
            form_values=form_values(form) if form_values else None,
            status_code=status,
        )

    return await submit_form(
        request,
        runtime,
        uow,
        form_name=form_name,
        action=action,
        refused=refused,
        done=f"{BASE}/{section}?saved=1",
    )


@router.get("")
async def admin_home(request: Request, uow: UowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    target = "routing" if signed.actor.can(Permission.ROUTING_MANAGE) else "shifts"
    return RedirectResponse(f"{BASE}/{target}", status_code=303)


# Routing rules and teams -----------------------------------------------------------------


def _rule_form(form: FormData) -> dict[str, Any]:
    return {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "team_id": _text(form, "team_id"),
        "topic": _text(form, "topic"),
        "language": _text(form, "language"),
        "channel": _text(form, "channel"),
        "vip": _text(form, "vip") or "any",
        "is_active": "is_active" in form,
    }


def _rule_input(form: FormData) -> service.RoutingRuleInput:
    team_id = _whole_number(form, "team_id")
    if team_id is None:
        raise ValidationFailed(N_("choose a team"), field="team_id")
    return service.RoutingRuleInput(
        name=_text(form, "name"),
        team_id=team_id,
        topic=_text(form, "topic") or None,
        language=_text(form, "language") or None,
        channel=_text(form, "channel") or None,
        vip=_text(form, "vip") or "any",
        is_active="is_active" in form,
    )


def _purpose_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        TeamPurpose.GENERAL.value: _("General (conversations no rule matches)"),
        TeamPurpose.VIP.value: _("VIP players"),
        TeamPurpose.SENIOR.value: _("Senior (escalations)"),
        TeamPurpose.RESPONSIBLE_GAMBLING.value: _("Responsible gambling"),
    }


def _vip_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        "any": _("Any player"),
        "vip": _("VIP players only"),
        "not_vip": _("Players who are not VIP"),
    }


async def _routing_context(
    uow: UnitOfWork, *, signed: Viewer, runtime: RuntimeDep, language: str, query: Any
) -> dict[str, Any]:
    actor = signed.actor
    rules = await service.list_routing_rules(uow, actor=actor)
    teams = await service.list_team_routing(uow, actor=actor)
    calendars = await service.list_calendars(uow, actor=actor)
    form: dict[str, Any] = {"id": "", "vip": "any", "is_active": True}
    editing = query.get("edit")
    if editing and editing.isdigit():
        for rule in rules:
            if rule.id == int(editing):
                form = {
                    "id": str(rule.id),
                    "name": rule.name,
                    "team_id": str(rule.team_id),
                    "topic": rule.topic or "",
                    "language": rule.language or "",
                    "channel": rule.channel or "",
                    "vip": rule.vip,
                    "is_active": rule.is_active,
                }
    return {
        "rules": rules,
        "teams": teams,
        "team_names": {team.id: team.name for team in teams},
        "calendars": calendars,
        "calendar_names": {calendar.id: calendar.name for calendar in calendars},
        "purposes": _purpose_labels(language),
        "vip_labels": _vip_labels(language),
        "topics": STANDARD_TOPICS,
        "channels": [channel.value for channel in Channel],
        "languages_supported": [
            (code, language_name(code, in_language=language)) for code in runtime.settings.languages
        ],
        "forms": {"rule": form},
    }


@router.get("/routing")
async def routing_page(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    return await _show(request, runtime, uow, "routing")


@router.post("/routing/rules")
async def save_rule(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        rule_id = _whole_number(form, "id")
        languages = runtime.policies.players.languages
        if rule_id is None:
            return await service.create_routing_rule(
                uow, actor=signed.actor, rule=_rule_input(form), languages=languages
            )
        return await service.update_routing_rule(
            uow, actor=signed.actor, rule_id=rule_id, rule=_rule_input(form), languages=languages
        )

    return await _submit(
        request,
        runtime,
        uow,
        section="routing",
        form_name="rule",
        action=action,
        form_values=_rule_form,
    )


@router.post("/routing/rules/{rule_id}/delete")
async def delete_rule(
    rule_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_routing_rule(uow, actor=signed.actor, rule_id=rule_id)
        return None

    return await _submit(request, runtime, uow, section="routing", form_name="rules", action=action)


def _moved(ids: list[int], item: int, direction: str) -> list[int]:
    if item not in ids:
        return ids
    index = ids.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return ids


@router.post("/routing/rules/{rule_id}/move")
async def move_rule(
    rule_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        rules = await service.list_routing_rules(uow, actor=signed.actor)
        ids = _moved([rule.id for rule in rules], rule_id, _text(form, "direction"))
        return await service.reorder_routing_rules(uow, actor=signed.actor, rule_ids=ids)

    return await _submit(request, runtime, uow, section="routing", form_name="rules", action=action)


@router.post("/routing/teams/{team_id}")
async def save_team_routing(
    team_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        return await service.set_team_routing(
            uow,
            actor=signed.actor,
            team_id=team_id,
            purpose=_text(form, "purpose") or None,
            calendar_id=_whole_number(form, "calendar_id"),
        )

    return await _submit(
        request, runtime, uow, section="routing", form_name=f"team-{team_id}", action=action
    )


# SLA policies and escalation rules -------------------------------------------------------


def _policy_form(form: FormData) -> dict[str, Any]:
    return {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "channels": _texts(form, "channels"),
        "priorities": _texts(form, "priorities"),
        "vip": _text(form, "vip") or "any",
        "vip_tiers": _texts(form, "vip_tiers"),
        "team_ids": _texts(form, "team_ids"),
        "first_response_minutes": _text(form, "first_response_minutes"),
        "next_response_minutes": _text(form, "next_response_minutes"),
        "resolution_minutes": _text(form, "resolution_minutes"),
        "warning_percent": _text(form, "warning_percent"),
        "is_active": "is_active" in form,
    }


def _policy_input(form: FormData) -> service.SlaPolicyInput:
    return service.SlaPolicyInput(
        name=_text(form, "name"),
        channels=_texts(form, "channels"),
        priorities=_texts(form, "priorities"),
        vip=_text(form, "vip") or "any",
        vip_tiers=_texts(form, "vip_tiers"),
        team_ids=_ids(form, "team_ids"),
        first_response_minutes=_whole_number(form, "first_response_minutes"),
        next_response_minutes=_whole_number(form, "next_response_minutes"),
        resolution_minutes=_whole_number(form, "resolution_minutes"),
        warning_percent=_whole_number(form, "warning_percent") or 80,
        is_active="is_active" in form,
    )


def _escalation_form(form: FormData) -> dict[str, Any]:
    return {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "trigger": _text(form, "trigger"),
        "metric": _text(form, "metric"),
        "topics": _text(form, "topics"),
        "after_minutes": _text(form, "after_minutes"),
        "raise_priority": "raise_priority" in form,
        "move_to": _text(form, "move_to"),
        "notify_supervisors": "notify_supervisors" in form,
        "is_active": "is_active" in form,
    }


def _escalation_input(form: FormData) -> service.EscalationRuleInput:
    move_to = _text(form, "move_to")
    move_team: int | None = None
    if move_to and move_to != "senior":
        try:
            move_team = int(move_to)
        except ValueError:
            raise ValidationFailed(
                N_("no such team; it may have been deleted"), field="move_to_team_id"
            ) from None
    return service.EscalationRuleInput(
        name=_text(form, "name"),
        trigger=_text(form, "trigger"),
        metric=_text(form, "metric") or None,
        topics=_words(_text(form, "topics")),
        after_minutes=_whole_number(form, "after_minutes"),
        raise_priority="raise_priority" in form,
        move_to_senior=move_to == "senior",
        move_to_team_id=move_team,
        notify_supervisors="notify_supervisors" in form,
        is_active="is_active" in form,
    )


def _trigger_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        service.EscalationTrigger.SLA_WARNING.value: _("SLA warning"),
        service.EscalationTrigger.SLA_BREACH.value: _("SLA breach"),
        service.EscalationTrigger.UNRESOLVED.value: _("Unresolved for too long"),
    }


def _metric_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        SlaMetric.FIRST_RESPONSE.value: _("First response"),
        SlaMetric.NEXT_RESPONSE.value: _("Next response"),
        SlaMetric.RESOLUTION.value: _("Resolution"),
    }


def _find(rows: list[Any], wanted: str | None) -> Any:
    if wanted and wanted.isdigit():
        return next((row for row in rows if row.id == int(wanted)), None)
    return None


async def _sla_context(
    uow: UnitOfWork, *, signed: Viewer, runtime: RuntimeDep, language: str, query: Any
) -> dict[str, Any]:
    actor = signed.actor
    policies = await service.list_sla_policies(uow, actor=actor)
    escalations = await service.list_escalation_rules(uow, actor=actor)
    teams = await service.list_team_routing(uow, actor=actor)
    policy_form: dict[str, Any] = {
        "id": "",
        "vip": "any",
        "warning_percent": "80",
        "is_active": True,
    }
    editing = _find(policies, query.get("edit_policy"))
    if editing is not None:
        policy_form = {
            "id": str(editing.id),
            "name": editing.name,
            "channels": list(editing.channels),
            "priorities": list(editing.priorities),
            "vip": editing.vip,
            "vip_tiers": list(editing.vip_tiers),
            "team_ids": [str(team_id) for team_id in editing.team_ids],
            "first_response_minutes": str(editing.first_response_minutes or ""),
            "next_response_minutes": str(editing.next_response_minutes or ""),
            "resolution_minutes": str(editing.resolution_minutes or ""),
            "warning_percent": str(editing.warning_percent),
            "is_active": editing.is_active,
        }
    escalation_form: dict[str, Any] = {
        "id": "",
        "trigger": "sla_breach",
        "raise_priority": True,
        "notify_supervisors": True,
        "is_active": True,
    }
    rule = _find(escalations, query.get("edit_rule"))
    if rule is not None:
        escalation_form = {
            "id": str(rule.id),
            "name": rule.name,
            "trigger": rule.trigger,
            "metric": rule.metric or "",
            "topics": ", ".join(rule.topics),
            "after_minutes": str(rule.after_minutes or ""),
            "raise_priority": rule.raise_priority,
            "move_to": "senior" if rule.move_to_senior else str(rule.move_to_team_id or ""),
            "notify_supervisors": rule.notify_supervisors,
            "is_active": rule.is_active,
        }
    return {
        "policies": policies,
        "escalations": escalations,
        "teams": teams,
        "team_names": {team.id: team.name for team in teams},
        "channels": [channel.value for channel in Channel],
        "priorities": [priority.value for priority in Priority],
        "vip_tiers": runtime.policies.players.vip_tiers,
        "vip_labels": _vip_labels(language),
        "trigger_labels": _trigger_labels(language),
        "metric_labels": _metric_labels(language),
        "forms": {"policy": policy_form, "escalation": escalation_form},
    }


@router.get("/sla")
async def sla_page(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    return await _show(request, runtime, uow, "sla")


@router.post("/sla/policies")
async def save_policy(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        policy_id = _whole_number(form, "id")
        tiers = runtime.policies.players.vip_tiers
        if policy_id is None:
            return await service.create_sla_policy(
                uow, actor=signed.actor, policy=_policy_input(form), known_vip_tiers=tiers
            )
        return await service.update_sla_policy(
            uow,
            actor=signed.actor,
            policy_id=policy_id,
            policy=_policy_input(form),
            known_vip_tiers=tiers,
        )

    return await _submit(
        request,
        runtime,
        uow,
        section="sla",
        form_name="policy",
        action=action,
        form_values=_policy_form,
    )


@router.post("/sla/policies/{policy_id}/delete")
async def delete_policy(
    policy_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_sla_policy(uow, actor=signed.actor, policy_id=policy_id)
        return None

    return await _submit(request, runtime, uow, section="sla", form_name="policies", action=action)


@router.post("/sla/policies/{policy_id}/move")
async def move_policy(
    policy_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        policies = await service.list_sla_policies(uow, actor=signed.actor)
        ids = _moved([policy.id for policy in policies], policy_id, _text(form, "direction"))
        return await service.reorder_sla_policies(uow, actor=signed.actor, policy_ids=ids)

    return await _submit(request, runtime, uow, section="sla", form_name="policies", action=action)


@router.post("/sla/escalations")
async def save_escalation(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        rule_id = _whole_number(form, "id")
        if rule_id is None:
            return await service.create_escalation_rule(
                uow, actor=signed.actor, rule=_escalation_input(form)
            )
        return await service.update_escalation_rule(
            uow, actor=signed.actor, rule_id=rule_id, rule=_escalation_input(form)
        )

    return await _submit(
        request,
        runtime,
        uow,
        section="sla",
        form_name="escalation",
        action=action,
        form_values=_escalation_form,
    )


@router.post("/sla/escalations/{rule_id}/delete")
async def delete_escalation(
    rule_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_escalation_rule(uow, actor=signed.actor, rule_id=rule_id)
        return None

    return await _submit(
        request, runtime, uow, section="sla", form_name="escalations", action=action
    )


# Calendars -----------------------------------------------------------------------------------


def _calendar_form(form: FormData) -> dict[str, Any]:
    return {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "time_zone": _text(form, "time_zone"),
        "days": {day: _text(form, f"day_{day}") for day in range(7)},
        "holidays": str(form.get("holidays") or ""),
    }


def _calendar_input(form: FormData) -> service.CalendarInput:
    intervals: list[WorkingInterval] = []
    for day in range(7):
        for part in _text(form, f"day_{day}").split(","):
            if not part.strip():
                continue
            bounds = _RANGE_SEPARATORS.split(part.strip())
            if len(bounds) != 2:
                raise ValidationFailed(
                    N_("write working hours like 09:00-17:00; separate several with commas"),
                    field="intervals",
                )
            try:
                start = _minutes(bounds[0], field="intervals")
                end = _minutes(bounds[1], field="intervals", allow_midnight_end=True)
            except ValidationFailed:
                raise ValidationFailed(
                    N_("write working hours like 09:00-17:00; separate several with commas"),
                    field="intervals",
                ) from None
            intervals.append(WorkingInterval(weekday=day, start_minute=start, end_minute=end))
    holidays: list[date] = []
    for word in _words(str(form.get("holidays") or "")):
        holiday = _date(word, field="holidays")
        if holiday is not None:
            holidays.append(holiday)
    return service.CalendarInput(
        name=_text(form, "name"),
        time_zone=_text(form, "time_zone"),
        intervals=intervals,
        holidays=holidays,
    )


async def _calendars_context(
    uow: UnitOfWork, *, signed: Viewer, runtime: RuntimeDep, language: str, query: Any
) -> dict[str, Any]:
    calendars = await service.list_calendars(uow, actor=signed.actor)
    teams = await service.list_team_routing(uow, actor=signed.actor)
    form: dict[str, Any] = {
        "id": "",
        "time_zone": "UTC",
        "days": {day: "09:00-17:00" if day < 5 else "" for day in range(7)},
        "holidays": "",
    }
    editing = _find(calendars, query.get("edit"))
    if editing is not None:
        days: dict[int, list[str]] = {day: [] for day in range(7)}
        for weekday, start, end in editing.intervals:
            days[weekday].append(f"{_clock(start)}-{_clock(end)}")
        form = {
            "id": str(editing.id),
            "name": editing.name,
            "time_zone": editing.time_zone,
            "days": {day: ", ".join(parts) for day, parts in days.items()},
            "holidays": "\n".join(editing.holidays),
        }
    used_by: dict[int, list[str]] = {}
    for team in teams:
        if team.calendar_id is not None:
            used_by.setdefault(team.calendar_id, []).append(team.name)
    return {
        "calendars": calendars,
        "used_by": used_by,
        "time_zones": time_zones(),
        "clock": _clock,
        "forms": {"calendar": form},
    }


@router.get("/calendars")
async def calendars_page(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    return await _show(request, runtime, uow, "calendars")


@router.post("/calendars")
async def save_calendar(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        calendar_id = _whole_number(form, "id")
        if calendar_id is None:
            return await service.create_calendar(
                uow, actor=signed.actor, calendar=_calendar_input(form)
            )
        return await service.update_calendar(
            uow, actor=signed.actor, calendar_id=calendar_id, calendar=_calendar_input(form)
        )

    return await _submit(
        request,
        runtime,
        uow,
        section="calendars",
        form_name="calendar",
        action=action,
        form_values=_calendar_form,
    )


@router.post("/calendars/{calendar_id}/delete")
async def delete_calendar(
    calendar_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_calendar(uow, actor=signed.actor, calendar_id=calendar_id)
        return None

    return await _submit(
        request, runtime, uow, section="calendars", form_name="calendars", action=action
    )


# Shifts, schedules, on duty and coverage -------------------------------------------------------


def _shift_form(form: FormData) -> dict[str, Any]:
    return {
        "name": _text(form, "name"),
        "start": _text(form, "start"),
        "end": _text(form, "end"),
        "weekdays": _texts(form, "weekdays"),
        "time_zone": _text(form, "time_zone"),
    }


def _shift_input(form: FormData) -> service.ShiftInput:
    try:
        weekdays = [int(value) for value in _texts(form, "weekdays")]
    except ValueError:
        raise ValidationFailed(
            N_("a shift runs on at least one weekday"), field="weekdays"
        ) from None
    return service.ShiftInput(
        name=_text(form, "name"),
        start_minute=_minutes(_text(form, "start"), field="start"),
        end_minute=_minutes(_text(form, "end"), field="end"),
        weekdays=weekdays,
        time_zone=_text(form, "time_zone") or "UTC",
    )


def _schedule_form(form: FormData) -> dict[str, Any]:
    return {
        "agent_id": _text(form, "agent_id"),
        "shift_id": _text(form, "shift_id"),
        "starts_on": _text(form, "starts_on"),
        "ends_on": _text(form, "ends_on"),
    }


@dataclass(frozen=True)
class GridCell:
    starts_at: datetime
    languages: list[str]
    teams: list[str]

    @property
    def covered(self) -> bool:
        return not self.languages and not self.teams


async def _shifts_context(
    uow: UnitOfWork, *, signed: Viewer, runtime: RuntimeDep, language: str, query: Any
) -> dict[str, Any]:
    actor = signed.actor
    shifts = await service.list_shifts(uow, actor=actor)
    entries = await service.list_schedule_entries(uow, actor=actor)
    agents = [
        agent for agent in await agent_service.list_agents(uow, actor=actor) if agent.is_active
    ]
    on_duty = await service.who_is_on_shift(uow, actor=actor)
    now = uow.clock.now()
    # The grid in the supervisor's chosen time zone (?tz=Europe/Warsaw), UTC by default.
    zone_name = query.get("tz") or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone_name, zone = "UTC", ZoneInfo("UTC")
    today_there = now.astimezone(zone).date()
    days = [today_there + timedelta(days=offset) for offset in range(7)]
    first = datetime.combine(days[0], time(0), tzinfo=zone)
    # A day longer for a clock change within the week; only the seven days are shown.
    result = await service.coverage(
        uow, actor=actor, languages=runtime.settings.languages, start=first, days=8
    )
    cells = {
        hour.starts_at: GridCell(
            starts_at=hour.starts_at,
            languages=[code.upper() for code in hour.missing_languages],
            teams=[result.teams.get(team_id, str(team_id)) for team_id in hour.missing_team_ids],
        )
        for hour in result.hours
    }

    def cell(day: date, hour: int) -> GridCell | None:
        """The UTC hour holding this local hour (half-hour zones show the hour it starts in)."""
        local = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        return cells.get(local.replace(minute=0))

    grid = [(hour, [cell(day, hour) for day in days]) for hour in range(24)]
    shown = [item for _hour, row in grid for item in row if item is not None]
    agent_names = {agent.id: agent.name for agent in agents}
    shift_names = {shift.id: shift.name for shift in shifts}
    today = now.date()
    return {
        "shifts": shifts,
        "entries": entries,
        "agents": agents,
        "agent_names": agent_names,
        "shift_names": shift_names,
        "on_duty": on_duty,
        "grid": grid,
        "grid_days": days,
        "grid_zone": zone_name,
        "gap_hours": sum(1 for item in shown if not item.covered),
        "grid_hours": len(shown),
        "time_zones": time_zones(),
        "clock": _clock,
        "today": today,
        "forms": {
            "shift": {"weekdays": [str(day) for day in range(7)], "time_zone": "UTC"},
            "schedule": {"starts_on": today.isoformat()},
        },
    }


@router.get("/shifts")
async def shifts_page(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    return await _show(request, runtime, uow, "shifts")


@router.post("/shifts/shifts")
async def save_shift(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        return await service.create_shift(uow, actor=signed.actor, shift=_shift_input(form))

    return await _submit(
        request,
        runtime,
        uow,
        section="shifts",
        form_name="shift",
        action=action,
        form_values=_shift_form,
    )


@router.post("/shifts/shifts/{shift_id}/delete")
async def delete_shift(
    shift_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_shift(uow, actor=signed.actor, shift_id=shift_id)
        return None

    return await _submit(request, runtime, uow, section="shifts", form_name="shifts", action=action)


@router.post("/shifts/schedules")
async def add_schedule(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        agent_id = _whole_number(form, "agent_id")
        shift_id = _whole_number(form, "shift_id")
        if agent_id is None:
            raise ValidationFailed(N_("choose an agent"), field="agent_id")
        if shift_id is None:
            raise ValidationFailed(N_("choose a shift"), field="shift_id")
        starts_on = _date(_text(form, "starts_on"), field="starts_on")
        if starts_on is None:
            raise ValidationFailed(N_("write a date like 2026-12-24"), field="starts_on")
        return await service.add_schedule_entry(
            uow,
            actor=signed.actor,
            agent_id=agent_id,
            shift_id=shift_id,
            starts_on=starts_on,
            ends_on=_date(_text(form, "ends_on"), field="ends_on"),
        )

    return await _submit(
        request,
        runtime,
        uow,
        section="shifts",
        form_name="schedule",
        action=action,
        form_values=_schedule_form,
    )


@router.post("/shifts/schedules/{entry_id}/end")
async def end_schedule(
    entry_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        ends_on = _date(_text(form, "ends_on"), field="ends_on")
        if ends_on is None:
            raise ValidationFailed(N_("write a date like 2026-12-24"), field="ends_on")
        return await service.end_schedule_entry(
            uow, actor=signed.actor, entry_id=entry_id, ends_on=ends_on
        )

    return await _submit(
        request, runtime, uow, section="shifts", form_name=f"entry-{entry_id}", action=action
    )


@router.post("/shifts/schedules/{entry_id}/delete")
async def delete_schedule(
    entry_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await service.delete_schedule_entry(uow, actor=signed.actor, entry_id=entry_id)
        return None

    return await _submit(
        request, runtime, uow, section="shifts", form_name=f"entry-{entry_id}", action=action
    )


_BUILDERS: dict[str, PageBuilder] = {
    "routing": _routing_context,
    "sla": _sla_context,
    "calendars": _calendars_context,
    "shifts": _shifts_context,
}
