"""Console login, logout and the ticket list."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.domain.errors import AuthenticationFailed, TooManyAttempts
from playerdesk.domain.permissions import Actor
from playerdesk.i18n import translations
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from playerdesk.settings import Environment
from playerdesk.web.console.rendering import render, request_language
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


def _login_page(
    request: Request, runtime: RuntimeDep, *, error: str | None, email: str, status_code: int
) -> Response:
    nonce, is_new = _csrf_nonce(request)
    response = render(
        "console/login.html",
        language=_language(request, runtime),
        status_code=status_code,
        csrf_token=csrf_token_for(nonce, secret_key=runtime.settings.secret_key),
        error=error,
        email=email,
    )
    if is_new:
        secure = runtime.settings.env is Environment.PROD
        _set_cookie(response, CSRF_COOKIE, nonce, secure=secure, max_age=None)
    return response


@router.get("/login")
async def login_form(request: Request, runtime: RuntimeDep) -> Response:
    return _login_page(request, runtime, error=None, email="", status_code=200)


@router.post("/login")
async def login_submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _ = translations(_language(request, runtime)).gettext
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
        response = _login_page(
            request,
            runtime,
            error=_("Too many failed attempts. Try again in {minutes} minutes.").format(
                minutes=max(1, exc.retry_after_seconds // 60)
            ),
            email=email,
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except AuthenticationFailed:
        return _login_page(
            request, runtime, error=_("Wrong email or password."), email=email, status_code=401
        )
    response = RedirectResponse("/console", status_code=303)
    secure = runtime.settings.env is Environment.PROD
    _set_cookie(
        response,
        SESSION_COOKIE,
        result.session_token,
        secure=secure,
        max_age=runtime.settings.session_ttl_seconds,
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
    if token and csrf_valid(request, submitted=csrf_token, secret_key=runtime.settings.secret_key):
        await auth.logout(uow, token=token, ip=client_ip(request))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _session_actor(request: Request, uow: UowDep) -> tuple[Actor, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        result = await auth.authenticate_session(uow, token=token, ip=client_ip(request))
    except AuthenticationFailed:
        return None
    return result.actor, result.agent.name


@router.get("")
async def inbox(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    who = await _session_actor(request, uow)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    actor, agent_name = who
    page = await ticket_service.list_tickets(
        uow, actor=actor, filters=ticket_service.TicketFilter(), cursor=None, limit=50
    )
    nonce, is_new = _csrf_nonce(request)
    response = render(
        "console/inbox.html",
        language=_language(request, runtime),
        agent_name=agent_name,
        tickets=page.items,
        csrf_token=csrf_token_for(nonce, secret_key=runtime.settings.secret_key),
    )
    if is_new:
        _set_cookie(
            response,
            CSRF_COOKIE,
            nonce,
            secure=runtime.settings.env is Environment.PROD,
            max_age=None,
        )
    return response
