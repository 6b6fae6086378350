"""Console login, logout, language choice and the ticket list."""

from __future__ import annotations

import math
import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.domain.errors import AuthenticationFailed, TooManyAttempts, ValidationFailed
from playerdesk.domain.permissions import Actor
from playerdesk.i18n import language_name, translations
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from playerdesk.settings import Environment
from playerdesk.web.console.rendering import LANGUAGE_COOKIE, render, request_language
from playerdesk.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    RuntimeDep,
    UowDep,
    client_ip,
    csrf_token_for,
    csrf_valid,
)

router = APIRouter(prefix="/console", include_in_schema=False)

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


async def _session_actor(request: Request, uow: UowDep) -> tuple[Actor, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        result = await auth.authenticate_session(uow, token=token, ip=client_ip(request))
    except AuthenticationFailed:
        return None
    return result.actor, result.agent.name


@router.get("/login")
async def login_form(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    signed_out: Annotated[bool, Query()] = False,
) -> Response:
    if await _session_actor(request, uow) is not None:
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
        await auth.logout(uow, token=token, ip=client_ip(request))
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


@router.get("")
async def inbox(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    who = await _session_actor(request, uow)
    if who is None:
        return RedirectResponse(LOGIN, status_code=303)
    actor, agent_name = who
    try:
        page = await ticket_service.list_tickets(
            uow,
            actor=actor,
            filters=ticket_service.TicketFilter(),
            cursor=cursor,
            limit=INBOX_PAGE_SIZE,
        )
    except ValidationFailed:
        # A stale or hand-edited cursor: start again from the newest conversations.
        return RedirectResponse(HOME, status_code=303)
    return _page(
        request,
        runtime,
        "console/inbox.html",
        agent_name=agent_name,
        tickets=page.items,
        next_cursor=page.next_cursor,
        first_page=cursor is None,
    )
