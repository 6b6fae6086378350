"""The widget's "call me back": a number and a time, queued by the callback service for an
agent who speaks the player's language to ring.

The same choices and checks as the help centre's form (web/helpcenter/callback.py): as soon
as possible, or today / tomorrow between two times of day, read by the same function, then
the one use case, which checks the number and the window and limits requests per address
and per number. Two differences, both because the widget runs script: the times are the
player's own (their browser's time zone, else the desk's), and a refusal comes back as
problem+json naming its fields, in the player's language, for the widget to show beside
them. The callback is the widget's player's: the casino's verified player, or the visitor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta
from fastapi.responses import JSONResponse
from pydantic import Field

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import time_zone_named
from playerdesk.domain.errors import TooManyAttempts, ValidationFailed
from playerdesk.i18n import translations
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.services.forms import rate_limit_key
from playerdesk.web.chat.widget_auth import WidgetSession
from playerdesk.web.errors import problem
from playerdesk.web.helpcenter.callback import (
    ASAP,
    FIELD_FROM,
    FIELD_PHONE,
    FIELD_REASON,
    FIELD_UNTIL,
    FIELD_WHEN,
    SERVICE_FIELDS,
    PostedCallback,
    Window,
    desk_time_zone,
    read_window,
)
from playerdesk.web.phone import callback_policy
from playerdesk.web.schemas.common import RequestModel, ResponseModel

FIELD_TIME_ZONE = "time_zone"
# The order the widget shows its fields in: a refusal lists its errors in it.
FIELD_ORDER = [FIELD_PHONE, FIELD_WHEN, FIELD_FROM, FIELD_UNTIL, FIELD_REASON, FIELD_TIME_ZONE]


class CallbackRequest(RequestModel):
    # Loose limits here: the service judges the number and the reason, and says what is
    # wrong in the player's language, where a schema error would say it in English.
    phone: str = Field(default="", max_length=200)
    when: str = Field(default=ASAP, max_length=20)
    from_time: str = Field(default="", max_length=20)
    until_time: str = Field(default="", max_length=20)
    reason: str = Field(default="", max_length=2000)
    time_zone: str | None = Field(default=None, max_length=64)


class CallbackOut(ResponseModel):
    window_from: datetime | None
    window_until: datetime | None
    time_zone: str
    # What the player is promised, in their language, ready to show.
    confirmation: str


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _refused(errors: dict[str, str]) -> JSONResponse:
    listed = [
        {"field": field, "message": errors[field]} for field in FIELD_ORDER if field in errors
    ]
    listed += [
        {"field": field, "message": message}
        for field, message in errors.items()
        if field not in FIELD_ORDER
    ]
    return problem(422, detail=listed[0]["message"], code="validation_failed", errors=listed)


def confirmation(window: Window, *, zone: ZoneInfo, language: str) -> str:
    """When the call will come, in the player's language (the help centre's words)."""
    _ = translations(language).gettext
    if window.starts is None or window.ends is None:
        return _("We will call you as soon as one of our agents is free.")
    window_from, window_until = window.starts.astimezone(zone), window.ends.astimezone(zone)
    # Translators: {date} is e.g. "Monday, 2 November 2026", {start} and {end} times of day,
    # {zone} a time zone name such as Europe/Warsaw.
    return _("We will call you on {date} between {start} and {end} ({zone} time).").format(
        date=format_date(window_from.date(), "full", locale=language),
        start=format_time(window_from, "short", locale=language),
        end=format_time(window_until, "short", locale=language),
        zone=zone.key,
    )


async def ask_for_a_call(
    uow: UnitOfWork,
    *,
    runtime: Runtime,
    session: WidgetSession,
    body: CallbackRequest,
    client_ip: str,
) -> CallbackOut | JSONResponse:
    language = session.language
    _ = translations(language).gettext
    zone = time_zone_named(body.time_zone) if body.time_zone else await desk_time_zone(uow)
    posted = PostedCallback(
        language=language,
        form_token="",  # the widget's session token stands for the form's spam guards
        honeypot="",
        phone=body.phone,
        when=body.when,
        from_time=body.from_time,
        until_time=body.until_time,
        call_language=language,
        reason=body.reason,
    )
    window, errors = read_window(posted, now=runtime.clock.now(), zone=zone, language=language)
    if errors:
        return _refused(errors)
    try:
        await callback_service.request_widget_callback(
            uow,
            identity=session.identity,
            phone=body.phone,
            window_from=window.starts,
            window_until=window.ends,
            language=language,
            reason=body.reason,
            ip_key=rate_limit_key(client_ip),
            policy=callback_policy(runtime),
            player_policy=runtime.policies.players,
        )
    except ValidationFailed as invalid:
        field = SERVICE_FIELDS.get(invalid.field or "", invalid.field or FIELD_PHONE)
        return _refused({field: _sentence(_(invalid.detail))})
    except TooManyAttempts as refused:
        wait = format_timedelta(
            timedelta(seconds=refused.retry_after_seconds), locale=language, threshold=2
        )
        raise TooManyAttempts(
            _(
                "You have asked for several calls in a short time. Please try again in {duration}."
            ).format(duration=wait),
            retry_after_seconds=refused.retry_after_seconds,
        ) from None
    return CallbackOut(
        window_from=window.starts,
        window_until=window.ends,
        time_zone=zone.key,
        confirmation=confirmation(window, zone=zone, language=language),
    )
