"""A real SMTP server on loopback that keeps what it receives (aiosmtpd's Controller runs
it in a thread), and can be told to refuse or to stall, for outbound delivery tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SinkBehaviour:
    # Reply to DATA with this ("451 4.3.0 try later", "550 5.1.1 no such user") this many
    # times before accepting.
    refuse_with: str | None = None
    refusals_left: int = 0
    # Hold the reply to DATA this long (the message is already received): a client killed
    # meanwhile never learns that it was delivered.
    stall_seconds: float = 0.0


@dataclass
class SmtpSink:
    host: str
    port: int
    behaviour: SinkBehaviour = field(default_factory=SinkBehaviour)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    # With both: STARTTLS is offered and required, and AUTH with these credentials too.
    tls_context: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    authenticated_as: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.attempts += 1
            if self.behaviour.refuse_with and self.behaviour.refusals_left > 0:
                self.behaviour.refusals_left -= 1
                return self.behaviour.refuse_with
            data = envelope.content
            assert isinstance(data, bytes)
            self.received.append(
                Received(
                    sender=str(envelope.mail_from),
                    recipients=list(envelope.rcpt_tos),
                    data=data,
                )
            )
            stall = self.behaviour.stall_seconds
        if stall:
            await asyncio.sleep(stall)
        return f"250 2.0.0 Ok: queued as SINK{len(self.received)}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        given = (data.login.decode(), data.password.decode())
        if given != self.credentials:
            return AuthResult(success=False, handled=False)
        self.authenticated_as.append(given[0])
        return AuthResult(success=True)

    def start(self) -> None:
        secured: dict[str, Any] = {}
        if self.tls_context is not None and self.credentials is not None:
            secured = {
                "tls_context": self.tls_context,
                "require_starttls": True,
                "auth_required": True,
                "auth_require_tls": True,
                "authenticator": self.authenticate,
            }
        controller = Controller(self, hostname=self.host, port=self.port, **secured)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, the sink has {len(self.received)}")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: Any = probe.getsockname()[1]
        return int(port)
