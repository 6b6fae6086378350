"""The console page of the bot, for supervisors and admins (Permission.BOT_MANAGE): a switch
per chat and messenger channel on which the bot answers first, with who switched it last,
and what the bot did in the last days: answered, handed over and why, what players asked,
and the latest hand-overs to read.

Plain forms that post back and redirect, as on the other administration pages (one path:
admin.submit_form).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.datastructures import FormData

from playerdesk.bot.intents import Intent
from playerdesk.bot.policy import HandoffReason
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.permissions import Permission
from playerdesk.i18n import language_name, translations
from playerdesk.services import bot_admin as service
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.admin import FormError, Viewer, _common, _signed_or_login, submit_form
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

PGettext = Callable[[str, str], str]


def _reason_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        HandoffReason.RISK_DETECTED: pgettext(
            "bot hand-off reason", "Signs of gambling harm were detected"
        ),
        HandoffReason.ASKED_FOR_AGENT: pgettext(
            "bot hand-off reason", "The player asked for a person"
        ),
        HandoffReason.SENSITIVE_INTENT: pgettext(
            "bot hand-off reason", "A subject only people handle"
        ),
        HandoffReason.LOW_CONFIDENCE: pgettext(
            "bot hand-off reason", "The bot was not sure what the player meant"
        ),
        HandoffReason.TRIES_EXHAUSTED: pgettext("bot hand-off reason", "Two answers did not help"),
        HandoffReason.PLAYER_PROTECTED: pgettext(
            "bot hand-off reason", "A protected player asked about bonuses or deposits"
        ),
        HandoffReason.NO_ANSWER: pgettext(
            "bot hand-off reason", "No answer in the knowledge base or the account"
        ),
        HandoffReason.BACK_OFFICE_UNAVAILABLE: pgettext(
            "bot hand-off reason", "The casino back office did not answer"
        ),
    }


def _intent_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        Intent.GREETING: pgettext("bot intent", "Greeting"),
        Intent.THANKS_BYE: pgettext("bot intent", "Thanks or goodbye"),
        Intent.HUMAN_AGENT: pgettext("bot intent", "Asks for a person"),
        Intent.ACCOUNT_ACCESS: pgettext("bot intent", "Signing in"),
        Intent.REGISTRATION: pgettext("bot intent", "Registration"),
        Intent.BALANCE: pgettext("bot intent", "Balance"),
        Intent.DEPOSIT_MISSING: pgettext("bot intent", "Deposit not credited"),
        Intent.DEPOSIT_HELP: pgettext("bot intent", "How to deposit"),
        Intent.WITHDRAWAL_STATUS: pgettext("bot intent", "Withdrawal status"),
        Intent.WITHDRAWAL_HELP: pgettext("bot intent", "How to withdraw"),
        Intent.VERIFICATION: pgettext("bot intent", "Verification (KYC)"),
        Intent.BONUS_TERMS: pgettext("bot intent", "Bonus terms"),
        Intent.BONUS_MISSING: pgettext("bot intent", "Bonus not credited"),
        Intent.GAME_ISSUE: pgettext("bot intent", "Problem with a game"),
        Intent.RESPONSIBLE_GAMBLING: pgettext("bot intent", "Responsible gambling"),
        Intent.ACCOUNT_CLOSURE: pgettext("bot intent", "Closing the account"),
        Intent.COMPLAINT: pgettext("bot intent", "Complaint"),
        Intent.PERSONAL_DATA: pgettext("bot intent", "Personal data"),
        Intent.VIP: pgettext("bot intent", "VIP programme"),
        Intent.OUT_OF_SCOPE: pgettext("bot intent", "Not about the casino"),
    }


class _Lookup:
    """Translated labels that fall back to the raw value, so a value added later still shows."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels

    def __call__(self, value: str | None) -> str:
        if not value:
            return ""
        return self.labels.get(value, value)


@cache
def reason_label(language: str) -> _Lookup:
    pgettext = translations(language).pgettext
    return _Lookup({str(key): text for key, text in _reason_labels(pgettext).items()})


@cache
def intent_label(language: str) -> _Lookup:
    pgettext = translations(language).pgettext
    return _Lookup({str(key): text for key, text in _intent_labels(pgettext).items()})


def _days(query: Mapping[str, str]) -> int:
    # A hand-edited or stale query string still shows a report: the default period.
    text = query.get("days", "")
    return int(text) if text.isdigit() and int(text) in REPORT_DAYS else DEFAULT_DAYS


def _share(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _forbidden(request: Request, runtime: RuntimeDep, signed: Viewer) -> Response:
    language = _language(request, runtime)
    return _page(
        request,
        runtime,
        "console/admin/forbidden.html",
        status_code=403,
        **_common(signed, "", language),
        forbidden_title=translations(language).gettext("Bot"),
    )


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
        return _forbidden(request, runtime, signed)
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
