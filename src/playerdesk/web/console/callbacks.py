"""The callback queue in the console: players waiting for a call (highest VIP tier first),
"take it", "call now" and the outcome.

Plain forms that post back and redirect, like the administration pages (admin.submit_form:
CSRF checked, one service call, the page again with the refusal next to its form).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import PermissionDenied, ValidationFailed
from playerdesk.domain.permissions import Permission
from playerdesk.domain.phone import CallbackSource, CallbackStatus
from playerdesk.i18n import language_name, translations
from playerdesk.services import callbacks as callback_service
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.admin import (
    FormError,
    Viewer,
    _signed_or_login,
    forbidden_page,
    submit_form,
)
from playerdesk.web.console.routes import _language, _page
from playerdesk.web.deps import IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.phone import callback_policy

router = APIRouter(prefix="/console/callbacks", include_in_schema=False)

BASE = "/console/callbacks"
WAITING, MINE, ALL = "waiting", "mine", "all"
SHOWS = (WAITING, MINE, ALL)
# The service's refusals, marked so that the page can show them translated.
SERVICE_MESSAGES = (
    N_("say what was agreed on the call"),
    N_("at most 2000 characters"),
    N_("this callback is finished"),
    N_("no such callback"),
)


def _show(value: str | None) -> str:
    return value if value in SHOWS else ALL


def _source_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        CallbackSource.MISSED_CALL.value: _("Missed call"),
        CallbackSource.WIDGET.value: _("Chat widget"),
        CallbackSource.HELPCENTER.value: _("Help centre"),
        CallbackSource.TELEGRAM.value: "Telegram",
    }


async def _render(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    show: str,
    error: FormError | None = None,
    notes: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = _language(request, runtime)
    actor = signed.actor
    try:
        items = await callback_service.list_callbacks(
            uow,
            actor=actor,
            statuses=[CallbackStatus.WAITING] if show == WAITING else [],
            agent_id=actor.agent_id if show == MINE else None,
            vip_tiers=list(runtime.settings.vip_tiers),
        )
    except PermissionDenied:
        return forbidden_page(request, runtime, signed)
    _ = translations(language).gettext
    # A refusal about a callback that is no longer listed (finished, or never was) is shown
    # above the list: it has no form of its own to stand next to.
    listed = {f"{kind}-{item.callback.id}" for item in items for kind in ("take", "outcome")}
    page_error = error if error is not None and error.form not in listed else None
    return _page(
        request,
        runtime,
        "console/callbacks.html",
        status_code=status_code,
        agent_name=signed.name,
        section="callbacks",
        can_floor=actor.can(Permission.FLOOR_READ),
        can_admin=actor.role.value in ("supervisor", "admin"),
        can_callbacks=True,
        saved=request.query_params.get("saved") == "1" and error is None,
        error=error,
        page_error=page_error,
        notes=notes or {},
        items=items,
        me_id=actor.agent_id,
        show=show,
        shows=[
            (WAITING, _("Waiting"), f"{BASE}?show={WAITING}"),
            (MINE, _("Mine"), f"{BASE}?show={MINE}"),
            (ALL, _("All"), f"{BASE}?show={ALL}"),
        ],
        sources=_source_labels(language),
    )


@router.get("")
async def callbacks_page(
    request: Request, runtime: RuntimeDep, uow: ReadUowDep, show: str = ALL
) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _render(request, runtime, uow, signed, show=_show(show))


async def _submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    *,
    form_name: str,
    action: Any,
) -> Response:
    form = await request.form()
    show = _show(str(form.get("show") or ""))

    async def refused(signed: Viewer, error: FormError, status: int, posted: FormData) -> Response:
        notes = {form_name: str(posted.get("note") or "")}
        return await _render(
            request, runtime, uow, signed, show=show, error=error, notes=notes, status_code=status
        )

    return await submit_form(
        request,
        runtime,
        uow,
        form_name=form_name,
        action=action,
        refused=refused,
        done=f"{BASE}?show={show}&saved=1",
    )


@router.post("/{callback_id}/take")
async def take_callback(
    callback_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    """Assign to me: the service refuses when I do not speak the player's language."""
    language = _language(request, runtime)

    async def action(form: FormData, signed: Viewer) -> object:
        try:
            return await callback_service.assign_callback(
                uow, actor=signed.actor, callback_id=callback_id, agent_id=signed.actor.agent_id
            )
        except ValidationFailed as refusal:
            if refusal.field != "agent_id":
                raise
            # The form names the call's language only to say it here; the service decided.
            wanted = str(form.get("language") or "")
            named = (
                language_name(wanted, in_language=language)
                if wanted in runtime.settings.languages
                else wanted.upper()[:8]
            )
            _ = translations(language).gettext
            raise ValidationFailed(
                # Translators: {language} is a language's name, e.g. Polish.
                _(
                    "Sorry, this player asked for a call in {language}, which you do not "
                    "speak: it is left for a colleague who does."
                ).format(language=named),
                field="agent_id",
            ) from refusal

    return await _submit(request, runtime, uow, form_name=f"take-{callback_id}", action=action)


@router.post("/{callback_id}/outcome")
async def record_outcome(
    callback_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    """After "call now": done (a note is required) or failed (tried again later)."""

    async def action(form: FormData, signed: Viewer) -> object:
        outcome = str(form.get("outcome") or "")
        if outcome not in ("done", "failed"):
            raise ValidationFailed(N_("choose whether you reached the player"), field="outcome")
        return await callback_service.record_callback_outcome(
            uow,
            actor=signed.actor,
            callback_id=callback_id,
            reached=outcome == "done",
            note=str(form.get("note") or ""),
            policy=callback_policy(runtime),
        )

    return await _submit(request, runtime, uow, form_name=f"outcome-{callback_id}", action=action)
