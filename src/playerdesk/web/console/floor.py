"""The supervisors' floor page: queues per team, who is online in which language, every
agent's load, and the conversations at risk of missing an SLA deadline.

Server-rendered; static/console/floor.js re-reads the page's panel every few seconds while
it is on screen and ticks the countdowns in between.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.domain.errors import PermissionDenied
from playerdesk.domain.permissions import Permission
from playerdesk.domain.routing import UNITS_PER_CHAT
from playerdesk.i18n import translations
from playerdesk.services import agents as agent_service
from playerdesk.services import floor as floor_service
from playerdesk.web.console.routes import LOGIN, _language, _page, _signed_in
from playerdesk.web.console.sla import SlaBadge
from playerdesk.web.deps import RuntimeDep, UowDep

router = APIRouter(prefix="/console", include_in_schema=False)

REFRESH_SECONDS = 5


def _at_risk_badge(item: floor_service.AtRiskView) -> SlaBadge:
    breached = item.state == "breached"
    return SlaBadge(
        state=item.state,
        metric=item.metric,
        due_at=None if breached else item.due_at,
        overdue_since=item.due_at if breached else None,
        paused_seconds=None,
    )


@router.get("/floor")
async def floor_page(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    signed = await _signed_in(request, uow)
    if signed is None:
        return RedirectResponse(LOGIN, status_code=303)
    actor = signed.actor
    try:
        snapshot = await floor_service.floor_snapshot(uow, actor=actor)
    except PermissionDenied:
        _ = translations(_language(request, runtime)).gettext
        return _page(
            request,
            runtime,
            "console/admin/forbidden.html",
            status_code=403,
            agent_name=signed.agent.name,
            section=None,
            can_floor=False,
            forbidden_title=_("Floor"),
        )
    # One risky conversation may have two clocks at risk: show it once, by its first.
    seen: set[int] = set()
    at_risk = []
    for item in snapshot.at_risk:
        if item.ticket_id not in seen:
            seen.add(item.ticket_id)
            at_risk.append((item, _at_risk_badge(item)))
    names = await agent_service.display_names(
        uow, actor=actor, agent_ids=[item.assignee_id for item, _badge in at_risk]
    )
    teams = {team.id: team.name for team in await agent_service.list_teams(uow, actor=actor)}
    return _page(
        request,
        runtime,
        "console/floor.html",
        agent_name=signed.agent.name,
        section="floor",
        can_floor=True,
        can_callbacks=actor.can(Permission.TICKETS_READ),
        can_admin=actor.role.value in ("supervisor", "admin"),
        snapshot=snapshot,
        at_risk=at_risk,
        names=names,
        teams=teams,
        now=snapshot.at,
        units_per_chat=UNITS_PER_CHAT,
        refresh_seconds=REFRESH_SECONDS,
    )
