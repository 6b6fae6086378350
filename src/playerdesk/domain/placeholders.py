"""Placeholders in canned replies: `{{player.first_name}}`, `{{withdrawal.last.status}}`.

A template is plain text with placeholders in double braces. This module knows which
placeholders exist and where their values come from, checks a template when it is saved (an
unknown or broken placeholder is refused, naming the field "body"), and fills a template
from values that the caller looked up. A placeholder with no value stays in the text as it
was written and is reported, so that the agent fills it in by hand: a `{{...}}` is never
sent to a player (see `unfilled`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from playerdesk.domain.errors import ValidationFailed

# A placeholder as written: spaces inside the braces are allowed ("{{ player.name }}").
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Anything that still looks like a placeholder, well formed or not: what must never reach a
# player. Broader than _PLACEHOLDER on purpose ("{{ oops" and "{{}}" count too).
_LEFTOVER = re.compile(r"\{\{.*?(?:\}\}|$)", re.DOTALL)
_NAME = re.compile(r"^[a-z]+(?:[._][a-z]+)*$")


class Source(StrEnum):
    """Where a placeholder's value comes from: PlayerDesk itself, or the casino's back
    office (one call per source, made only when a template needs it)."""

    TICKET = "ticket"
    PLAYER = "player"
    AGENT = "agent"
    BALANCE = "balance"
    PAYMENTS = "payments"
    BONUSES = "bonuses"
    VERIFICATION = "verification"

    @property
    def from_back_office(self) -> bool:
        return self not in (Source.TICKET, Source.PLAYER, Source.AGENT)


@dataclass(frozen=True, kw_only=True)
class Placeholder:
    name: str
    source: Source


# Every placeholder a template may use. Their descriptions, for the people who write
# templates, are in services.placeholder_values (translated).
PLACEHOLDERS: dict[str, Placeholder] = {
    item.name: item
    for item in (
        Placeholder(name="ticket.number", source=Source.TICKET),
        Placeholder(name="player.first_name", source=Source.PLAYER),
        Placeholder(name="player.name", source=Source.PLAYER),
        Placeholder(name="player.email", source=Source.PLAYER),
        Placeholder(name="player.id", source=Source.PLAYER),
        Placeholder(name="agent.first_name", source=Source.AGENT),
        Placeholder(name="agent.name", source=Source.AGENT),
        Placeholder(name="balance.real", source=Source.BALANCE),
        Placeholder(name="balance.bonus", source=Source.BALANCE),
        Placeholder(name="balance.withdrawable", source=Source.BALANCE),
        Placeholder(name="balance.currency", source=Source.BALANCE),
        Placeholder(name="withdrawal.last.status", source=Source.PAYMENTS),
        Placeholder(name="withdrawal.last.amount", source=Source.PAYMENTS),
        Placeholder(name="withdrawal.last.method", source=Source.PAYMENTS),
        Placeholder(name="withdrawal.last.date", source=Source.PAYMENTS),
        Placeholder(name="deposit.last.status", source=Source.PAYMENTS),
        Placeholder(name="deposit.last.amount", source=Source.PAYMENTS),
        Placeholder(name="deposit.last.method", source=Source.PAYMENTS),
        Placeholder(name="deposit.last.date", source=Source.PAYMENTS),
        Placeholder(name="bonus.active.name", source=Source.BONUSES),
        Placeholder(name="bonus.active.wagering_left", source=Source.BONUSES),
        Placeholder(name="bonus.active.wagering_progress", source=Source.BONUSES),
        Placeholder(name="bonus.active.expires", source=Source.BONUSES),
        Placeholder(name="kyc.status", source=Source.VERIFICATION),
        Placeholder(name="kyc.missing_documents", source=Source.VERIFICATION),
    )
}


# Messages of the checks, with {name} for the placeholder as written ("{{player.nme}}"):
# the console translates the message and then puts the name in.
UNKNOWN_PLACEHOLDER = "unknown placeholder {name}"
NOT_A_PLACEHOLDER = "{name} is not a placeholder: use lowercase names like {{player.first_name}}"
UNCLOSED_PLACEHOLDER = "a placeholder is not closed: write it like {{player.first_name}}"
UNFILLED_PLACEHOLDERS = "replace the placeholders that have no value before sending: {name}"


class PlaceholderError(ValidationFailed):
    """A template or a text with a placeholder problem; `message` and `name` let a page
    translate the message before the placeholder is put in."""

    def __init__(self, message: str, *, name: str, field: str = "body") -> None:
        super().__init__(message.replace("{name}", name), field=field)
        self.message = message
        self.name = name


@dataclass(frozen=True, kw_only=True)
class Filled:
    text: str
    # Placeholders of the template that had no value, in order of first appearance: they
    # stay in `text` as `{{name}}` for the agent to replace.
    unfilled: list[str]


def placeholders_in(template: str) -> list[str]:
    """The placeholder names a template uses, in order of first appearance, once each."""
    return list(dict.fromkeys(match.group(1) for match in _PLACEHOLDER.finditer(template)))


def check_template(template: str, *, field: str = "body") -> list[str]:
    """The placeholders of a template being saved; refused when one is unknown or broken."""
    names = placeholders_in(template)
    for name in names:
        written = "{{" + name + "}}"
        if not _NAME.match(name):
            raise PlaceholderError(NOT_A_PLACEHOLDER, name=written, field=field)
        if name not in PLACEHOLDERS:
            raise PlaceholderError(UNKNOWN_PLACEHOLDER, name=written, field=field)
    stray = _PLACEHOLDER.sub("", template)
    if "{{" in stray or "}}" in stray:
        raise PlaceholderError(UNCLOSED_PLACEHOLDER, name="", field=field)
    return names


def sources_of(names: list[str]) -> set[Source]:
    return {PLACEHOLDERS[name].source for name in names if name in PLACEHOLDERS}


def fill(template: str, values: Mapping[str, str | None]) -> Filled:
    """Put each placeholder's value in; one with no (or an empty) value stays as written."""
    unfilled: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or not value.strip():
            if name not in unfilled:
                unfilled.append(name)
            return "{{" + name + "}}"
        return value

    return Filled(text=_PLACEHOLDER.sub(replace, template), unfilled=unfilled)


def unfilled(text: str) -> list[str]:
    """What in a text about to be sent still looks like a placeholder; empty when none."""
    return [match.group(0) for match in _LEFTOVER.finditer(text)]


def ensure_filled(text: str) -> None:
    """Refuse a text that still carries a placeholder: players never see `{{...}}`."""
    leftovers = unfilled(text)
    if leftovers:
        shown = ", ".join(dict.fromkeys(leftovers))
        raise PlaceholderError(UNFILLED_PLACEHOLDERS, name=shown, field="body")


def first_name(full_name: str | None) -> str | None:
    """The first word of a name, as a greeting uses it."""
    if not full_name:
        return None
    words = full_name.split()
    return words[0] if words else None
