"""One websocket's outbound side: a bounded queue drained by a writer task, so the hub never
waits on a slow client; plus the per-connection flood limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketState

from playerdesk.domain.events import Event

log = structlog.get_logger(__name__)

Frame = dict[str, Any]

OUTBOX_LIMIT = 1000
MAX_FRAME_CHARS = 64 * 1024

# Close codes (documented in docs/API.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_FLOODING = 4429
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013


class TokenBucket:
    """`rate` frames a second on average, bursts up to `capacity`."""

    def __init__(
        self, *, rate: float, capacity: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.capacity, self._now = rate, capacity, now
        self.tokens, self._last = capacity, now()

    def take(self) -> bool:
        current = self._now()
        self.tokens = min(self.capacity, self.tokens + (current - self._last) * self.rate)
        self._last = current
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Outbox:
    """The hub's listener for one socket. `render` turns an event into this client's frame
    (or None to skip it); frames are written in order by `run`."""

    def __init__(self, websocket: WebSocket, *, render: Callable[[Event], Frame | None]) -> None:
        self._websocket = websocket
        self._render = render
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=OUTBOX_LIMIT)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        frame = self._render(event)
        if frame is not None:
            self.send(frame)

    def send(self, frame: Frame) -> None:
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            # A client this far behind reconnects and resumes from its last message id.
            self.overflowed = True
            self.stop()

    def stop(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def run(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                break
            if self._websocket.application_state is not WebSocketState.CONNECTED:
                break
            await self._websocket.send_text(json.dumps(frame, ensure_ascii=False))
        if self.overflowed and self._websocket.application_state is WebSocketState.CONNECTED:
            await self._websocket.close(CLOSE_TRY_AGAIN, "too far behind; reconnect")


async def close_with(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept first so the client sees our close code and reason, not a bare HTTP 403."""
    if websocket.application_state is WebSocketState.CONNECTING:
        await websocket.accept()
    await websocket.close(code, reason)


def origin_allowed(websocket: WebSocket, *, allowed: list[str]) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None or "*" in allowed or origin in allowed:
        return True
    host = websocket.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def parse_frame(text: str) -> Frame | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) and isinstance(frame.get("type"), str) else None
