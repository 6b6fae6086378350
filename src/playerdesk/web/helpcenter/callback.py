"""The help centre's "call me back" form: a player leaves a number and a time, and an agent
who speaks their language rings them.

Built like the contact form (routes.py): no script, no cookies, the signed form token and
the honeypot against bots, the service's rate limits per address and per number, every
mistake back next to its field with what was typed. The source is always the help centre:
the server says so, never the form.

Times are the desk's (the General team's calendar zone), and the page says which zone: a
page without script cannot know the player's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import structlog
from babel.dates import format_date, format_time, format_timedelta
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import time_zone_named
from playerdesk.domain.errors import (
    AuthenticationFailed,
    DomainError,
    TooManyAttempts,
    ValidationFailed,
)
from playerdesk.domain.phone import CallbackSource
from playerdesk.domain.routing import TeamPurpose
from playerdesk.domain.tokens import sign, verify
from playerdesk.i18n import language_name, translations
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.services.floor_config import floor_config
from playerdesk.services.forms import rate_limit_key
from playerdesk.services.routing_admin import N_
from playerdesk.web.deps import Admitted, ReadUowDep, RuntimeDep, UowDep, client_ip
from playerdesk.web.errors import status_for
from playerdesk.web.helpcenter.guard import (
    HONEYPOT_FIELD,
    THANKS_TOKEN_TTL,
    Verdict,
    issue_form_token,
    judge_submission,
)
from playerdesk.web.helpcenter.routes import PREFIX, _language, _page
from playerdesk.web.phone import callback_policy

log = structlog.get_logger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

FORM_NAME = "callback"
PATH = f"{PREFIX}/callback"
THANKS_PURPOSE = "helpcenter-callback-thanks"
FIELD_PHONE = "phone"
FIELD_WHEN = "when"
FIELD_FROM = "from_time"
FIELD_UNTIL = "until_time"
FIELD_LANGUAGE = "language"
FIELD_REASON = "reason"
FIELD_ORDER = [FIELD_PHONE, FIELD_WHEN, FIELD_FROM, FIELD_UNTIL, FIELD_LANGUAGE, FIELD_REASON]
ASAP, TODAY, TOMORROW = "asap", "today", "tomorrow"
WHEN_CHOICES = (ASAP, TODAY, TOMORROW)
# The service's field names, as the inputs on this page are named.
SERVICE_FIELDS = {
    "phone": FIELD_PHONE,
    "window_from": FIELD_FROM,
    "window_until": FIELD_UNTIL,
    "language": FIELD_LANGUAGE,
    "reason": FIELD_REASON,
}
# The callback service's refusals, marked so that the page can show them translated.
SERVICE_MESSAGES = (
    N_("a phone number is required"),
    N_("not a phone number; give it with its country code, e.g. +44 20 7946 0958"),
    N_("not a valid phone number"),
    N_("the window has already passed"),
    N_("the window ends before it starts"),
    N_("at most a week ahead"),
    N_("at most 500 characters"),
)


@dataclass(frozen=True, kw_only=True)
class PostedCallback:
    language: str
    form_token: str
    honeypot: str
    phone: str
    when: str
    from_time: str
    until_time: str
    call_language: str
    reason: str

    def values(self) -> dict[str, str]:
        return {
            FIELD_PHONE: self.phone,
            FIELD_WHEN: self.when,
            FIELD_FROM: self.from_time,
            FIELD_UNTIL: self.until_time,
            FIELD_LANGUAGE: self.call_language,
            FIELD_REASON: self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class Window:
    """When the player wants the call, in the desk's zone; none for "as soon as possible"."""

    starts: datetime | None
    ends: datetime | None


async def desk_time_zone(uow: UnitOfWork) -> ZoneInfo:
    """The General team's calendar zone: the hours the help centre shows are in it too."""
    config = await floor_config(uow)
    calendar = config.calendar_for(config.purposes.get(TeamPurpose.GENERAL))
    return time_zone_named(calendar.time_zone)


def _clock_time(text: str) -> time | None:
    try:
        parsed = time.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def read_window(
    posted: PostedCallback, *, now: datetime, zone: ZoneInfo, language: str
) -> tuple[Window, dict[str, str]]:
    """The window the form describes, or the errors that keep it from being read. Whether it
    is in the past or back to front is the service's to say."""
    _ = translations(language).gettext
    errors: dict[str, str] = {}
    if posted.when not in WHEN_CHOICES:
        errors[FIELD_WHEN] = _("Choose when we should call you.")
        return Window(starts=None, ends=None), errors
    if posted.when == ASAP:
        return Window(starts=None, ends=None), errors
    starts_at = _clock_time(posted.from_time)
    ends_at = _clock_time(posted.until_time)
    if starts_at is None:
        errors[FIELD_FROM] = _("Enter a time of day like 14:30.")
    if ends_at is None:
        errors[FIELD_UNTIL] = _("Enter a time of day like 16:00.")
    if starts_at is None or ends_at is None:
        return Window(starts=None, ends=None), errors
    day: date = now.astimezone(zone).date() + timedelta(days=1 if posted.when == TOMORROW else 0)
    return (
        Window(
            starts=datetime.combine(day, starts_at, tzinfo=zone),
            ends=datetime.combine(day, ends_at, tzinfo=zone),
        ),
        errors,
    )


def _service_errors(error: ValidationFailed, *, language: str) -> dict[str, str]:
    message = translations(language).gettext(error.detail)
    field = SERVICE_FIELDS.get(error.field or "", FIELD_PHONE)
    return {field: message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")}


def _thanks_token(*, runtime: Runtime, language: str, window: Window, zone: ZoneInfo) -> str:
    """The thank-you link carries the window itself (signed), so that the page reads nothing
    from the database and cannot be made to show anyone else's call."""
    now = runtime.clock.now()
    return sign(
        {
            "lang": language,
            "starts": window.starts.isoformat() if window.starts else None,
            "ends": window.ends.isoformat() if window.ends else None,
            "zone": zone.key,
        },
        secret=runtime.settings.secret_key,
        purpose=THANKS_PURPOSE,
        expires_at=now + THANKS_TOKEN_TTL,
    )


def _thanks_redirect(
    runtime: Runtime, *, language: str, window: Window, zone: ZoneInfo
) -> Response:
    token = _thanks_token(runtime=runtime, language=language, window=window, zone=zone)
    return RedirectResponse(f"{PATH}/thanks?{urlencode({'t': token})}", status_code=303)


def _form_page(
    request: Request,
    runtime: Runtime,
    *,
    language: str,
    zone: ZoneInfo,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    settings = runtime.settings
    shown = {FIELD_WHEN: ASAP, FIELD_LANGUAGE: language, **(values or {})}
    return _page(
        request,
        runtime,
        "helpcenter/callback.html",
        language=language,
        status_code=status_code,
        form=FORM_NAME,
        form_token=issue_form_token(
            form=FORM_NAME, now=runtime.clock.now(), secret=settings.secret_key
        ),
        honeypot_field=HONEYPOT_FIELD,
        values=shown,
        errors=errors or {},
        field_order=FIELD_ORDER,
        alert=alert,
        zone=zone.key,
        call_languages=[
            (code, language_name(code, in_language=language)) for code in settings.languages
        ],
        max_reason_chars=callback_service.MAX_REASON,
    )


@router.get("/callback")
async def callback_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    language = _language(request, runtime.settings)
    return _form_page(request, runtime, language=language, zone=await desk_time_zone(uow))


@router.post("/callback", dependencies=[Admitted])
async def send_callback_request(
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    lang: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    when: Annotated[str, Form()] = "",
    from_time: Annotated[str, Form()] = "",
    until_time: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Spam guards, the window read from the form, then the one use case. Every field is
    optional text without a length limit here (the request's size is limited anyway), so
    that nothing a browser sends ends as FastAPI's JSON error: the page says what is wrong."""
    posted = PostedCallback(
        language=lang,
        form_token=form_token,
        honeypot=website,
        phone=phone,
        when=when,
        from_time=from_time,
        until_time=until_time,
        call_language=language,
        reason=reason,
    )
    settings = runtime.settings
    page_language = _language(request, settings, chosen=posted.language)
    _ = translations(page_language).gettext
    zone = await desk_time_zone(uow)
    now = runtime.clock.now()

    def again(
        *, errors: dict[str, str] | None = None, alert: str | None = None, status_code: int
    ) -> Response:
        return _form_page(
            request,
            runtime,
            language=page_language,
            zone=zone,
            values=posted.values(),
            errors=errors,
            alert=alert,
            status_code=status_code,
        )

    verdict = judge_submission(
        form=FORM_NAME,
        form_token=posted.form_token,
        honeypot=posted.honeypot,
        now=now,
        secret=settings.secret_key,
    )
    if verdict is Verdict.BOT:
        # The same answer a person gets, so that it has no reason to try differently; nothing
        # is queued, and nobody is rung.
        log.info("helpcenter_bot_dropped", form=FORM_NAME)
        return _thanks_redirect(
            runtime, language=page_language, window=Window(starts=None, ends=None), zone=zone
        )
    if verdict is Verdict.STALE:
        return again(
            alert=_(
                "This page was open for a long time, so your request was not sent yet. "
                "Please check it and send it again."
            ),
            status_code=400,
        )
    window, errors = read_window(posted, now=now, zone=zone, language=page_language)
    if errors:
        return again(errors=errors, status_code=422)
    try:
        await callback_service.request_callback(
            uow,
            phone=posted.phone,
            window_from=window.starts,
            window_until=window.ends,
            language=posted.call_language or page_language,
            reason=posted.reason,
            source=CallbackSource.HELPCENTER,
            ip_key=rate_limit_key(client_ip(request)),
            policy=callback_policy(runtime),
        )
    except ValidationFailed as invalid:
        return again(errors=_service_errors(invalid, language=page_language), status_code=422)
    except TooManyAttempts as refused:
        wait = format_timedelta(
            timedelta(seconds=refused.retry_after_seconds), locale=page_language, threshold=2
        )
        response = again(
            alert=_(
                "You have asked for several calls in a short time. Please try again in {duration}."
            ).format(duration=wait),
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after_seconds)
        return response
    except DomainError as error:
        log.info("helpcenter_form_refused", form=FORM_NAME, code=error.code)
        return again(
            alert=_("We could not send your request. Please try again."),
            status_code=status_for(error),
        )
    return _thanks_redirect(runtime, language=page_language, window=window, zone=zone)


def _promise(payload: dict[str, object], *, language: str) -> str | None:
    """When the call will come, in the player's language; None if the link is not ours."""
    _ = translations(language).gettext
    starts, ends, zone_name = payload.get("starts"), payload.get("ends"), payload.get("zone")
    if starts is None and ends is None:
        return _("We will call you as soon as one of our agents is free.")
    if not (isinstance(starts, str) and isinstance(ends, str) and isinstance(zone_name, str)):
        return None
    try:
        zone = time_zone_named(zone_name)
        window_from = datetime.fromisoformat(starts).astimezone(zone)
        window_until = datetime.fromisoformat(ends).astimezone(zone)
    except (ValueError, ValidationFailed):
        return None
    # Translators: {date} is e.g. "Monday, 2 November 2026", {start} and {end} times of day,
    # {zone} a time zone name such as Europe/Warsaw.
    return _("We will call you on {date} between {start} and {end} ({zone} time).").format(
        date=format_date(window_from.date(), "full", locale=language),
        start=format_time(window_from, "short", locale=language),
        end=format_time(window_until, "short", locale=language),
        zone=zone.key,
    )


@router.get("/callback/thanks")
async def callback_thanks_page(request: Request, runtime: RuntimeDep, t: str = "") -> Response:
    settings = runtime.settings
    try:
        payload = verify(
            t, secret=settings.secret_key, purpose=THANKS_PURPOSE, now=runtime.clock.now()
        )
    except AuthenticationFailed:
        payload = {}
    chosen = payload.get("lang")
    language = _language(request, settings, chosen=chosen if isinstance(chosen, str) else "")
    promise = _promise(payload, language=language) if payload else None
    return _page(
        request,
        runtime,
        "helpcenter/callback_thanks.html",
        language=language,
        status_code=200 if promise else 404,
        form=FORM_NAME,
        promise=promise,
    )
