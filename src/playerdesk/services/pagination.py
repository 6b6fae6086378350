"""Opaque keyset cursors: the client hands back what we gave it, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from playerdesk.domain.errors import ValidationFailed

T = TypeVar("T")

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Position:
    """Where the last page ended: the last row's id and, for lists ordered by a time, its time."""

    before: int
    at: datetime | None = None


def encode_cursor(position: Position) -> str:
    payload: dict[str, object] = {"before": position.before}
    if position.at is not None:
        payload["at"] = position.at.isoformat()
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refuse() -> ValidationFailed:
    return ValidationFailed("not a cursor this API returned", field="cursor")


def decode_cursor(cursor: str) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        before, at = payload["before"], payload.get("at")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _refuse() from exc
    if not isinstance(before, int) or isinstance(before, bool) or not 0 < before <= MAX_ID:
        raise _refuse()
    if at is None:
        return Position(before=before)
    try:
        moment = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError as exc:
        raise _refuse() from exc
    if moment is None or moment.tzinfo is None:
        raise _refuse()
    return Position(before=before, at=moment)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @classmethod
    def from_rows(
        cls, rows: Sequence[T], *, limit: int, position: Callable[[T], Position]
    ) -> Page[T]:
        """`rows` was fetched with limit + 1 so that we know whether more follow."""
        items = list(rows[:limit])
        more = len(rows) > limit
        return cls(items=items, next_cursor=encode_cursor(position(items[-1])) if more else None)
