"""The mailboxes and outbox pages in real Chromium: an admin adds an IMAP mailbox, then sends
a dead-lettered reply again with the Retry button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.async_api import Page, expect
from sqlalchemy import select

from playerdesk.db.models import Mailbox, OutboxItem
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.mail import OutboxStatus
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services import mailboxes as mailbox_service
from playerdesk.services.mailboxes import MailboxFields
from tests.conftest import AgentFactory, LiveServer
from tests.web.test_api_channels import dead_letter, email_ticket, reply_by_email

PASSWORD = "correct horse battery"
MAILBOX_PASSWORD = "imap-secret-42"
VIEWPORT = {"width": 1440, "height": 1000}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def sign_in(browser: Any, server: LiveServer, email: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page: Page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{server.base_url}/console/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(f"{server.base_url}/console")
    return page, errors


async def configured_mailbox_that_fails(runtime: Runtime) -> None:
    """A mailbox from PLAYERDESK_IMAP_MAILBOXES whose last poll was refused."""
    async with runtime.uow() as uow:
        [configured] = await mailbox_service.sync_configured_mailboxes(
            uow,
            configured=[
                MailboxFields(
                    name="Legacy inbox",
                    host="mail.casino.example",
                    port=993,
                    use_tls=True,
                    starttls=False,
                    username="legacy",
                    password="from the environment",
                )
            ],
            box=runtime.secret_box,
        )
    async with runtime.uow() as uow:
        await mailbox_service.record_poll(
            uow,
            mailbox_id=configured.id,
            uid_validity=1731000000,
            last_uid=812,
            error="LOGIN failed: [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
        )


async def test_admin_adds_a_mailbox_and_retries_a_dead_letter(
    browser: Any,
    live_server: LiveServer,
    runtime: Runtime,
    make_agent: AgentFactory,
    screenshot_dir: Path,
) -> None:
    agent = await make_agent()
    ticket = await email_ticket(runtime, agent.actor, subject="Where is my withdrawal?")
    dead = await reply_by_email(runtime, agent.actor, ticket)
    await dead_letter(runtime, error="550 5.1.1 <anna@example.test>: Recipient address rejected")
    await configured_mailbox_that_fails(runtime)
    admin = await make_agent(AgentRole.ADMIN, password=PASSWORD)
    page, errors = await sign_in(browser, live_server, admin.email)
    base = live_server.base_url

    # A mailbox: STARTTLS on port 143, the password typed once and never shown again.
    await page.goto(f"{base}/console/admin/mailboxes")
    configured = page.get_by_test_id("mailbox-row")
    await expect(configured).to_have_count(1)
    await expect(configured.get_by_test_id("managed-by-settings")).to_be_visible()
    await expect(configured.get_by_test_id("mailbox-error")).to_contain_text("LOGIN failed")
    await expect(configured.get_by_test_id("mailbox-progress")).to_contain_text("last UID 812")
    await expect(configured.get_by_test_id("edit-mailbox")).to_have_count(0)
    form = page.get_by_test_id("mailbox-form")
    await form.get_by_test_id("mailbox-name").fill("Support inbox")
    await form.get_by_test_id("mailbox-host").fill("imap.casino.example")
    await form.get_by_test_id("mailbox-security").select_option("starttls")
    await form.get_by_test_id("mailbox-port").fill("143")
    await form.get_by_test_id("mailbox-username").fill("support@casino.example")
    await form.get_by_test_id("mailbox-password").fill(MAILBOX_PASSWORD)
    await form.get_by_test_id("mailbox-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    row = page.get_by_test_id("mailbox-row").filter(has_text="Support inbox")
    await expect(page.get_by_test_id("mailbox-row")).to_have_count(2)
    await expect(row).to_contain_text("Support inbox")
    await expect(row).to_contain_text("imap.casino.example:143")
    await expect(row).to_contain_text("STARTTLS")
    await expect(row).to_contain_text("Not polled yet")
    await expect(page.get_by_test_id("mailbox-password")).to_have_value("")
    assert MAILBOX_PASSWORD not in await page.content()
    await page.screenshot(path=str(screenshot_dir / "admin-mailboxes.png"), full_page=True)

    # Editing it: the form is filled in, the password left empty to keep it.
    await row.get_by_test_id("edit-mailbox").click()
    await expect(page.get_by_test_id("mailbox-name")).to_have_value("Support inbox")
    await expect(page.get_by_test_id("mailbox-security")).to_have_value("starttls")
    await expect(page.get_by_test_id("mailbox-password")).to_have_value("")
    await page.screenshot(path=str(screenshot_dir / "admin-mailbox-edit.png"), full_page=True)
    await page.get_by_test_id("mailbox-folder").fill("Support")
    await page.get_by_test_id("mailbox-save").click()
    await expect(page.get_by_test_id("saved")).to_be_visible()
    await expect(row).to_contain_text("Folder: Support")

    # The outbox: the dead letter, and the Retry button that queues it again.
    await page.get_by_test_id("nav-outbox").click()
    await page.wait_for_url(f"{base}/console/admin/outbox")
    letter = page.get_by_test_id("dead-letter")
    await expect(letter).to_have_count(1)
    await expect(letter).to_contain_text("anna@example.test")
    await expect(letter).to_contain_text("Recipient address rejected")
    await expect(letter.get_by_test_id("outbox-ticket")).to_have_text(f"#{ticket.number}")
    await expect(page.get_by_test_id("outbox-count-dead")).to_contain_text("1")
    await page.screenshot(path=str(screenshot_dir / "admin-outbox-dead.png"), full_page=True)

    await letter.get_by_role("button", name="Retry").click()
    await expect(page.get_by_test_id("retried")).to_be_visible()
    await expect(page.get_by_test_id("dead-letter")).to_have_count(0)
    await expect(page.get_by_test_id("no-dead-letters")).to_be_visible()
    await expect(page.get_by_test_id("retrying-row")).to_have_count(1)
    await expect(page.get_by_test_id("outbox-count-pending")).to_contain_text("1")
    await expect(page.get_by_test_id("outbox-count-dead")).to_contain_text("0")
    await page.screenshot(path=str(screenshot_dir / "admin-outbox-retried.png"), full_page=True)

    # The ticket link opens the conversation.
    await page.get_by_test_id("retrying-row").get_by_test_id("outbox-ticket").click()
    await page.wait_for_url(f"{base}/console/tickets/{ticket.id}")

    async with runtime.read_uow() as uow:
        mailbox = await uow.session.scalar(select(Mailbox).where(Mailbox.name == "Support inbox"))
        item = await uow.session.get(OutboxItem, dead.id)
    assert mailbox is not None
    assert (mailbox.port, mailbox.starttls, mailbox.use_tls, mailbox.folder) == (
        143,
        True,
        False,
        "Support",
    )
    assert runtime.secret_box.open(mailbox.password_encrypted) == MAILBOX_PASSWORD
    assert item is not None and item.status == OutboxStatus.PENDING.value
    assert errors == []
