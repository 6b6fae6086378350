"""Fixtures for the channel adapters: a real IMAP server (Dovecot) and a fresh mailbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import pytest
from imapclient import IMAPClient

from playerdesk.adapters.imap_client import ImapAccount
from tests.imap_server import DOVECOT, DovecotServer, running_dovecot

Security = Literal["tls", "starttls", "plain"]


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    if not DOVECOT.exists():
        pytest.skip(f"IMAP tests need Dovecot (dovecot-imapd) at {DOVECOT}")
    with running_dovecot() as server:
        yield server


@dataclass
class Mailbox:
    """One user's mailbox on the test server, new for every test."""

    server: DovecotServer
    user: str
    password: str

    def account(
        self, security: Security = "tls", *, trust_test_ca: bool = True, **overrides: Any
    ) -> ImapAccount:
        account = ImapAccount(
            host=self.server.host,
            port=self.server.imaps_port if security == "tls" else self.server.imap_port,
            use_tls=security == "tls",
            starttls=security == "starttls",
            username=self.user,
            password=self.password,
            ca_file=str(self.server.ca_file) if trust_test_ca else None,
            timeout_seconds=10.0,
        )
        return replace(account, **overrides)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        return self.server.deliver(self.user, raw, folder)

    def client(self) -> IMAPClient:
        return self.server.client(self.user)


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Mailbox:
    # A new user per test: an empty mailbox, uids from 1, its own UIDVALIDITY.
    user, password = dovecot.fresh_user()
    return Mailbox(server=dovecot, user=user, password=password)
