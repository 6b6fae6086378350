"""Spam protection for the public forms without a third-party captcha, and the signed link
to the thank-you page.

Each form page carries a token signed with the secret key that says which form it is and
when the page was rendered. A POST without a valid, unexpired token did not come from a
page we served recently; one sent sooner than a person can fill the form in, or with the
hidden honeypot field filled, came from a bot. Rate limits per IP and per address (in the
service) catch what gets past these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from playerdesk.domain.errors import AuthenticationFailed
from playerdesk.domain.tokens import sign, verify
from playerdesk.services.forms import HelpForm

FORM_TOKEN_PURPOSE = "helpcenter-form"
THANKS_TOKEN_PURPOSE = "helpcenter-thanks"
# Long enough for a player who writes a long complaint slowly, or leaves the tab open.
FORM_TOKEN_TTL = timedelta(hours=6)
# Nobody reads the form, types an address and a message and presses Send this quickly.
MIN_FILL_TIME = timedelta(seconds=2)
# The thank-you page survives a reload for a day; it only ever shows what it was given.
THANKS_TOKEN_TTL = timedelta(days=1)
HONEYPOT_FIELD = "website"


class Verdict(StrEnum):
    PERSON = "person"
    BOT = "bot"
    # No token, a forged or expired one, or one of the other form: the page is too old.
    STALE = "stale"


def issue_form_token(*, form: str, now: datetime, secret: str) -> str:
    """`form` is the form's name (a HelpForm, or "callback"): a token is good for that one."""
    rendered_ms = int(now.timestamp() * 1000)
    return sign(
        {"form": str(form), "rendered_ms": rendered_ms},
        secret=secret,
        purpose=FORM_TOKEN_PURPOSE,
        expires_at=now + FORM_TOKEN_TTL,
    )


def judge_submission(
    *, form: str, form_token: str, honeypot: str, now: datetime, secret: str
) -> Verdict:
    """Who sent the form, as far as the page can tell."""
    if honeypot.strip():
        return Verdict.BOT
    try:
        payload = verify(form_token, secret=secret, purpose=FORM_TOKEN_PURPOSE, now=now)
    except AuthenticationFailed:
        return Verdict.STALE
    rendered_ms = payload.get("rendered_ms")
    if payload.get("form") != str(form) or not isinstance(rendered_ms, int):
        return Verdict.STALE
    rendered_at = datetime.fromtimestamp(rendered_ms / 1000, tz=UTC)
    if now - rendered_at < MIN_FILL_TIME:
        return Verdict.BOT
    return Verdict.PERSON


@dataclass(frozen=True, kw_only=True)
class ThankYou:
    form: HelpForm
    language: str
    # None for a bot: it sees the same page, without a number (see routes._drop_bot).
    ticket_number: int | None


def issue_thanks_token(thanks: ThankYou, *, now: datetime, secret: str) -> str:
    """The thank-you link: signed, so that nobody can make the page show another number, and
    carrying the number itself, so that the page reads nothing from the database and cannot
    be used to look other people's tickets up."""
    return sign(
        {"form": thanks.form.value, "lang": thanks.language, "number": thanks.ticket_number},
        secret=secret,
        purpose=THANKS_TOKEN_PURPOSE,
        expires_at=now + THANKS_TOKEN_TTL,
    )


def read_thanks_token(token: str, *, now: datetime, secret: str) -> ThankYou | None:
    try:
        payload = verify(token, secret=secret, purpose=THANKS_TOKEN_PURPOSE, now=now)
        form = HelpForm(str(payload.get("form")))
    except (AuthenticationFailed, ValueError):
        return None
    number = payload.get("number")
    language = payload.get("lang")
    if not isinstance(language, str) or not (number is None or isinstance(number, int)):
        return None
    return ThankYou(form=form, language=language, ticket_number=number)
