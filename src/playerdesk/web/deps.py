"""Request dependencies: the runtime, a unit of work, and the authenticated actor."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import AuthenticationFailed, PermissionDenied
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.settings import Settings

SESSION_COOKIE = "pd_session"
CSRF_COOKIE = "pd_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def admitted(runtime: RuntimeDep) -> AsyncIterator[None]:
    """A turn to use the database (see db/admission.py), held for the whole request; an
    overloaded process answers 503 with Retry-After instead of queueing. Routers that reach
    the database declare it first, so it is taken before any unit of work opens."""
    async with runtime.admission.slot():
        yield


Admitted = Depends(admitted)


async def get_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


async def admitted_until_commit(runtime: RuntimeDep, uow: UowDep) -> AsyncIterator[None]:
    """`Admitted` for a use case that commits its database work and then waits for another
    system (the casino back office): the turn ends at the commit, so a slow back office does
    not hold turns that replies need."""
    slot = runtime.admission.slot()
    await slot.__aenter__()
    held = True

    async def release() -> None:
        nonlocal held
        if held:
            held = False
            await slot.__aexit__(None, None, None)

    uow.on_commit(release)
    try:
        yield
    finally:
        await release()


AdmittedUntilCommit = Depends(admitted_until_commit)


async def get_read_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.read_uow() as uow:
        yield uow


# For handlers whose use cases only read (no audit row either): on SQLite they do not
# queue for the write lock.
ReadUowDep = Annotated[UnitOfWork, Depends(get_read_uow)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token_for(nonce: str, *, secret_key: str) -> str:
    """The form/header token that proves a request came from our own page (double submit)."""
    return hmac.new(secret_key.encode(), f"csrf:{nonce}".encode(), "sha256").hexdigest()


def csrf_valid(request: Request, *, submitted: str | None, secret_key: str) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token_for(nonce, secret_key=secret_key), submitted)


async def current_actor(request: Request, runtime: RuntimeDep) -> Actor:
    """Bearer API token, or the console's session cookie (then unsafe methods need CSRF).

    Authentication is its own short read-only unit of work, finished before the use case
    opens its own; recording a token's use is a separate short write, only when due. A
    credential checked a moment ago comes from the process's cache and costs no
    transaction at all.
    """
    ip = client_ip(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationFailed("use 'Authorization: Bearer <token>'")
        async with runtime.read_uow() as uow:
            checked = await auth.token_actor(
                uow, token=credentials.strip(), ip=ip, cache=runtime.actor_cache
            )
        if checked.touch_due and checked.actor.token_id is not None:
            async with runtime.uow() as uow:
                await auth.touch_token(uow, token_id=checked.actor.token_id)
        return checked.actor
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        async with runtime.read_uow() as uow:
            actor = await auth.session_actor(
                uow, token=session_token, ip=ip, cache=runtime.actor_cache
            )
        if request.method not in SAFE_METHODS and not csrf_valid(
            request,
            submitted=request.headers.get(CSRF_HEADER),
            secret_key=runtime.settings.secret_key,
        ):
            raise PermissionDenied("missing or wrong CSRF token", field=CSRF_HEADER)
        return actor
    raise AuthenticationFailed("authentication required")


CurrentActor = Annotated[Actor, Depends(current_actor)]

# Ids in paths: validated as 64-bit so an absurd number is a 422, never a database error.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
