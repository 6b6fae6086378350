"""Card numbers are never stored: anything that looks like a payment card is masked."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by single spaces or dashes, not glued to other digits.
_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def redact_card_numbers(text: str) -> tuple[str, int]:
    """Return the text with card numbers masked to their last four digits, and how many."""
    count = 0

    def mask(match: re.Match[str]) -> str:
        nonlocal count
        digits = re.sub(r"\D", "", match.group(0))
        if not 13 <= len(digits) <= 19 or not _luhn_valid(digits):
            return match.group(0)
        count += 1
        return f"[card ••••{digits[-4:]}]"

    return _CANDIDATE.sub(mask, text), count
