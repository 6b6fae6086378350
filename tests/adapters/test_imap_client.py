"""The IMAP polling client against a real Dovecot (tests/imap_server.py): TLS, STARTTLS,
uid bookkeeping, size limits, flags, UIDVALIDITY changes and IDLE."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from imapclient import IMAPClient

from playerdesk.adapters.imap_client import (
    FetchResult,
    ImapAccount,
    ImapError,
    fetch_new,
    mark_seen,
    parse_mailbox_url,
    wait_for_mail,
)
from tests.adapters.conftest import Mailbox

# Generous bounds: they only catch a hang, never measure speed.
HANG_SECONDS = 30


def make_mail(number: int, body: str = "Hello, where is my withdrawal?") -> bytes:
    # CRLF line ends, as on the wire: the server hands back exactly these bytes.
    return (
        f"From: Player {number} <player{number}@example.com>\r\n"
        "To: support@casino.example\r\n"
        f"Subject: Question {number}\r\n"
        f"Message-ID: <q{number}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{body}\r\nWygrana {number} zł — tack så mycket!\r\n"
    ).encode()


def header_of(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"


async def fetch(
    account: ImapAccount,
    *,
    uid_validity: int | None = None,
    after_uid: int = 0,
    max_bytes: int = 10**6,
    limit: int = 50,
) -> FetchResult:
    async with asyncio.timeout(HANG_SECONDS):
        return await fetch_new(
            account,
            uid_validity=uid_validity,
            after_uid=after_uid,
            max_bytes=max_bytes,
            limit=limit,
        )


# --- transport security ---------------------------------------------------------------


async def test_tls_with_the_test_ca_fetches_mail(mailbox: Mailbox) -> None:
    mailbox.deliver(make_mail(1))

    result = await fetch(mailbox.account("tls"))

    assert [mail.uid for mail in result.mails] == [1]


async def test_tls_without_trusting_the_test_ca_fails(mailbox: Mailbox) -> None:
    with pytest.raises(ImapError, match="CERTIFICATE_VERIFY_FAILED"):
        await fetch(mailbox.account("tls", trust_test_ca=False))


async def test_starttls_upgrades_the_plain_port(mailbox: Mailbox) -> None:
    mailbox.deliver(make_mail(1))

    result = await fetch(mailbox.account("starttls"))

    assert [mail.raw for mail in result.mails] == [make_mail(1)]


async def test_starttls_really_verifies_the_certificate(mailbox: Mailbox) -> None:
    # Only a TLS handshake can fail verification: proof that the upgrade happens.
    with pytest.raises(ImapError, match="CERTIFICATE_VERIFY_FAILED"):
        await fetch(mailbox.account("starttls", trust_test_ca=False))


async def test_login_failure_names_user_and_host_but_not_the_password(mailbox: Mailbox) -> None:
    wrong_password = "Wr0ng-pa55word!"
    account = mailbox.account(password=wrong_password)

    with pytest.raises(ImapError) as raised:
        await fetch(account)

    message = str(raised.value)
    assert message.startswith(f"login failed for {mailbox.user}@{account.host}: [AUTH")
    assert wrong_password not in message
    assert raised.value.__cause__ is None
    assert wrong_password not in repr(account)


async def test_network_and_protocol_failures_raise_imap_error(mailbox: Mailbox) -> None:
    # Plain IMAP sent to the TLS port is a protocol failure; a port nobody listens on
    # refuses the connection. Both must come back as ImapError.
    with pytest.raises(ImapError, match="TimeoutError"):  # the TLS port waits for a handshake
        await fetch(mailbox.account("plain", port=mailbox.server.imaps_port, timeout_seconds=1))
    with pytest.raises(ImapError, match="ConnectionRefused"):
        await fetch(mailbox.account("plain", port=_port_nobody_listens_on()))


async def test_missing_folder_raises_imap_error(mailbox: Mailbox) -> None:
    with pytest.raises(ImapError, match="Nowhere"):
        await fetch(mailbox.account(folder="Nowhere"))


# --- what fetch_new returns -------------------------------------------------------------


async def test_new_mails_come_in_uid_order_with_their_exact_bytes(mailbox: Mailbox) -> None:
    raws = [make_mail(number) for number in (1, 2, 3)]
    uids = [mailbox.deliver(raw) for raw in raws]

    result = await fetch(mailbox.account())

    assert [mail.uid for mail in result.mails] == uids == sorted(uids)
    assert [mail.raw for mail in result.mails] == raws
    assert [mail.size for mail in result.mails] == [len(raw) for raw in raws]
    assert not any(mail.oversized for mail in result.mails)
    assert result.more is False
    assert result.uid_validity > 0


async def test_empty_mailbox_returns_nothing(mailbox: Mailbox) -> None:
    result = await fetch(mailbox.account())

    assert result.mails == []
    assert result.more is False


async def test_only_uids_after_the_last_one_seen_are_returned(mailbox: Mailbox) -> None:
    for number in (1, 2, 3):
        mailbox.deliver(make_mail(number))
    account = mailbox.account()
    validity = (await fetch(account)).uid_validity

    after_one = await fetch(account, uid_validity=validity, after_uid=1)
    assert [mail.uid for mail in after_one.mails] == [2, 3]

    # `UID 4:*` matches the newest message (uid 3) all the same: it must be filtered out.
    after_last = await fetch(account, uid_validity=validity, after_uid=3)
    assert after_last.mails == []
    far_ahead = await fetch(account, uid_validity=validity, after_uid=100)
    assert far_ahead.mails == []


async def test_limit_returns_the_oldest_and_says_more_is_waiting(mailbox: Mailbox) -> None:
    for number in range(1, 6):
        mailbox.deliver(make_mail(number))
    account = mailbox.account()

    first = await fetch(account, limit=2)
    second = await fetch(account, uid_validity=first.uid_validity, after_uid=2, limit=2)
    last = await fetch(account, uid_validity=first.uid_validity, after_uid=4, limit=2)

    assert ([mail.uid for mail in first.mails], first.more) == ([1, 2], True)
    assert ([mail.uid for mail in second.mails], second.more) == ([3, 4], True)
    assert ([mail.uid for mail in last.mails], last.more) == ([5], False)


async def test_oversized_mail_comes_back_as_its_header_only(mailbox: Mailbox) -> None:
    small = make_mail(1)
    big = make_mail(2, body="A screenshot of my balance. " * 400)
    mailbox.deliver(small)
    mailbox.deliver(big)

    result = await fetch(mailbox.account(), max_bytes=len(small))

    fitting, oversized = result.mails
    assert (fitting.raw, fitting.oversized) == (small, False)
    assert oversized.oversized is True
    assert oversized.size == len(big)
    assert oversized.raw == header_of(big)


async def test_changed_uid_validity_starts_over_from_uid_zero(mailbox: Mailbox) -> None:
    folder = "Support"
    mailbox.deliver(make_mail(1), folder)
    mailbox.deliver(make_mail(2), folder)
    account = mailbox.account(folder=folder)
    before = await fetch(account)
    assert [mail.uid for mail in before.mails] == [1, 2]

    with mailbox.client() as imap:  # the mailbox is deleted and made anew: uids restart
        imap.delete_folder(folder)
        imap.create_folder(folder)
    mailbox.deliver(make_mail(3), folder)

    after = await fetch(account, uid_validity=before.uid_validity, after_uid=2)

    assert after.uid_validity != before.uid_validity
    assert [(mail.uid, mail.raw) for mail in after.mails] == [(1, make_mail(3))]


# --- flags ------------------------------------------------------------------------------


async def test_fetch_leaves_mail_unseen_and_mark_seen_flags_it(mailbox: Mailbox) -> None:
    for number in (1, 2, 3):
        mailbox.deliver(make_mail(number))
    account = mailbox.account()

    result = await fetch(account)
    assert _seen_uids(mailbox) == set()

    async with asyncio.timeout(HANG_SECONDS):
        await mark_seen(account, uids=[1, 3], uid_validity=result.uid_validity)

    assert _seen_uids(mailbox) == {1, 3}


async def test_mark_seen_skips_uids_of_a_mailbox_that_was_recreated(mailbox: Mailbox) -> None:
    mailbox.deliver(make_mail(1))
    account = mailbox.account()
    validity = (await fetch(account)).uid_validity

    async with asyncio.timeout(HANG_SECONDS):
        await mark_seen(account, uids=[1], uid_validity=validity + 1)
        await mark_seen(account, uids=[])

    assert _seen_uids(mailbox) == set()


def _seen_uids(mailbox: Mailbox) -> set[int]:
    with mailbox.client() as imap:
        imap.select_folder("INBOX", readonly=True)
        flags = imap.get_flags(imap.search("ALL"))
    return {uid for uid, message_flags in flags.items() if rb"\Seen" in message_flags}


# --- waiting for mail -------------------------------------------------------------------


async def test_wait_for_mail_wakes_up_when_mail_arrives(mailbox: Mailbox) -> None:
    waiting = asyncio.create_task(wait_for_mail(mailbox.account(), timeout_seconds=120))
    # We cannot see when IDLE has begun, and a message appended before the folder is
    # selected is not news to it: keep delivering until the wait ends.
    async with asyncio.timeout(HANG_SECONDS):
        await asyncio.wait([waiting], timeout=0.5)
        assert not waiting.done()  # nothing has arrived yet
        number = 0
        while not waiting.done():
            number += 1
            await asyncio.to_thread(mailbox.deliver, make_mail(number))
            await asyncio.wait([waiting], timeout=1)

    assert waiting.result() is True


async def test_wait_for_mail_returns_false_after_the_timeout(mailbox: Mailbox) -> None:
    async with asyncio.timeout(HANG_SECONDS):
        arrived = await wait_for_mail(mailbox.account(), timeout_seconds=1.5)

    assert arrived is False


async def test_wait_for_mail_sleeps_when_the_server_has_no_idle(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dovecot always offers IDLE; hide it from the client (the class imap_client uses).
    monkeypatch.setattr(IMAPClient, "has_capability", lambda _self, _name: False)

    async with asyncio.timeout(HANG_SECONDS):
        arrived = await wait_for_mail(mailbox.account(), timeout_seconds=0.2)

    assert arrived is False


async def test_cancelled_wait_ends_promptly_and_frees_its_thread(mailbox: Mailbox) -> None:
    # With a single worker thread, the follow-up call below can only run once the IDLE
    # thread has noticed the cancellation and returned.
    single_worker = ThreadPoolExecutor(max_workers=1)
    asyncio.get_running_loop().set_default_executor(single_worker)
    try:
        waiting = asyncio.create_task(wait_for_mail(mailbox.account(), timeout_seconds=300))
        await asyncio.sleep(0.5)  # usually inside IDLE by now; either way must work

        waiting.cancel()
        async with asyncio.timeout(HANG_SECONDS):
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert await asyncio.to_thread(lambda: "thread free") == "thread free"
    finally:
        single_worker.shutdown(wait=False)


# --- parse_mailbox_url ------------------------------------------------------------------


def test_imaps_url_with_defaults() -> None:
    account = parse_mailbox_url("imaps://support:s3cret@mail.casino.example")

    assert account == ImapAccount(
        host="mail.casino.example",
        port=993,
        use_tls=True,
        username="support",
        password="s3cret",
        folder="INBOX",
    )
    assert "s3cret" not in repr(account)


def test_imap_url_with_starttls_port_folder_and_encoded_parts() -> None:
    account = parse_mailbox_url(
        "imap://support%40casino.example:p%40ss%3Aw%2Frd@127.0.0.1:1143/Support%2FVIP?starttls=1"
    )

    assert (account.host, account.port, account.use_tls, account.starttls) == (
        "127.0.0.1",
        1143,
        False,
        True,
    )
    assert account.username == "support@casino.example"
    assert account.password == "p@ss:w/rd"
    assert account.folder == "Support/VIP"


def test_plain_imap_url_defaults_to_port_143_without_starttls() -> None:
    account = parse_mailbox_url("IMAP://agent:pw@localhost/?starttls=0")

    assert (account.port, account.use_tls, account.starttls, account.folder) == (
        143,
        False,
        False,
        "INBOX",
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("pop3://user:Hunter2pw@mail.example", "scheme"),
        ("mail.example", "scheme"),
        ("imaps://user@mail.example", "no password"),
        ("imaps://user:@mail.example", "no password"),
        ("imaps://:Hunter2pw@mail.example", "no user name"),
        ("imaps://user:Hunter2pw@:993/INBOX", "no host"),
        ("imaps://user:Hunter2pw@mail.example:99999", "invalid port"),
        ("imaps://user:Hunter2pw@mail.example:imap", "invalid port"),
        # An unescaped "/" in the password makes "Hunter" look like a port.
        ("imaps://user:Hunter/2pw@mail.example", "invalid port"),
        ("imaps://user:Hunter2pw@mail.example/?starttls=1", "imap:// only"),
        ("imap://user:Hunter2pw@mail.example/?starttls=maybe", "starttls must be"),
        ("imap://user:Hunter2pw@mail.example/?tls=1", "only the query parameter starttls"),
        ("imaps://user:Hunter#2pw@mail.example", "fragment"),
    ],
)
def test_bad_mailbox_urls_are_refused_without_showing_the_password(
    url: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=r"mailbox URL|starttls") as raised:
        parse_mailbox_url(url)

    message = str(raised.value)
    assert complaint in message
    assert "Hunter" not in message
    assert raised.value.__cause__ is None


def _port_nobody_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
