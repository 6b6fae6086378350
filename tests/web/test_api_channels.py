"""IMAP mailboxes and the outbox through the REST API: admins only, passwords that go in and
never come out, problem details naming the field, and dead letters sent again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from playerdesk.db.models import AuditEntry, Mailbox, OutboxItem, Ticket
from playerdesk.domain.enums import AgentRole, Channel, MessageKind
from playerdesk.domain.mail import OutboxStatus
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, outbound
from playerdesk.services import mailboxes as mailbox_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.mailboxes import MailboxFields
from playerdesk.services.players import PlayerFields
from tests.conftest import AgentFactory, RecordingBus

API = "/api/v1"
PROBLEM = "application/problem+json"
PASSWORD = "s3cret imap password"
REPLY_BODY = "Your withdrawal of 200 EUR to IBAN PL61109010140000071219812874 is approved."

MAILBOX: dict[str, Any] = {
    "name": "Support inbox",
    "host": "imap.casino.example",
    "port": 993,
    "username": "support@casino.example",
    "password": PASSWORD,
}


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


async def stored_mailbox(runtime: Runtime, mailbox_id: int) -> Mailbox:
    async with runtime.read_uow() as uow:
        row = await uow.session.get(Mailbox, mailbox_id)
        assert row is not None
        return row


async def email_ticket(runtime: Runtime, actor: Actor, *, subject: str) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=actor,
            new=ticket_service.NewTicket(
                channel=Channel.EMAIL,
                subject=subject,
                body="I asked for a withdrawal three days ago.",
                player_external_id="P-100",
                player=PlayerFields(email="anna@example.test", name="Anna Nowak"),
                language="en",
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def reply_by_email(runtime: Runtime, actor: Actor, ticket: Ticket) -> OutboxItem:
    """An agent's reply on an email ticket: it waits in the outbox."""
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=actor,
            ticket_id=ticket.id,
            body=REPLY_BODY,
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    async with runtime.read_uow() as uow:
        row = await uow.session.scalar(
            select(OutboxItem).where(OutboxItem.ticket_id == ticket.id).order_by(OutboxItem.id)
        )
        assert row is not None
        return row


async def dead_letter(runtime: Runtime, *, error: str) -> None:
    """Whatever is due is claimed and fails for good, as a refused recipient does."""
    policy = runtime.policies.mail
    async with runtime.uow() as uow:
        claimed = await outbound.claim_due(uow, policy=policy)
    for delivery in claimed:
        async with runtime.uow() as uow:
            await outbound.record_failure(
                uow, item_id=delivery.id, error=error, permanent=True, policy=policy
            )


# Mailboxes ------------------------------------------------------------------------------------


async def test_mailboxes_round_trip_and_the_password_never_comes_back(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers

    created = await client.post(f"{API}/mailboxes", json=MAILBOX, headers=h)
    assert created.status_code == 201, created.text
    body = created.json()
    mailbox_id = body["id"]
    assert body["has_password"] is True
    assert "password" not in body and "password_encrypted" not in body
    assert (body["port"], body["use_tls"], body["starttls"], body["folder"]) == (
        993,
        True,
        False,
        "INBOX",
    )
    assert (body["managed_by"], body["enabled"], body["last_uid"]) == ("console", True, 0)
    assert body["uid_validity"] is None and body["last_polled_at"] is None
    row = await stored_mailbox(runtime, mailbox_id)
    sealed = row.password_encrypted
    assert sealed and PASSWORD not in sealed
    assert runtime.secret_box.open(sealed) == PASSWORD

    # No answer carries the password or its ciphertext.
    listed = await client.get(f"{API}/mailboxes", headers=h)
    assert [item["name"] for item in listed.json()] == ["Support inbox"]

    # A change without a password keeps the stored one.
    renamed = await client.patch(
        f"{API}/mailboxes/{mailbox_id}", json={"name": "Payments inbox", "port": 1993}, headers=h
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["port"]) == ("Payments inbox", 1993)
    assert renamed.json()["host"] == MAILBOX["host"]
    assert (await stored_mailbox(runtime, mailbox_id)).password_encrypted == sealed

    replaced = await client.patch(
        f"{API}/mailboxes/{mailbox_id}",
        json={"password": "a new one", "use_tls": False, "starttls": True, "enabled": False},
        headers=h,
    )
    assert replaced.status_code == 200
    assert (replaced.json()["starttls"], replaced.json()["enabled"]) == (True, False)
    resealed = (await stored_mailbox(runtime, mailbox_id)).password_encrypted
    assert runtime.secret_box.open(resealed) == "a new one"

    for response in (created, listed, renamed, replaced):
        for secret in (PASSWORD, "a new one", sealed, resealed):
            assert secret not in response.text

    deleted = await client.delete(f"{API}/mailboxes/{mailbox_id}", headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    again = await client.delete(f"{API}/mailboxes/{mailbox_id}", headers=h)
    assert again.status_code == 404 and problem_fields(again) == ["mailbox_id"]
    missing = await client.patch(f"{API}/mailboxes/{mailbox_id}", json={"port": 143}, headers=h)
    assert missing.status_code == 404 and problem_fields(missing) == ["mailbox_id"]

    async with runtime.read_uow() as uow:
        audited = list(
            (
                await uow.session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.entity_type == "mailbox")
                    .order_by(AuditEntry.id)
                )
            ).all()
        )
    assert [entry.action for entry in audited] == [
        "mailbox.created",
        "mailbox.updated",
        "mailbox.updated",
        "mailbox.deleted",
    ]
    assert all(PASSWORD not in str(entry.details) for entry in audited)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"port": "imap"}, "port"),
        ({"host": "imap casino.example"}, "host"),
        ({"host": ""}, "host"),
        ({"host": "h" * 256}, "host"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"password": "p" * 1001}, "password"),
        ({"folder": " "}, "folder"),
        ({"use_tls": True, "starttls": True}, "starttls"),
        ({"use_tls": "sometimes"}, "use_tls"),
        ({"name": "nul\x00byte"}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_mailbox_is_a_422_naming_the_field(
    client: httpx.AsyncClient, make_agent: AgentFactory, change: dict[str, Any], field: str
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    response = await client.post(f"{API}/mailboxes", json=MAILBOX | change, headers=admin.headers)
    assert response.status_code == 422
    assert problem_fields(response) == [field]


async def test_required_fields_and_changes_are_checked_too(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    without = {key: value for key, value in MAILBOX.items() if key != "password"}
    missing = await client.post(f"{API}/mailboxes", json=without, headers=h)
    assert missing.status_code == 422 and problem_fields(missing) == ["password"]

    created = await client.post(f"{API}/mailboxes", json=MAILBOX, headers=h)
    mailbox_id = created.json()["id"]
    twin = await client.post(f"{API}/mailboxes", json=MAILBOX, headers=h)
    assert twin.status_code == 409 and problem_fields(twin) == ["name"]

    cases: list[tuple[dict[str, Any], str]] = [
        ({"port": 70000}, "port"),
        ({"host": "two words"}, "host"),
        ({"password": ""}, "password"),
        ({"secret": "x"}, "secret"),
        # Valid alone; with the stored TLS it is both (the service checks the whole).
        ({"starttls": True}, "starttls"),
    ]
    for change, field in cases:
        response = await client.patch(f"{API}/mailboxes/{mailbox_id}", json=change, headers=h)
        assert response.status_code == 422, (change, response.text)
        assert problem_fields(response) == [field], change
    bad_id = await client.patch(f"{API}/mailboxes/0", json={"port": 143}, headers=h)
    assert bad_id.status_code == 422 and problem_fields(bad_id) == ["mailbox_id"]


async def test_a_mailbox_from_the_settings_is_shown_but_not_changed_here(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
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

    [listed] = (await client.get(f"{API}/mailboxes", headers=h)).json()
    assert (listed["id"], listed["managed_by"], listed["has_password"]) == (
        configured.id,
        "settings",
        True,
    )
    changed = await client.patch(f"{API}/mailboxes/{configured.id}", json={"port": 143}, headers=h)
    assert changed.status_code == 409 and problem_fields(changed) == ["mailbox_id"]
    assert "PLAYERDESK_IMAP_MAILBOXES" in changed.json()["detail"]
    deleted = await client.delete(f"{API}/mailboxes/{configured.id}", headers=h)
    assert deleted.status_code == 409 and problem_fields(deleted) == ["mailbox_id"]
    assert (await stored_mailbox(runtime, configured.id)).port == 993


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SUPERVISOR])
async def test_only_admins_manage_channels(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, role: AgentRole
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    created = await client.post(f"{API}/mailboxes", json=MAILBOX, headers=admin.headers)
    mailbox_id = created.json()["id"]
    other = await make_agent(role)
    h = other.headers

    attempts = [
        await client.get(f"{API}/mailboxes", headers=h),
        await client.post(f"{API}/mailboxes", json=MAILBOX | {"name": "Mine"}, headers=h),
        await client.patch(f"{API}/mailboxes/{mailbox_id}", json={"port": 143}, headers=h),
        await client.delete(f"{API}/mailboxes/{mailbox_id}", headers=h),
        await client.get(f"{API}/outbox", headers=h),
        await client.post(f"{API}/outbox/1/retry", headers=h),
    ]

    assert [response.status_code for response in attempts] == [403] * len(attempts)
    assert all(response.headers["content-type"] == PROBLEM for response in attempts)
    assert (await stored_mailbox(runtime, mailbox_id)).port == 993
    anonymous = await client.get(f"{API}/mailboxes")
    assert anonymous.status_code == 401


# Outbox -------------------------------------------------------------------------------------


async def test_the_outbox_lists_dead_letters_without_bodies_and_retries_them(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, bus: RecordingBus
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    agent = await make_agent()
    h = admin.headers
    refused = await email_ticket(runtime, agent.actor, subject="Where is my withdrawal?")
    dead = await reply_by_email(runtime, agent.actor, refused)
    await dead_letter(runtime, error="550 5.1.1 <anna@example.test>: mailbox unavailable")
    waiting_ticket = await email_ticket(runtime, agent.actor, subject="Bonus question")
    waiting = await reply_by_email(runtime, agent.actor, waiting_ticket)

    listed = await client.get(f"{API}/outbox", params={"status": "dead"}, headers=h)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["counts"] == {"pending": 1, "sending": 0, "sent": 0, "dead": 1}
    [item] = body["items"]
    assert item["id"] == dead.id
    assert (item["status"], item["channel"], item["purpose"]) == ("dead", "email", "reply")
    assert (item["ticket_id"], item["ticket_number"]) == (refused.id, refused.number)
    assert item["recipient"] == "anna@example.test"
    assert item["subject"] == f"Re: Where is my withdrawal? [#{refused.number}]"
    assert item["attempts"] == 1
    assert item["last_error"].startswith("550 5.1.1")
    assert item["dead_at"] is not None
    # The reply itself (it may carry personal data) is not in the listing, in text or HTML.
    assert "IBAN" not in listed.text and "withdrawal of 200" not in listed.text
    assert "text" not in item and "html" not in item and "payload" not in item

    everything = await client.get(f"{API}/outbox", params={"limit": 5}, headers=h)
    assert [entry["id"] for entry in everything.json()["items"]] == [waiting.id, dead.id]
    newest = await client.get(f"{API}/outbox", params={"limit": 1}, headers=h)
    assert [entry["id"] for entry in newest.json()["items"]] == [waiting.id]

    bus.published.clear()
    retried = await client.post(f"{API}/outbox/{dead.id}/retry", headers=h)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert retried.json()["dead_at"] is None
    assert bus.types() == ["outbox.changed"]
    after = (await client.get(f"{API}/outbox", headers=h)).json()
    assert after["counts"] == {"pending": 2, "sending": 0, "sent": 0, "dead": 0}
    async with runtime.read_uow() as uow:
        row = await uow.session.get(OutboxItem, dead.id)
        assert row is not None and row.status == OutboxStatus.PENDING.value

    twice = await client.post(f"{API}/outbox/{dead.id}/retry", headers=h)
    assert twice.status_code == 422 and problem_fields(twice) == ["outbox_id"]
    missing = await client.post(f"{API}/outbox/424242/retry", headers=h)
    assert missing.status_code == 404 and problem_fields(missing) == ["outbox_id"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
async def test_bad_outbox_queries_name_the_parameter(
    client: httpx.AsyncClient, make_agent: AgentFactory, params: dict[str, Any], field: str
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    response = await client.get(f"{API}/outbox", params=params, headers=admin.headers)
    assert response.status_code == 422
    assert problem_fields(response) == [field]
