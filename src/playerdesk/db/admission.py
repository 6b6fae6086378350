"""Load shedding: at most `limit` requests / socket frames of one process use the database
at a time; the rest wait at most `wait_seconds` for a turn, then are refused.

Without it an overloaded process accepts everything, every request waits for one of the
pool's connections, latency grows to the pool's 30-second timeout and every client times
out at once. With it, the limit matches the pool (so admitted work gets a connection at
once) and the excess is answered quickly with 503 / an `unavailable` frame and a hint
when to retry, which clients act on (the widget resends with the same client_msg_id).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playerdesk.domain.errors import Unavailable


class Admission:
    def __init__(self, *, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(limit)
        self.in_use = 0
        self.refused = 0

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.wait_seconds))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked():
            # Full (or others queue already, who go first): wait a little, not for ever.
            try:
                await asyncio.wait_for(self._slots.acquire(), timeout=self.wait_seconds)
            except TimeoutError:
                self.refused += 1
                raise Unavailable(
                    "the server is busy; try again shortly",
                    retry_after_seconds=self.retry_after_seconds,
                ) from None
        else:
            await self._slots.acquire()
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            self._slots.release()
