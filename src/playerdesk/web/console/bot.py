"""The console page of the bot, for supervisors and admins (Permission.BOT_MANAGE): a switch
per chat and messenger channel on which the bot answers first, with who switched it last,
and what the bot did in the last days: answered, handed over and why, what players asked,
and the latest hand-overs to read.

Plain forms that post back and redirect, as on the other administration pages (one path:
admin.submit_form).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.datastructures import FormData

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.permissions import Permission
from playerdesk.i18n import language_name, translations
from playerdesk.services import bot_admin as service
from playerdesk.services.bot_labels import intent_label, reason_label
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.admin import (
    FormError,
    Viewer,
    _common,
    _signed_or_login,
    forbidden_page,
    submit_form,
)
from playerdesk.web.console.routes import _language, _page
from playerdesk.web.deps import Admitted, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.common import SafeStr

router = APIRouter(prefix="/console/admin", include_in_schema=False, dependencies=[Admitted])

BOT = "/console/admin/bot"
SECTION = "bot"
FORM = "bot-channels"
REPORT_DAYS = (1, 7, 30)
DEFAULT_DAYS = 7

# The service's refusals, marked here so that the page can show them translated.
SERVICE_MESSAGES = (N_("the bot answers chat and messenger channels only"),)


def _days(query: Mapping[str, str]) -> int:
    # A hand-edited or stale query string still shows a report: the default period.
    text = query.get("days", "")
    return int(text) if text.isdigit() and int(text) in REPORT_DAYS else DEFAULT_DAYS


def _share(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


async def _bot_page(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    error: FormError | None = None,
    status: int = 200,
) -> Response:
    if not signed.actor.can(Permission.BOT_MANAGE):
        return forbidden_page(
            request, runtime, signed, title=translations(_language(request, runtime)).gettext("Bot")
        )
    language = _language(request, runtime)
    days = _days(request.query_params)
    channels = await service.list_bot_channels(uow, actor=signed.actor)
    report = await service.bot_report(
        uow, actor=signed.actor, since=uow.clock.now() - timedelta(days=days)
    )
    _ = translations(language).gettext
    period_labels = {
        1: _("The last 24 hours"),
        7: _("The last 7 days"),
        30: _("The last 30 days"),
    }
    context: dict[str, Any] = {
        "channels": channels,
        "report": report,
        "days": days,
        "day_choices": [(value, period_labels[value]) for value in REPORT_DAYS],
        "shares": {
            "answered": _share(report.answered, report.turns),
            "handed_off": _share(report.handed_off, report.turns),
            "skipped": _share(report.skipped, report.turns),
        },
        "share": _share,
        "reason_label": reason_label(language),
        "intent_label": intent_label(language),
        "language_label": lambda code: language_name(code, in_language=language) if code else "",
        "enabled_count": sum(1 for channel in channels if channel.enabled),
    }
    return _page(
        request,
        runtime,
        "console/admin/bot.html",
        status_code=status,
        **_common(signed, SECTION, language),
        **context,
        error=error,
        saved=error is None and request.query_params.get("saved") == "1",
    )


@router.get("/bot")
async def bot_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _bot_page(request, runtime, uow, signed)


@router.post("/bot/channels/{channel}")
async def switch_bot_channel(
    channel: Annotated[SafeStr, Path(max_length=20)],
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
) -> Response:
    days = _days(request.query_params)

    async def action(form: FormData, signed: Viewer) -> object:
        enabled = str(form.get("enabled") or "") == "1"
        return await service.set_bot_channel(
            uow, actor=signed.actor, channel=channel, enabled=enabled
        )

    async def refused(signed: Viewer, error: FormError, status: int, form: FormData) -> Response:
        return await _bot_page(request, runtime, uow, signed, error=error, status=status)

    return await submit_form(
        request,
        runtime,
        uow,
        form_name=FORM,
        action=action,
        refused=refused,
        done=f"{BOT}?days={days}&saved=1",
    )
