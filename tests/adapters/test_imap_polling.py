"""IMAP polling against a real Dovecot: new mail becomes tickets, unreadable and oversized
mail is kept raw, progress is recorded by UID only for mail that is in the desk, and the
poller started from settings picks up new mail through IDLE."""

from __future__ import annotations

import asyncio
import contextlib
import io
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import quote

import pytest
from sqlalchemy import select

from playerdesk.adapters import email_in
from playerdesk.db.models import EmailRecord, Ticket
from playerdesk.db.models import Mailbox as MailboxRow
from playerdesk.domain.enums import AgentRole
from playerdesk.jobs import mailboxes as poller
from playerdesk.runtime import Runtime, build_runtime
from playerdesk.services import mailboxes
from playerdesk.services.mailboxes import MailboxFields
from playerdesk.settings import Settings
from tests.adapters.conftest import Mailbox
from tests.conftest import AgentFactory


def a_mail(subject: str, *, sender: str = "lars@example.se", size: int = 0) -> bytes:
    message = EmailMessage()
    message["From"] = f"Lars Svensson <{sender}>"
    message["To"] = "support@playerdesk.localhost"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.se")
    message.set_content("Hej!\n\nJag väntar på mitt uttag.\n" + "padding line\n" * (size // 13))
    return bytes(message)


async def add_mailbox(runtime: Runtime, make_agent: AgentFactory, box: Mailbox) -> int:
    admin = await make_agent(AgentRole.ADMIN)
    account = box.account("tls")
    async with runtime.uow() as uow:
        row = await mailboxes.create_mailbox(
            uow,
            actor=admin.actor,
            fields=MailboxFields(
                name="support",
                host=account.host,
                port=account.port,
                use_tls=True,
                starttls=False,
                username=account.username,
                password=account.password,
            ),
            box=runtime.secret_box,
        )
    return row.id


async def to_poll(runtime: Runtime) -> mailboxes.MailboxToPoll:
    async with runtime.uow() as uow:
        [found] = await mailboxes.mailboxes_to_poll(uow, box=runtime.secret_box)
    return found


async def ticket_subjects(runtime: Runtime) -> list[str]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(Ticket.subject).order_by(Ticket.id))).all())


async def tickets_reach(runtime: Runtime, count: int) -> None:
    while len(await ticket_subjects(runtime)) < count:  # noqa: ASYNC110 - state in the DB
        await asyncio.sleep(0.1)


async def ended(task: asyncio.Task[None]) -> None:
    """Waits for a cancelled task to end. One PostgreSQL run hung here until the suite's
    timeout, with the poller's IDLE thread still waiting and only thread stacks to show for
    it: if the task has not ended within a minute, this fails with every task's stack."""
    done, _ = await asyncio.wait({task}, timeout=60)
    if not done:
        stacks = io.StringIO()
        for each in asyncio.all_tasks():
            each.print_stack(file=stacks)
        pytest.fail(f"the mailbox pollers did not end when cancelled:\n{stacks.getvalue()}")
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_polling_takes_new_mail_keeps_unreadable_and_oversized_and_records_progress(
    runtime: Runtime, make_agent: AgentFactory, mailbox: Mailbox, settings: Settings
) -> None:
    limited = build_runtime(
        settings.model_copy(update={"email_max_bytes": 20_000}),
        clock=runtime.clock,
        bus=runtime.bus,
    )
    try:
        mailbox_id = await add_mailbox(limited, make_agent, mailbox)
        mailbox.deliver(a_mail("Uttag saknas"))
        mailbox.deliver(b"X-Junk: 1\r\n\r\nno sender at all\r\n")
        mailbox.deliver(a_mail("Big one", size=40_000))
        account = mailbox.account("tls")
        polled = await poller.poll_mailbox(limited, await to_poll(limited), account=account)
    finally:
        await limited.engine.dispose()
    assert polled.last_uid == 3
    assert await ticket_subjects(runtime) == ["Uttag saknas", "(no subject)", "Big one"]
    async with runtime.read_uow() as uow:
        row = await uow.session.get(MailboxRow, mailbox_id)
        errors = list(
            (
                await uow.session.scalars(
                    select(EmailRecord.error)
                    .where(EmailRecord.direction == "in")
                    .order_by(EmailRecord.id)
                )
            ).all()
        )
    assert row is not None
    assert (row.last_uid, row.uid_validity, row.last_error) == (3, polled.uid_validity, None)
    assert row.password_encrypted != account.password
    assert errors[0] is None
    assert errors[1] is not None
    assert "over the limit" in str(errors[2])
    with mailbox.client() as client:
        client.select_folder("INBOX")
        flags = client.get_flags([1, 2, 3])
    assert all(b"\\Seen" in flags[uid] for uid in (1, 2, 3))

    # Nothing new: nothing taken twice.
    again = await poller.poll_mailbox(runtime, await to_poll(runtime), account=account)
    assert again.last_uid == 3
    assert len(await ticket_subjects(runtime)) == 3


async def test_a_mail_that_fails_to_store_is_fetched_again_next_time(
    runtime: Runtime, make_agent: AgentFactory, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_mailbox(runtime, make_agent, mailbox)
    for subject in ("First", "Second", "Third"):
        mailbox.deliver(a_mail(subject))
    account = mailbox.account("tls")
    real_take = email_in.take_mail

    async def fail_on_second(rt: Runtime, *, raw: bytes, source: str) -> object:
        if b"Subject: Second" in raw:
            raise RuntimeError("database went away")
        return await real_take(rt, raw=raw, source=source)

    monkeypatch.setattr(poller, "take_mail", fail_on_second)
    polled = await poller.poll_mailbox(runtime, await to_poll(runtime), account=account)
    assert polled.last_uid == 1
    async with runtime.read_uow() as uow:
        [row] = (await uow.session.scalars(select(MailboxRow))).all()
    assert row.last_error is not None
    assert "uid 2" in row.last_error
    monkeypatch.setattr(poller, "take_mail", real_take)
    polled = await poller.poll_mailbox(runtime, await to_poll(runtime), account=account)
    assert polled.last_uid == 3
    assert await ticket_subjects(runtime) == ["First", "Second", "Third"]


async def test_the_poller_from_settings_takes_mail_as_it_arrives(
    settings: Settings, runtime: Runtime, mailbox: Mailbox
) -> None:
    account = mailbox.account("tls")
    url = (
        f"imaps://{quote(account.username)}:{quote(account.password)}@"
        f"{account.host}:{account.port}/INBOX"
    )
    configured = settings.model_copy(
        update={
            "imap_mailboxes": [url],
            "imap_ca_file": account.ca_file,
            # Far longer than the test waits: new mail must arrive through IDLE.
            "imap_poll_seconds": 600.0,
        }
    )
    active = build_runtime(configured, clock=runtime.clock, bus=runtime.bus)
    mailbox.deliver(a_mail("Waiting before start"))
    task = asyncio.create_task(poller.run_mailbox_pollers(active))
    try:
        async with asyncio.timeout(30):
            await tickets_reach(runtime, 1)
            await asyncio.sleep(1.0)  # let the poller enter IDLE
            mailbox.deliver(a_mail("Arrived during IDLE"))
            await tickets_reach(runtime, 2)
    finally:
        task.cancel()
        await ended(task)
        await active.engine.dispose()
    assert await ticket_subjects(runtime) == ["Waiting before start", "Arrived during IDLE"]
    async with runtime.read_uow() as uow:
        [row] = (await uow.session.scalars(select(MailboxRow))).all()
    assert row.managed_by == "settings"
    assert row.name == f"{account.username}@{account.host}/INBOX"
