"""The console's mailboxes and outbox pages over HTTP: admins only, forms that need the
page's CSRF token, a password never put back into a page, and the Retry button."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from playerdesk.db.models import Mailbox, OutboxItem
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.mail import OutboxStatus
from playerdesk.runtime import Runtime
from playerdesk.services import mailboxes as mailbox_service
from playerdesk.services.mailboxes import MailboxFields
from tests.conftest import AgentFactory
from tests.web.test_api_channels import REPLY_BODY, dead_letter, email_ticket, reply_by_email
from tests.web.test_console_workspace import (
    CSRF_FIELD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    sign_in,
)

MAILBOXES = "/console/admin/mailboxes"
OUTBOX = "/console/admin/outbox"
PASSWORD = "imap password 123"


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found is not None
    return found.group(1)


def mailbox_form(token: str, **overrides: str) -> dict[str, str]:
    values = {
        "csrf_token": token,
        "id": "",
        "name": "Support inbox",
        "host": "imap.casino.example",
        "port": "993",
        "security": "tls",
        "username": "support@casino.example",
        "password": PASSWORD,
        "folder": "INBOX",
        "enabled": "1",
    }
    values.update(overrides)
    return values


async def mailboxes(runtime: Runtime) -> list[Mailbox]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(Mailbox).order_by(Mailbox.id))).all())


def password_input(page: str) -> str:
    found = re.search(r'<input id="mailbox-password"[^>]*>', page)
    assert found is not None
    return found.group(0)


async def test_an_admin_sees_both_pages_with_their_navigation(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)

    page = await client.get(MAILBOXES)
    outbox = await client.get(OUTBOX)

    assert page.status_code == 200 and outbox.status_code == 200
    assert 'data-testid="no-mailboxes"' in page.text
    assert 'data-testid="mailbox-form"' in page.text
    assert 'data-testid="nav-mailboxes" aria-current="page"' in page.text
    assert 'data-testid="nav-outbox" aria-current="page"' in outbox.text
    assert 'href="/static/console/admin.css"' in page.text
    assert 'data-testid="no-dead-letters"' in outbox.text
    assert 'data-testid="nothing-retrying"' in outbox.text
    for status in OutboxStatus:
        assert f'data-testid="outbox-count-{status.value}"' in outbox.text
    # Plain server-rendered pages: no inline styles or scripts.
    assert " style=" not in page.text + outbox.text
    assert "<script" not in page.text + outbox.text


async def test_agents_and_supervisors_get_the_forbidden_page_and_change_nothing(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    for path in (MAILBOXES, OUTBOX):
        response = await client.get(path)
        assert response.status_code == 403
        assert 'data-testid="forbidden"' in response.text
        assert 'data-testid="nav-mailboxes"' not in response.text
    token = csrf_of((await client.get(MAILBOXES)).text)

    created = await client.post(MAILBOXES, data=mailbox_form(token))
    retried = await client.post(f"{OUTBOX}/1/retry", data={"csrf_token": token})

    assert created.status_code == 403 and 'data-testid="forbidden"' in created.text
    assert retried.status_code == 403 and 'data-testid="forbidden"' in retried.text
    assert await mailboxes(runtime) == []


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(MAILBOXES),
        await client.get(OUTBOX),
        await client.post(MAILBOXES, data={"name": "x"}),
        await client.post(f"{OUTBOX}/1/retry"),
    ):
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login"


async def test_an_admin_adds_edits_and_deletes_a_mailbox_without_seeing_its_password(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    token = csrf_of((await client.get(MAILBOXES)).text)

    created = await client.post(MAILBOXES, data=mailbox_form(token))

    assert created.status_code == 303
    assert created.headers["location"] == f"{MAILBOXES}?saved=1"
    [row] = await mailboxes(runtime)
    assert (row.name, row.port, row.use_tls, row.starttls, row.enabled) == (
        "Support inbox",
        993,
        True,
        False,
        True,
    )
    sealed = row.password_encrypted
    assert runtime.secret_box.open(sealed) == PASSWORD
    listed = (await client.get(f"{MAILBOXES}?saved=1")).text
    assert 'data-testid="saved"' in listed
    assert listed.count('data-testid="mailbox-row"') == 1
    assert "imap.casino.example:993" in listed
    assert "Not polled yet" in listed

    # The edit form is filled in, except the password, which it offers to keep.
    editing = (await client.get(MAILBOXES, params={"edit": row.id})).text
    assert f'name="id" value="{row.id}"' in editing
    assert 'value="support@casino.example"' in editing
    assert "value=" not in password_input(editing)
    assert "required" not in password_input(editing)
    assert 'placeholder="Leave empty to keep it"' in password_input(editing)
    for page in (listed, editing):
        assert PASSWORD not in page and sealed not in page

    edited = mailbox_form(
        token,
        id=str(row.id),
        name="Payments inbox",
        port="143",
        security="starttls",
        password="",
    )
    del edited["enabled"]  # an unticked checkbox is not sent at all
    updated = await client.post(MAILBOXES, data=edited)
    assert updated.status_code == 303
    [row] = await mailboxes(runtime)
    assert (row.name, row.port, row.use_tls, row.starttls) == ("Payments inbox", 143, False, True)
    assert row.enabled is False
    assert row.password_encrypted == sealed  # left empty: kept

    replaced = await client.post(
        MAILBOXES, data=mailbox_form(token, id=str(row.id), password="  new one  ")
    )
    assert replaced.status_code == 303
    [row] = await mailboxes(runtime)
    assert runtime.secret_box.open(row.password_encrypted) == "  new one  "

    deleted = await client.post(f"{MAILBOXES}/{row.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"{MAILBOXES}?deleted=1"
    assert await mailboxes(runtime) == []
    assert 'data-testid="deleted"' in (await client.get(deleted.headers["location"])).text


async def test_a_refused_mailbox_shows_why_next_to_the_field_and_keeps_the_input(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    token = csrf_of((await client.get(MAILBOXES)).text)
    cases: list[tuple[dict[str, str], str, int]] = [
        ({"port": "99999"}, "port", 422),
        ({"port": "imap"}, "port", 422),
        ({"host": "two words"}, "host", 422),
        ({"name": ""}, "name", 422),
        ({"password": ""}, "password", 422),
        ({"password": "p" * 1001}, "password", 422),
        ({"security": "ssl3"}, "security", 422),
        ({"folder": "a\x00b"}, "folder", 422),
    ]
    for change, field, status in cases:
        response = await client.post(
            MAILBOXES, data=mailbox_form(token, username="kept@casino.example", **change)
        )
        assert response.status_code == status, (change, response.status_code)
        assert f'data-testid="field-error-{field}"' in response.text, change
        assert f'data-field="{field}"' in response.text
        assert 'value="kept@casino.example"' in response.text
        assert "value=" not in password_input(response.text)

    await client.post(MAILBOXES, data=mailbox_form(token))
    twin = await client.post(MAILBOXES, data=mailbox_form(token))
    assert twin.status_code == 409
    assert "A mailbox with this name exists" in twin.text
    assert len(await mailboxes(runtime)) == 1


async def test_forms_without_the_pages_csrf_token_change_nothing(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    token = csrf_of((await client.get(MAILBOXES)).text)
    await client.post(MAILBOXES, data=mailbox_form(token))
    [row] = await mailboxes(runtime)

    forged: list[httpx.Response] = [
        await client.post(MAILBOXES, data=mailbox_form("", name="Forged")),
        await client.post(MAILBOXES, data=mailbox_form("0" * 64, id=str(row.id), port="1")),
        await client.post(f"{MAILBOXES}/{row.id}/delete", data={"csrf_token": "nope"}),
    ]

    for response in forged:
        assert response.status_code == 403
        assert "Your session expired. Please try again." in response.text
    [unchanged] = await mailboxes(runtime)
    assert (unchanged.name, unchanged.port) == ("Support inbox", 993)


async def test_a_mailbox_from_the_settings_has_a_badge_and_no_buttons(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    async with runtime.uow() as uow:
        [configured] = await mailbox_service.sync_configured_mailboxes(
            uow,
            configured=[
                MailboxFields(
                    name="From settings",
                    host="imap.casino.example",
                    port=993,
                    use_tls=True,
                    starttls=False,
                    username="helpdesk",
                    password="from the environment",
                )
            ],
            box=runtime.secret_box,
        )
    async with runtime.uow() as uow:
        await mailbox_service.record_poll(
            uow,
            mailbox_id=configured.id,
            uid_validity=1700000001,
            last_uid=42,
            error="LOGIN failed: <b>Invalid credentials</b>",
        )
    await sign_in(client, make_agent, AgentRole.ADMIN)

    page = await client.get(MAILBOXES)
    token = csrf_of(page.text)

    assert 'data-testid="managed-by-settings"' in page.text
    assert 'data-testid="edit-mailbox"' not in page.text
    assert 'data-testid="delete-mailbox"' not in page.text
    assert "UIDVALIDITY 1700000001, last UID 42" in page.text
    assert "LOGIN failed: &lt;b&gt;Invalid credentials&lt;/b&gt;" in page.text
    # Editing it through a hand-made link shows the add form instead.
    assert 'name="id" value=""' in (await client.get(f"{MAILBOXES}?edit={configured.id}")).text

    refused = await client.post(f"{MAILBOXES}/{configured.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "PLAYERDESK_IMAP_MAILBOXES" in refused.text
    changed = await client.post(
        MAILBOXES, data=mailbox_form(token, id=str(configured.id), name="Hijacked")
    )
    assert changed.status_code == 409
    assert [row.name for row in await mailboxes(runtime)] == ["From settings"]


async def test_names_are_escaped(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    token = csrf_of((await client.get(MAILBOXES)).text)
    await client.post(MAILBOXES, data=mailbox_form(token, name="<script>alert(1)</script>"))

    page = (await client.get(MAILBOXES)).text

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_the_outbox_shows_dead_letters_and_the_retry_button_queues_one_again(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    ticket = await email_ticket(runtime, agent.actor, subject="Where is <my> withdrawal?")
    dead = await reply_by_email(runtime, agent.actor, ticket)
    await dead_letter(runtime, error="550 5.1.1 <anna@example.test>: no such user")
    await sign_in(client, make_agent, AgentRole.ADMIN)

    page = (await client.get(OUTBOX)).text
    token = csrf_of(page)

    row = row_html(page, "dead-letter", dead.id)
    assert f'href="/console/tickets/{ticket.id}"' in row and f"#{ticket.number}" in row
    assert "anna@example.test" in row
    assert "Reply" in row
    assert "Where is &lt;my&gt; withdrawal?" in row
    assert "550 5.1.1 &lt;anna@example.test&gt;: no such user" in row
    assert f'action="/console/admin/outbox/{dead.id}/retry"' in row
    assert count_of(page, "dead") == 1 and count_of(page, "pending") == 0
    # The reply itself is never shown here.
    assert REPLY_BODY not in page and "IBAN" not in page

    forged = await client.post(f"{OUTBOX}/{dead.id}/retry", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert await status_of(runtime, dead.id) == OutboxStatus.DEAD

    retried = await client.post(f"{OUTBOX}/{dead.id}/retry", data={"csrf_token": token})

    assert retried.status_code == 303
    assert retried.headers["location"] == f"{OUTBOX}?retried=1"
    assert await status_of(runtime, dead.id) == OutboxStatus.PENDING
    after = (await client.get(retried.headers["location"])).text
    assert 'data-testid="retried"' in after
    assert 'data-testid="no-dead-letters"' in after
    # Waiting for its new first attempt, with the error that stopped it last time.
    assert 'data-testid="retrying-row"' in row_html(after, "retrying-row", dead.id)
    assert count_of(after, "dead") == 0 and count_of(after, "pending") == 1

    again = await client.post(f"{OUTBOX}/{dead.id}/retry", data={"csrf_token": token})
    assert again.status_code == 422
    assert "Only a dead-lettered message is retried" in again.text
    missing = await client.post(f"{OUTBOX}/424242/retry", data={"csrf_token": token})
    assert missing.status_code == 404
    assert "No such outbox message" in missing.text


def row_html(page: str, testid: str, outbox_id: int) -> str:
    found = re.search(
        rf'<tr data-testid="{testid}" data-outbox-id="{outbox_id}">.*?</tr>', page, re.S
    )
    assert found is not None, f"no {testid} row for {outbox_id}"
    return found.group(0)


def count_of(page: str, status: str) -> int:
    found = re.search(
        rf'data-testid="outbox-count-{status}">.*?data-testid="count">(\d+)<', page, re.S
    )
    assert found is not None
    return int(found.group(1))


async def status_of(runtime: Runtime, outbox_id: int) -> OutboxStatus:
    async with runtime.read_uow() as uow:
        row: Any = await uow.session.get(OutboxItem, outbox_id)
        return OutboxStatus(row.status)


async def test_the_console_shows_the_pages_in_the_agents_language(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)

    page = await client.get(MAILBOXES, params={"lang": "pl"})

    assert page.status_code == 200
    assert page.headers["content-language"] == "pl"
    assert '<html lang="pl">' in page.text
