"""Rules about players that need no storage."""

from __future__ import annotations

import re

from playerdesk.domain.errors import ValidationFailed

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str, *, field: str = "email") -> str:
    value = email.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValidationFailed("not a valid email address", field=field)
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_language(language: str, *, supported: list[str], field: str = "language") -> str:
    value = language.strip().lower()
    if value not in supported:
        raise ValidationFailed(
            f"unsupported language {language!r}; use one of {', '.join(supported)}", field=field
        )
    return value


def check_vip_tier(tier: str | None, *, tiers: list[str], field: str = "vip_tier") -> str | None:
    """A VIP tier is none, or one of the operator's ordered tiers (lowest first)."""
    if tier is None or tier == "":
        return None
    value = tier.strip().lower()
    if value not in tiers:
        raise ValidationFailed(
            f"unknown VIP tier {tier!r}; use one of {', '.join(tiers)}", field=field
        )
    return value


def vip_rank(tier: str | None, *, tiers: list[str]) -> int:
    """0 for a regular player, 1 for the lowest tier, and so on up."""
    if tier is None or tier not in tiers:
        return 0
    return tiers.index(tier) + 1
