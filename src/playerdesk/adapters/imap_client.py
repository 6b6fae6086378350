"""IMAP polling client for inbound email: fetch new mail by uid, flag it after commit, IDLE.

Built on `imapclient`, which is synchronous: every public function runs its whole IMAP
conversation (connect, log in, work, log out) in one worker thread via `asyncio.to_thread`.
One connection per call keeps the threads independent and nothing to keep alive between
polls; a poll every few seconds makes the extra log-ins irrelevant.

Progress is the caller's business: it stores (UIDVALIDITY, last uid) with the messages it
committed, and the server's state (\\Seen, the mail itself) is only touched afterwards.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

DEFAULT_PORTS = {"imaps": 993, "imap": 143}
DEFAULT_FOLDER = "INBOX"
# How long one idle_check may block: the longest a cancelled wait_for_mail keeps its thread.
IDLE_SLICE_SECONDS = 1.0
# Untagged responses during IDLE that mean "a message arrived" (EXPUNGE, FETCH do not).
NEW_MAIL_RESPONSES = frozenset({b"EXISTS", b"RECENT"})
SEEN_FLAG = rb"\Seen"
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ImapError(Exception):
    """Any failure talking to the IMAP server. The message never contains the password."""


@dataclass(frozen=True, kw_only=True)
class ImapAccount:
    host: str
    port: int
    use_tls: bool  # implicit TLS from the first byte (imaps, usually port 993)
    username: str
    # Kept out of repr so that logs and tracebacks showing the account never show it.
    password: str = field(repr=False)
    folder: str = DEFAULT_FOLDER
    starttls: bool = False  # plain connection upgraded with STARTTLS (when use_tls is False)
    ca_file: str | None = None  # extra CA to trust (self-signed servers, tests)
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.use_tls and self.starttls:
            raise ValueError("choose implicit TLS or STARTTLS, not both")


@dataclass(frozen=True, kw_only=True)
class FetchedMail:
    uid: int
    size: int
    raw: bytes  # the whole message, or only its header when oversized
    oversized: bool  # size > max_bytes: body not fetched


@dataclass(frozen=True, kw_only=True)
class FetchResult:
    uid_validity: int
    mails: list[FetchedMail]  # ascending uid
    more: bool  # more new mail than `limit` waits


def parse_mailbox_url(url: str) -> ImapAccount:
    """Reads `imaps://user:pass@host:993/Folder` or `imap://user:pass@host/Folder?starttls=1`.

    User name, password and folder are percent-decoded (a user `support@casino.example`
    is written `support%40casino.example`). Error messages name what is wrong but never
    echo parts of the URL: a mistyped URL can put the password where the host should be.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ValueError("mailbox URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = scheme if scheme.isalnum() else "?"
        raise ValueError(f"mailbox URL scheme must be imaps:// or imap://, not {shown!r}")
    if parts.fragment:
        # Most likely an unescaped "#" in the password, which cut the URL short.
        raise ValueError("mailbox URL must not have a #fragment (percent-encode '#' as %23)")
    if not parts.hostname:
        raise ValueError("mailbox URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError("mailbox URL has an invalid port") from None
    if not parts.username:
        raise ValueError("mailbox URL has no user name (imaps://user:password@host/)")
    if not parts.password:
        raise ValueError("mailbox URL has no password (imaps://user:password@host/)")

    starttls = False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "starttls":
            raise ValueError("mailbox URL accepts only the query parameter starttls")
        if value.lower() in _TRUE_WORDS:
            starttls = True
        elif value.lower() in _FALSE_WORDS:
            starttls = False
        else:
            raise ValueError("mailbox URL starttls must be 1 or 0")
    use_tls = scheme == "imaps"
    if use_tls and starttls:
        raise ValueError("starttls=1 applies to imap:// only (imaps:// is TLS from the start)")

    folder = unquote(parts.path.lstrip("/")) or DEFAULT_FOLDER
    return ImapAccount(
        host=parts.hostname,
        port=port,
        use_tls=use_tls,
        starttls=starttls,
        username=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder,
    )


async def fetch_new(
    account: ImapAccount,
    *,
    uid_validity: int | None,
    after_uid: int,
    max_bytes: int,
    limit: int = 50,
) -> FetchResult:
    """Fetches up to `limit` messages with uid > `after_uid`, oldest first.

    Nothing is flagged \\Seen or deleted here (bodies are read with BODY.PEEK): the caller
    commits the messages and the new (uid_validity, last uid) in one transaction, then
    calls `mark_seen`. A crash between this fetch and that commit therefore fetches the
    same mail again on the next poll, and the caller drops the duplicates by Message-ID;
    marking or deleting first would lose mail on such a crash.

    If the folder's UIDVALIDITY differs from `uid_validity` (the mailbox was recreated
    and old uids mean nothing), it starts over from uid 0; the result carries the new
    value for the caller to store. Messages larger than `max_bytes` come back as their
    header only, with `oversized=True`, so the caller can still answer the sender.
    """
    if after_uid < 0 or max_bytes < 0 or limit < 1:
        raise ValueError("after_uid and max_bytes must be >= 0 and limit >= 1")
    return await asyncio.to_thread(
        _fetch_new_blocking, account, uid_validity, after_uid, max_bytes, limit
    )


async def mark_seen(
    account: ImapAccount, *, uids: list[int], uid_validity: int | None = None
) -> None:
    """Adds \\Seen to `uids`; call it only after the messages were committed.

    With `uid_validity` given, does nothing when the folder's UIDVALIDITY has changed
    since: the same numbers would then name other, unread messages.
    """
    if not uids:
        return
    await asyncio.to_thread(_mark_seen_blocking, account, sorted(set(uids)), uid_validity)


async def wait_for_mail(account: ImapAccount, *, timeout_seconds: float) -> bool:
    """Waits for new mail in the folder with IMAP IDLE; True if some arrived in time.

    Without IDLE on the server it sleeps `timeout_seconds` and returns False, so a poll
    loop of `fetch_new` + `wait_for_mail` works everywhere. Mail that arrives between the
    caller's last fetch and the start of IDLE is not signalled: it is picked up by the
    fetch after the timeout, so keep the timeout short enough (a few minutes at most).

    Cancelling the awaiting task sets a stop flag that the worker thread checks between
    idle slices of IDLE_SLICE_SECONDS, so the thread logs out and ends soon after.
    """
    if timeout_seconds < 0:
        raise ValueError("timeout_seconds must be >= 0")
    stop = threading.Event()
    try:
        arrived = await asyncio.to_thread(_wait_for_mail_blocking, account, timeout_seconds, stop)
    finally:
        stop.set()  # also on cancellation: `to_thread` cannot interrupt the thread itself
    if arrived is None:  # server without IDLE
        await asyncio.sleep(timeout_seconds)
        return False
    return arrived


# --- blocking parts, each run in one worker thread ----------------------------------------


def _fetch_new_blocking(
    account: ImapAccount, uid_validity: int | None, after_uid: int, max_bytes: int, limit: int
) -> FetchResult:
    with _session(account, "fetch") as client:
        current_validity = _select(client, account, readonly=False)
        if uid_validity is not None and uid_validity != current_validity:
            after_uid = 0
        # `UID n:*` always matches the newest message, even when its uid is below n.
        found = client.search(["UID", f"{after_uid + 1}:*"])
        new_uids = sorted(uid for uid in (int(found_uid) for found_uid in found) if uid > after_uid)
        batch = new_uids[:limit]
        sizes = {
            int(uid): int(data[b"RFC822.SIZE"])
            for uid, data in client.fetch(batch, ["RFC822.SIZE"]).items()
            if b"RFC822.SIZE" in data
        }
        # Messages expunged between SEARCH and FETCH are simply absent from here on.
        whole = [uid for uid in batch if uid in sizes and sizes[uid] <= max_bytes]
        header_only = [uid for uid in batch if uid in sizes and sizes[uid] > max_bytes]
        raws = _fetch_parts(client, whole, "BODY.PEEK[]", b"BODY[]")
        raws.update(_fetch_parts(client, header_only, "BODY.PEEK[HEADER]", b"BODY[HEADER]"))
        mails = [
            FetchedMail(uid=uid, size=sizes[uid], raw=raws[uid], oversized=sizes[uid] > max_bytes)
            for uid in batch
            if uid in raws
        ]
        return FetchResult(uid_validity=current_validity, mails=mails, more=len(new_uids) > limit)


def _fetch_parts(
    client: IMAPClient, uids: list[int], item: str, response_key: bytes
) -> dict[int, bytes]:
    if not uids:
        return {}
    return {
        int(uid): bytes(data[response_key])
        for uid, data in client.fetch(uids, [item]).items()
        if data.get(response_key) is not None
    }


def _mark_seen_blocking(account: ImapAccount, uids: list[int], uid_validity: int | None) -> None:
    with _session(account, "mark seen") as client:
        current_validity = _select(client, account, readonly=False)
        if uid_validity is not None and uid_validity != current_validity:
            return
        client.add_flags(uids, [SEEN_FLAG], silent=True)


def _wait_for_mail_blocking(
    account: ImapAccount, timeout_seconds: float, stop: threading.Event
) -> bool | None:
    """True on new mail, False on timeout or stop, None when the server has no IDLE."""
    deadline = time.monotonic() + timeout_seconds
    if stop.is_set():  # cancelled before this thread even started
        return False
    with _session(account, "idle") as client:
        if not client.has_capability("IDLE"):
            return None
        # EXAMINE is enough to be told about new mail and changes nothing in the mailbox.
        _select(client, account, readonly=True)
        client.idle()
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                responses = client.idle_check(timeout=min(IDLE_SLICE_SECONDS, remaining))
                if any(_is_new_mail(response) for response in responses):
                    return True
            return False
        finally:
            with suppress(IMAPClientError, OSError):
                client.idle_done()


def _is_new_mail(response: Any) -> bool:
    # Parsed untagged responses look like (3, b'EXISTS') or (b'OK', b'Still here').
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in NEW_MAIL_RESPONSES


# --- connection handling --------------------------------------------------------------------


@contextmanager
def _session(account: ImapAccount, doing: str) -> Iterator[IMAPClient]:
    """A logged-in connection, logged out afterwards; every failure becomes ImapError."""
    with _errors_as_imap_error(account, doing):
        client = _connect(account)
        try:
            yield client
        finally:
            _close(client)


def _connect(account: ImapAccount) -> IMAPClient:
    context = _tls_context(account) if account.use_tls or account.starttls else None
    client = IMAPClient(
        account.host,
        port=account.port,
        ssl=account.use_tls,
        ssl_context=context,
        timeout=account.timeout_seconds,
    )
    try:
        if account.starttls:
            # Fails (CapabilityError) when the server does not offer it: never fall back to
            # sending the password in clear text.
            client.starttls(context)
        client.login(account.username, account.password)
    except BaseException:
        _close(client)
        raise
    return client


def _tls_context(account: ImapAccount) -> ssl.SSLContext:
    # The system's CAs plus the extra one: `create_default_context(cafile=...)` would
    # trust the extra CA only.
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if account.ca_file:
        context.load_verify_locations(cafile=account.ca_file)
    return context


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        # The connection is already broken: just release the socket.
        with suppress(IMAPClientError, OSError):
            client.shutdown()


def _select(client: IMAPClient, account: ImapAccount, *, readonly: bool) -> int:
    """Selects the account's folder and returns its UIDVALIDITY."""
    selected = client.select_folder(account.folder, readonly=readonly)
    uid_validity = selected.get(b"UIDVALIDITY")
    if uid_validity is None:
        raise ImapError(f"folder {account.folder!r} on {account.host} reports no UIDVALIDITY")
    return int(uid_validity)


@contextmanager
def _errors_as_imap_error(account: ImapAccount, doing: str) -> Iterator[None]:
    try:
        yield
    except LoginError as exc:
        reason = _without_password(_server_text(str(exc)), account.password)
        raise ImapError(f"login failed for {account.username}@{account.host}: {reason}") from None
    except (IMAPClientError, OSError) as exc:  # OSError covers socket, ssl and timeouts
        detail = f"{type(exc).__name__}: {exc}"
        message = _without_password(
            f"IMAP {doing} failed for {account.username}@{account.host}:{account.port}"
            f" ({account.folder}): {detail}",
            account.password,
        )
        # Keep the original as the cause for debugging, unless it quotes the password.
        leaks = bool(account.password) and account.password in detail
        raise ImapError(message) from (None if leaks else exc)


def _server_text(text: str) -> str:
    # imapclient words some server replies as a bytes repr: b'[AUTHENTICATIONFAILED] ...'
    if len(text) >= 3 and text[:2] in ("b'", 'b"') and text[-1] == text[1]:
        return text[2:-1]
    return text


def _without_password(text: str, password: str) -> str:
    return text.replace(password, "***") if password else text
