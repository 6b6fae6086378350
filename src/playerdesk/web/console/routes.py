"""Console pages: sign-in, sign-out, language choice and the workspace (inbox + conversations)."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.db.models import Agent, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel, Priority, TicketStatus
from playerdesk.domain.errors import (
    AuthenticationFailed,
    NotFound,
    TooManyAttempts,
    ValidationFailed,
)
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.state import ALLOWED_TRANSITIONS
from playerdesk.i18n import language_name, translations
from playerdesk.services import agents as agent_service
from playerdesk.services import auth
from playerdesk.services import floor as floor_service
from playerdesk.services import sla as sla_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.pagination import Page
from playerdesk.settings import Environment
from playerdesk.web.console.canned_strings import canned_strings
from playerdesk.web.console.inbox import InboxQuery, View
from playerdesk.web.console.labels import labels
from playerdesk.web.console.player_context import player_context_strings
from playerdesk.web.console.rendering import LANGUAGE_COOKIE, render, request_language
from playerdesk.web.console.sla import badge
from playerdesk.web.console.strings import console_strings
from playerdesk.web.console.whatsapp_strings import whatsapp_strings
from playerdesk.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Admitted,
    IdPath,
    ReadUowDep,
    RuntimeDep,
    UowDep,
    client_ip,
    csrf_token_for,
    csrf_valid,
)

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Admitted])

INBOX_PAGE_SIZE = 50
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
HOME = "/console"
LOGIN = "/console/login"


def _language(request: Request, runtime: RuntimeDep) -> str:
    return request_language(
        request, supported=runtime.settings.languages, default=runtime.settings.default_language
    )


def _csrf_nonce(request: Request) -> tuple[str, bool]:
    """The CSRF nonce from the cookie, or a new one (True when it must be set)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 100:
        return nonce, False
    return secrets.token_urlsafe(24), True


def _set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None
) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=secure, max_age=max_age, path="/"
    )


def _secure(runtime: RuntimeDep) -> bool:
    return runtime.settings.env is Environment.PROD


def _safe_next(target: str) -> str:
    """Only our own console pages are redirect targets, never another site."""
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or "\\" in target
        or not target.isprintable()
        or not (parts.path == HOME or parts.path.startswith(HOME + "/"))
    ):
        return HOME
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page(
    request: Request,
    runtime: RuntimeDep,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a console page with what every page needs: language, switcher and CSRF token."""
    language = _language(request, runtime)
    nonce, is_new = _csrf_nonce(request)
    response = render(
        template,
        language=language,
        status_code=status_code,
        csrf_token=csrf_token_for(nonce, secret_key=runtime.settings.secret_key),
        languages=[
            (code, language_name(code, in_language=code)) for code in runtime.settings.languages
        ],
        current_path=request.url.path,
        **context,
    )
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language, Cookie"
    if is_new:
        _set_cookie(response, CSRF_COOKIE, nonce, secure=_secure(runtime), max_age=None)
    return response


def _login_page(
    request: Request,
    runtime: RuntimeDep,
    *,
    error: str | None,
    email: str,
    status_code: int,
    notice: str | None = None,
) -> Response:
    return _page(
        request,
        runtime,
        "console/login.html",
        status_code=status_code,
        error=error,
        notice=notice,
        email=email,
    )


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    agent: Agent


async def _signed_in(request: Request, uow: UnitOfWork) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        result = await auth.authenticate_session(uow, token=token, ip=client_ip(request))
    except AuthenticationFailed:
        return None
    return SignedIn(actor=result.actor, agent=result.agent)


@router.get("/login")
async def login_form(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    signed_out: Annotated[bool, Query()] = False,
) -> Response:
    if await _signed_in(request, uow) is not None:
        return RedirectResponse(HOME, status_code=303)
    _ = translations(_language(request, runtime)).gettext
    notice = _("You have signed out.") if signed_out else None
    return _login_page(request, runtime, error=None, email="", status_code=200, notice=notice)


@router.post("/login")
async def login_submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    catalog = translations(_language(request, runtime))
    _ = catalog.gettext
    ngettext = catalog.ngettext
    if not csrf_valid(request, submitted=csrf_token, secret_key=runtime.settings.secret_key):
        return _login_page(
            request,
            runtime,
            error=_("Your session expired. Please try again."),
            email=email,
            status_code=403,
        )
    try:
        result = await auth.login(
            uow,
            email=email,
            password=password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            policy=runtime.policies.login,
        )
    except TooManyAttempts as exc:
        # Rounded up, so the page never sends anyone back before the lock has lifted.
        minutes = max(1, math.ceil(exc.retry_after_seconds / 60))
        # Translators: {minutes} is a whole number of minutes.
        message = ngettext(
            "Too many failed attempts. Try again in {minutes} minute.",
            "Too many failed attempts. Try again in {minutes} minutes.",
            minutes,
        )
        response = _login_page(
            request,
            runtime,
            error=message.format(minutes=minutes),
            email=email,
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except AuthenticationFailed:
        return _login_page(
            request, runtime, error=_("Wrong email or password."), email=email, status_code=401
        )
    response = RedirectResponse(HOME, status_code=303)
    _set_cookie(
        response,
        SESSION_COOKIE,
        result.session_token,
        secure=_secure(runtime),
        max_age=runtime.settings.session_ttl_seconds,
    )
    # A fresh CSRF nonce for the signed-in session: one planted before login is worthless.
    _set_cookie(
        response, CSRF_COOKIE, secrets.token_urlsafe(24), secure=_secure(runtime), max_age=None
    )
    return response


@router.post("/logout")
async def logout(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if not csrf_valid(request, submitted=csrf_token, secret_key=runtime.settings.secret_key):
        # A cross-site form cannot sign anyone out; back to where a real click came from.
        return RedirectResponse(HOME if token else LOGIN, status_code=303)
    if token:
        # Signing out of the last session is offline at once (the service does it): routing
        # stops offering this agent chats now, not when the console's heartbeat goes stale.
        await auth.logout(
            uow, token=token, ip=client_ip(request), routing_policy=runtime.policies.routing
        )
    response = RedirectResponse(f"{LOGIN}?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/language")
async def choose_language(
    request: Request,
    runtime: RuntimeDep,
    language: Annotated[str, Form(max_length=16)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=500)] = HOME,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Remember the agent's language in a cookie, then go back to the page they were on."""
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    if language in runtime.settings.languages and csrf_valid(
        request, submitted=csrf_token, secret_key=runtime.settings.secret_key
    ):
        _set_cookie(
            response,
            LANGUAGE_COOKIE,
            language,
            secure=_secure(runtime),
            max_age=LANGUAGE_COOKIE_MAX_AGE,
        )
    return response


# The workspace: the inbox on the left, open conversations on the right --------------------


def _view_labels(language: str) -> dict[View, str]:
    _ = translations(language).gettext
    return {
        View.MINE: _("Mine"),
        View.UNASSIGNED: _("Unassigned"),
        # Translators: the inbox view with the conversations of the agent's teams.
        View.TEAMS: _("My teams"),
        View.ALL: _("All"),
        # Translators: the inbox view with conversations close to or past an SLA deadline.
        View.AT_RISK: _("At risk"),
    }


def _client_config(
    *,
    signed: SignedIn,
    language: str,
    languages: list[str],
    query: InboxQuery,
    team_ids: list[int],
    teams: list[dict[str, Any]],
    roster: list[dict[str, Any]] | None,
    names: dict[int, str],
    open_ticket_ids: list[int],
    now: str,
) -> dict[str, Any]:
    """Everything the console's scripts need, rendered into the page as a JSON data block."""
    text = labels(language)
    return {
        "me": {
            "id": signed.actor.agent_id,
            "name": signed.agent.name,
            "role": signed.actor.role.value,
            "presence": signed.agent.presence,
            "team_ids": team_ids,
            # Told of breaches and of escalations that ask for a supervisor.
            "supervises": signed.actor.can(Permission.FLOOR_READ),
        },
        "now": now,
        "language": language,
        "view": query.view.value,
        "filters": query.filters(),
        "teams": teams,
        "agents": roster,
        "names": {str(agent_id): name for agent_id, name in names.items()},
        "labels": {
            "status": dict(text.statuses),
            "priority": dict(text.priorities),
            "channel": dict(text.channels),
            "language": {code: language_name(code, in_language=language) for code in languages},
            "sla": dict(text.sla_states),
            "metric": dict(text.sla_metrics),
            "trigger": dict(text.triggers),
        },
        "transitions": {
            status.value: sorted(target.value for target in targets)
            for status, targets in ALLOWED_TRANSITIONS.items()
        },
        "strings": console_strings(language),
        "player_context": player_context_strings(language),
        "canned": canned_strings(language),
        "whatsapp": whatsapp_strings(language),
        "open": open_ticket_ids,
    }


async def _workspace(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    *,
    cursor: str | None,
    open_ticket_id: int | None,
) -> Response:
    signed = await _signed_in(request, uow)
    if signed is None:
        return RedirectResponse(LOGIN, status_code=303)
    actor = signed.actor
    language = _language(request, runtime)
    supported = runtime.settings.languages
    query = InboxQuery.parse(request.query_params, languages=supported)
    assert actor.agent_id is not None  # a console session always belongs to an agent
    me = await agent_service.get_agent(uow, actor=actor, agent_id=actor.agent_id)
    team_ids = [team.id for team in me.teams]
    try:
        if query.view is View.AT_RISK:
            page = await _at_risk_page(uow, actor=actor, query=query)
        else:
            page = await ticket_service.list_tickets(
                uow,
                actor=actor,
                filters=query.ticket_filter(agent_id=actor.agent_id, team_ids=team_ids),
                cursor=cursor,
                limit=INBOX_PAGE_SIZE,
                order=ticket_service.TicketOrder.ACTIVITY,
            )
    except ValidationFailed:
        # A stale or hand-edited cursor: start again from the newest conversations.
        return RedirectResponse(query.url(), status_code=303)
    slas = await sla_service.ticket_slas(uow, tickets=page.items)
    unread = await ticket_service.unread_counts(
        uow, actor=actor, ticket_ids=[ticket.id for ticket in page.items]
    )
    teams = await agent_service.list_teams(uow, actor=actor)
    roster = None
    if actor.can(Permission.AGENTS_READ):
        agents = await agent_service.list_agents(uow, actor=actor)
        roster = [{"id": agent.id, "name": agent.name} for agent in agents if agent.is_active]
    names = await agent_service.display_names(
        uow, actor=actor, agent_ids=[ticket.assignee_id for ticket in page.items]
    )
    names[me.id] = me.name

    status_code, missing = 200, False
    open_ticket_ids: list[int] = []
    if open_ticket_id is not None:
        try:
            await ticket_service.get_ticket(uow, actor=actor, ticket_id=open_ticket_id)
            open_ticket_ids.append(open_ticket_id)
        except NotFound:
            status_code, missing = 404, True

    text = labels(language)
    view_labels = _view_labels(language)
    return _page(
        request,
        runtime,
        "console/inbox.html",
        status_code=status_code,
        agent_name=signed.agent.name,
        me_id=actor.agent_id,
        presence=signed.agent.presence,
        query=query,
        views=[
            (view, view_labels[view], query.url(view=view), view is query.view) for view in View
        ],
        filter_options={
            "channel": [(str(value), text.channel(value)) for value in Channel],
            "status": [(str(value), text.status(value)) for value in TicketStatus],
            "priority": [(str(value), text.priority(value)) for value in Priority],
            "language": [(code, language_name(code, in_language=language)) for code in supported],
        },
        no_teams=query.view is View.TEAMS and not team_ids,
        tickets=page.items,
        slas={ticket_id: badge(sla) for ticket_id, sla in slas.items()},
        now=uow.clock.now(),
        can_floor=actor.can(Permission.FLOOR_READ),
        can_callbacks=actor.can(Permission.TICKETS_READ),
        unread=unread,
        names=names,
        next_cursor=page.next_cursor,
        older_url=query.url(cursor=page.next_cursor) if page.next_cursor else None,
        newest_url=query.url(),
        clear_url=InboxQuery(view=query.view).url(),
        first_page=cursor is None,
        missing_ticket=missing,
        config=_client_config(
            signed=signed,
            language=language,
            languages=supported,
            query=query,
            team_ids=team_ids,
            teams=[{"id": team.id, "name": team.name} for team in teams],
            roster=roster,
            names=names,
            open_ticket_ids=open_ticket_ids,
            now=uow.clock.now().isoformat(),
        ),
    )


async def _at_risk_page(uow: UowDep, *, actor: Actor, query: InboxQuery) -> Page[Ticket]:
    """Conversations with a running clock past its warning or deadline, soonest due (or
    longest overdue) first; one page, as the floor keeps this list short."""
    actor.require(Permission.TICKETS_READ)
    risky = await floor_service.at_risk_tickets(uow, limit=INBOX_PAGE_SIZE * 2)
    ordered = list(dict.fromkeys(item.ticket_id for item in risky))  # a ticket once, first due
    tickets = await ticket_service.get_tickets(uow, actor=actor, ticket_ids=ordered)
    admitted = [ticket for ticket in tickets if query.admits(ticket)]
    return Page(items=admitted[:INBOX_PAGE_SIZE], next_cursor=None)


@router.get("")
async def inbox(
    request: Request,
    runtime: RuntimeDep,
    uow: ReadUowDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return await _workspace(request, runtime, uow, cursor=cursor, open_ticket_id=None)


@router.get("/tickets/{ticket_id}")
async def conversation_page(
    ticket_id: IdPath,
    request: Request,
    runtime: RuntimeDep,
    uow: ReadUowDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A link to one conversation: the workspace with it open."""
    return await _workspace(request, runtime, uow, cursor=cursor, open_ticket_id=ticket_id)
