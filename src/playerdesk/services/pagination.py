"""Opaque keyset cursors: the client hands back what we gave it, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from playerdesk.domain.errors import ValidationFailed

T = TypeVar("T")

MAX_ID = 2**63 - 1


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"before": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("not a cursor this API returned", field="cursor") from exc
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise ValidationFailed("not a cursor this API returned", field="cursor")
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @classmethod
    def from_rows(cls, rows: Sequence[T], *, limit: int, key: Callable[[T], int]) -> Page[T]:
        """`rows` was fetched with limit + 1 so that we know whether more follow."""
        items = list(rows[:limit])
        more = len(rows) > limit
        return cls(items=items, next_cursor=encode_cursor(key(items[-1])) if more else None)
