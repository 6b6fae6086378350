"""A local SMTP server that keeps every mail it receives as a `.eml` file: where the demo
(and a developer without a mail server) sends the desk's outbound mail, over real SMTP."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class CapturingHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        if not isinstance(data, bytes):
            data = str(data or "").encode("utf-8", "surrogateescape")
        self.directory.mkdir(parents=True, exist_ok=True)
        number = len(list(self.directory.glob("*.eml"))) + 1
        recipient = _UNSAFE.sub("_", (envelope.rcpt_tos or ["nobody"])[0])[:80]
        path = self.directory / f"{number:05d}-{recipient}.eml"
        await asyncio.to_thread(path.write_bytes, data)
        log.info("mail_captured", path=str(path))
        return f"250 2.0.0 OK: kept as {path.name}"


async def run_mail_capture(*, host: str, port: int, directory: Path) -> None:
    """Serve until cancelled."""
    loop = asyncio.get_running_loop()
    handler = CapturingHandler(directory)
    server = await loop.create_server(lambda: SMTP(handler), host=host, port=port)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
