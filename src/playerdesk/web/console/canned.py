"""Console pages for canned replies and macros, for supervisors and admins
(Permission.CANNED_REPLIES_MANAGE): the list with how often each is used, and the form to
write or change one, with the placeholders it may use and a macro's actions.

Plain forms that post back and redirect, as on the other administration pages (one path:
admin.submit_form). A refused form comes back with what was typed kept and the message
next to the field at fault.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from playerdesk.db.models import CannedReply
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Priority, TicketStatus
from playerdesk.domain.errors import NotFound, ValidationFailed
from playerdesk.domain.permissions import Permission
from playerdesk.domain.placeholders import PLACEHOLDERS, PlaceholderError
from playerdesk.i18n import language_name, translations
from playerdesk.services import agents as agent_service
from playerdesk.services import canned as canned_service
from playerdesk.services.canned import MACRO_STATUSES, CannedQuery, CannedReplyInput
from playerdesk.services.placeholder_values import placeholder_descriptions
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.admin import (
    FormError,
    Viewer,
    _common,
    _signed_or_login,
    forbidden_page,
    submit_form,
)
from playerdesk.web.console.labels import labels
from playerdesk.web.console.routes import _language, _page
from playerdesk.web.deps import Admitted, IdPath, ReadUowDep, RuntimeDep, UowDep

router = APIRouter(prefix="/console/admin", include_in_schema=False, dependencies=[Admitted])

CANNED = "/console/admin/canned"
SECTION = "canned"
FORM = "canned"
LIST_SHOWN = 200

# The domain's placeholder messages (domain.placeholders), marked here for translation; the
# placeholder itself is put in after translating ({name}).
PLACEHOLDER_MESSAGES = (
    N_("unknown placeholder {name}"),
    N_("{name} is not a placeholder: use lowercase names like {{player.first_name}}"),
    N_("a placeholder is not closed: write it like {{player.first_name}}"),
    N_("replace the placeholders that have no value before sending: {name}"),
)

NEW_REPLY: dict[str, Any] = {
    "id": "",
    "shortcut": "",
    "title": "",
    "body": "",
    "team_id": "",
    "is_active": True,
    "set_status": "",
    "set_priority": "",
    "add_tags": "",
    "move_to_team_id": "",
}

_SEPARATORS = re.compile(r"[\s,;]+")


def _text(form: FormData, name: str) -> str:
    text = str(form.get(name) or "")
    if "\x00" in text:
        raise ValidationFailed(N_("this field cannot contain NUL characters"), field=name)
    return text.strip()


def _team(form: FormData, name: str) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed(N_("no such team"), field=name)
    return int(text)


def _status(form: FormData) -> TicketStatus | None:
    text = _text(form, "set_status")
    if not text:
        return None
    try:
        return TicketStatus(text)
    except ValueError:
        raise ValidationFailed(
            N_("a macro can set the status to open, pending, on hold or resolved"),
            field="set_status",
        ) from None


def _priority(form: FormData) -> Priority | None:
    text = _text(form, "set_priority")
    if not text:
        return None
    try:
        return Priority(text)
    except ValueError:
        raise ValidationFailed(N_("choose a priority"), field="set_priority") from None


def _reply_input(form: FormData) -> CannedReplyInput:
    return CannedReplyInput(
        shortcut=_text(form, "shortcut"),
        language=_text(form, "language"),
        title=_text(form, "title"),
        body=_text(form, "body"),
        team_id=_team(form, "team_id"),
        is_active="is_active" in form,
        set_status=_status(form),
        set_priority=_priority(form),
        add_tags=[tag for tag in _SEPARATORS.split(_text(form, "add_tags")) if tag],
        move_to_team_id=_team(form, "move_to_team_id"),
    )


def _typed(form: FormData) -> dict[str, Any]:
    names = ("id", "shortcut", "language", "title", "team_id", "set_status", "set_priority")
    typed: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in names}
    typed |= {
        "body": str(form.get("body") or ""),
        "add_tags": str(form.get("add_tags") or ""),
        "move_to_team_id": str(form.get("move_to_team_id") or ""),
        "is_active": "is_active" in form,
    }
    return typed


def _stored(row: CannedReply) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "shortcut": row.shortcut,
        "language": row.language,
        "title": row.title,
        "body": row.body,
        "team_id": str(row.team_id or ""),
        "is_active": row.is_active,
        "set_status": row.set_status or "",
        "set_priority": row.set_priority or "",
        "add_tags": " ".join(row.add_tags),
        "move_to_team_id": str(row.move_to_team_id or ""),
    }


def _translated(exc: PlaceholderError, language: str) -> ValidationFailed:
    message = translations(language).gettext(exc.message).replace("{name}", exc.name)
    return ValidationFailed(message, field=exc.field)


async def _canned_page(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    error: FormError | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    if not signed.actor.can(Permission.CANNED_REPLIES_MANAGE):
        return forbidden_page(
            request,
            runtime,
            signed,
            title=translations(_language(request, runtime)).gettext("Canned replies"),
        )
    language = _language(request, runtime)
    supported = runtime.settings.languages
    shown_language = request.query_params.get("language", "")
    rows = await canned_service.list_canned_replies(
        uow,
        actor=signed.actor,
        query=CannedQuery(limit=LIST_SHOWN),
        default_language=runtime.policies.players.default_language,
    )
    if shown_language in supported:
        rows = [row for row in rows if row.language == shown_language]
    teams = await agent_service.list_teams(uow, actor=signed.actor)
    form = dict(NEW_REPLY, language=runtime.policies.players.default_language)
    if typed is not None and error is not None:
        form = typed
    editing = request.query_params.get("edit", "")
    if typed is None and editing.isdigit():
        for row in rows:
            if row.id == int(editing):
                form = _stored(row)
        if form["id"] != editing:
            # Not in the filtered list: fetch it on its own (gone: a new form instead).
            with contextlib.suppress(NotFound):
                form = _stored(
                    await canned_service.get_canned_reply(
                        uow, actor=signed.actor, canned_id=int(editing)
                    )
                )
    text = labels(language)
    descriptions = placeholder_descriptions(language)
    unchanged = error is None
    return _page(
        request,
        runtime,
        "console/admin/canned.html",
        status_code=status,
        **_common(signed, SECTION, language),
        replies=rows,
        teams=teams,
        team_names={team.id: team.name for team in teams},
        languages_supported=[
            (code, language_name(code, in_language=language)) for code in supported
        ],
        shown_language=shown_language if shown_language in supported else "",
        status_labels={status.value: text.status(status.value) for status in MACRO_STATUSES},
        priority_labels={priority.value: text.priority(priority.value) for priority in Priority},
        placeholders=[
            (name, descriptions[name], item.source.from_back_office)
            for name, item in PLACEHOLDERS.items()
        ],
        form=form,
        error=error,
        saved=unchanged and request.query_params.get("saved") == "1",
        deleted=unchanged and request.query_params.get("deleted") == "1",
    )


async def _submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    *,
    action: Any,
    done: str,
    keep_typed: bool,
) -> Response:
    async def refused(signed: Viewer, error: FormError, status: int, form: FormData) -> Response:
        typed = _typed(form) if keep_typed else None
        return await _canned_page(
            request, runtime, uow, signed, error=error, typed=typed, status=status
        )

    return await submit_form(
        request, runtime, uow, form_name=FORM, action=action, refused=refused, done=done
    )


@router.get("/canned")
async def canned_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _canned_page(request, runtime, uow, signed)


@router.post("/canned")
async def save_canned_reply(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    language = _language(request, runtime)
    players = runtime.policies.players
    languages = canned_service.CannedLanguages(
        supported=players.languages, default=players.default_language
    )

    async def action(form: FormData, signed: Viewer) -> object:
        editing = _text(form, "id")
        try:
            if not editing:
                return await canned_service.create_canned_reply(
                    uow, actor=signed.actor, reply=_reply_input(form), languages=languages
                )
            if not editing.isdigit():
                raise ValidationFailed(N_("no such canned reply"), field="id")
            return await canned_service.update_canned_reply(
                uow,
                actor=signed.actor,
                canned_id=int(editing),
                reply=_reply_input(form),
                languages=languages,
            )
        except PlaceholderError as exc:
            raise _translated(exc, language) from None

    return await _submit(
        request, runtime, uow, action=action, done=f"{CANNED}?saved=1", keep_typed=True
    )


@router.post("/canned/{canned_id}/delete")
async def delete_canned_reply(
    canned_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await canned_service.delete_canned_reply(uow, actor=signed.actor, canned_id=canned_id)
        return None

    return await _submit(
        request, runtime, uow, action=action, done=f"{CANNED}?deleted=1", keep_typed=False
    )
