"""IMAP polling: one task per enabled mailbox, fetching new mail by UID, waiting with IDLE
where the server has it. A mail's UID counts as taken only once it is in the desk."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

import structlog

from playerdesk.adapters.email_in import keep_unreadable, take_mail
from playerdesk.adapters.imap_client import (
    ImapAccount,
    ImapError,
    fetch_new,
    mark_seen,
    parse_mailbox_url,
    wait_for_mail,
)
from playerdesk.domain.mail import UnreadableMail
from playerdesk.runtime import Runtime
from playerdesk.services import mailboxes
from playerdesk.services.mailboxes import MailboxFields, MailboxToPoll

log = structlog.get_logger(__name__)

# How often the supervisor looks for mailboxes added, changed or removed in the console.
RELOAD_SECONDS = 30.0
BATCH = 50


def configured_mailboxes(urls: list[str]) -> list[MailboxFields]:
    """PLAYERDESK_IMAP_MAILBOXES as mailbox fields, named user@host/folder."""
    fields: list[MailboxFields] = []
    for url in urls:
        account = parse_mailbox_url(url)
        fields.append(
            MailboxFields(
                name=f"{account.username}@{account.host}/{account.folder}"[:100],
                host=account.host,
                port=account.port,
                use_tls=account.use_tls,
                starttls=account.starttls,
                username=account.username,
                password=account.password,
                folder=account.folder,
            )
        )
    return fields


def account_of(mailbox: MailboxToPoll, *, ca_file: str | None = None) -> ImapAccount:
    return ImapAccount(
        host=mailbox.host,
        port=mailbox.port,
        use_tls=mailbox.use_tls,
        starttls=mailbox.starttls,
        username=mailbox.username,
        password=mailbox.password,
        folder=mailbox.folder,
        ca_file=ca_file,
    )


async def poll_mailbox(
    runtime: Runtime, mailbox: MailboxToPoll, *, account: ImapAccount
) -> MailboxToPoll:
    """Take every new mail of one mailbox (in batches); returns the mailbox with its new
    progress. A mail that cannot be read is kept raw; one that fails to store stops the
    pass before it, so it is fetched again next time."""
    source = f"imap:{mailbox.name}"[:100]
    policy = runtime.policies.mail
    current = mailbox
    while True:
        try:
            result = await fetch_new(
                account,
                uid_validity=current.uid_validity,
                after_uid=current.last_uid if current.uid_validity is not None else 0,
                max_bytes=policy.max_bytes,
                limit=BATCH,
            )
        except ImapError as error:
            await _record(runtime, current, error=str(error))
            raise
        if result.uid_validity != current.uid_validity:
            current = replace(current, uid_validity=result.uid_validity, last_uid=0)
        taken: list[int] = []
        failure: str | None = None
        for fetched in result.mails:
            try:
                if fetched.oversized:
                    await keep_unreadable(
                        runtime,
                        raw=fetched.raw,
                        error=f"the mail has {fetched.size} bytes, over the limit of "
                        f"{policy.max_bytes}; only its header was fetched, the whole mail "
                        "stays in the mailbox",
                        source=source,
                    )
                else:
                    try:
                        await take_mail(runtime, raw=fetched.raw, source=source)
                    except UnreadableMail as error:
                        await keep_unreadable(
                            runtime, raw=fetched.raw, error=str(error), source=source
                        )
            except Exception as error:
                log.exception("imap_mail_not_stored", mailbox_id=current.id, uid=fetched.uid)
                failure = f"uid {fetched.uid}: {type(error).__name__}: {error}"
                break
            taken.append(fetched.uid)
            current = replace(current, last_uid=fetched.uid)
        await _record(runtime, current, error=failure)
        if taken:
            with contextlib.suppress(ImapError):
                await mark_seen(account, uids=taken, uid_validity=current.uid_validity)
            log.info("imap_mail_taken", mailbox_id=current.id, count=len(taken))
        if failure is not None or not result.more:
            return current


async def _record(runtime: Runtime, mailbox: MailboxToPoll, *, error: str | None) -> None:
    async with runtime.uow() as uow:
        await mailboxes.record_poll(
            uow,
            mailbox_id=mailbox.id,
            uid_validity=mailbox.uid_validity,
            last_uid=mailbox.last_uid,
            error=error,
        )


async def _poll_forever(runtime: Runtime, mailbox: MailboxToPoll) -> None:
    account = account_of(mailbox, ca_file=runtime.settings.imap_ca_file)
    interval = runtime.settings.imap_poll_seconds
    while True:
        try:
            mailbox = await poll_mailbox(runtime, mailbox, account=account)
            await wait_for_mail(account, timeout_seconds=interval)
        except ImapError as error:
            log.warning("imap_poll_failed", mailbox_id=mailbox.id, error=str(error))
            await asyncio.sleep(interval)


async def run_mailbox_pollers(runtime: Runtime) -> None:
    """A background task: the settings' mailboxes made rows, then one poller per enabled
    mailbox, restarted when its configuration changes."""
    configured = configured_mailboxes(runtime.settings.imap_mailboxes)
    async with runtime.uow() as uow:
        await mailboxes.sync_configured_mailboxes(
            uow, configured=configured, box=runtime.secret_box
        )
    pollers: dict[int, tuple[MailboxToPoll, asyncio.Task[None]]] = {}
    try:
        while True:
            async with runtime.uow() as uow:
                wanted = {
                    mailbox.id: mailbox
                    for mailbox in await mailboxes.mailboxes_to_poll(uow, box=runtime.secret_box)
                }
            for mailbox_id, (known, task) in list(pollers.items()):
                fresh = wanted.get(mailbox_id)
                if fresh is None or _config(fresh) != _config(known) or task.done():
                    task.cancel()
                    del pollers[mailbox_id]
            for mailbox_id, mailbox in wanted.items():
                if mailbox_id not in pollers:
                    pollers[mailbox_id] = (
                        mailbox,
                        asyncio.create_task(_poll_forever(runtime, mailbox)),
                    )
            await asyncio.sleep(RELOAD_SECONDS)
    finally:
        for _, task in pollers.values():
            task.cancel()
        for _, task in pollers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _config(mailbox: MailboxToPoll) -> tuple[object, ...]:
    return (
        mailbox.host,
        mailbox.port,
        mailbox.use_tls,
        mailbox.starttls,
        mailbox.username,
        mailbox.password,
        mailbox.folder,
    )
