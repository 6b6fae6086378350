"""Phone calls and callbacks: numbers, call states and outcomes, without storage."""

from __future__ import annotations

from enum import StrEnum

import phonenumbers

from playerdesk.domain.errors import ValidationFailed


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallEventKind(StrEnum):
    NEW_CALL = "newCall"
    ANSWER = "answer"
    HANGUP = "hangup"


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class CallbackSource(StrEnum):
    MISSED_CALL = "missed_call"
    WIDGET = "widget"
    HELPCENTER = "helpcenter"
    TELEGRAM = "telegram"


class CallbackStatus(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    DONE = "done"
    FAILED = "failed"


# Causes a PBX reports for a call nobody took: the player is owed a call back.
MISSED_CAUSES = frozenset({"no_answer", "abandoned", "busy"})


def normalise_phone(raw: str, *, default_region: str | None, field: str = "phone") -> str:
    """The number in E.164 (+441632960961), or refused. A number without a country code is
    read as one of `default_region` (an ISO 3166 alpha-2 code such as "GB")."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise ValidationFailed("a phone number is required", field=field)
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix most of Europe dials
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            "not a phone number; give it with its country code, e.g. +44 20 7946 0958",
            field=field,
        ) from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationFailed("not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_missed(*, direction: CallDirection, answered: bool, cause: str | None) -> bool:
    """An inbound call that no agent took: hung up unanswered or ended for want of one."""
    if direction is not CallDirection.INBOUND:
        return False
    return not answered or (cause or "").lower() in MISSED_CAUSES
