"""The original of a received mail, byte for byte, for the agent who needs it (audited), and
the console's conversation marking the messages that have one."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from playerdesk.adapters.email_in import take_mail
from playerdesk.db.models import AuditEntry, Message
from playerdesk.runtime import Runtime
from tests.conftest import AgentFactory
from tests.services.test_inbound_email import mail

API = "/api/v1"


async def test_an_agent_downloads_the_original_mail_and_the_read_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    raw = mail(body="Hello,\n\nsee below.\n\nOn Mon, 2 Nov 2026, X <x@example.test> wrote:\n> old")
    received = await take_mail(runtime, raw=raw, source="smtp")
    assert received.ticket_id is not None
    async with runtime.read_uow() as uow:
        message = await uow.session.scalar(select(Message))
    assert message is not None
    url = f"{API}/tickets/{received.ticket_id}/messages/{message.id}/original"

    response = await client.get(url, headers=agent.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "message/rfc822"
    assert response.content == raw  # quoted history included: the whole original
    async with runtime.read_uow() as uow:
        actions = (await uow.session.scalars(select(AuditEntry.action))).all()
    assert "email.original_viewed" in actions

    # Not this ticket's message, or no mail behind it: 404 naming the field.
    other = await client.get(
        f"{API}/tickets/{received.ticket_id + 1}/messages/{message.id}/original",
        headers=agent.headers,
    )
    assert other.status_code == 404
    assert other.json()["errors"][0]["field"] == "message_id"
    assert (await client.get(url)).status_code == 401

    conversation = await client.get(
        f"/console/tickets/{received.ticket_id}/conversation", headers=agent.headers
    )
    assert conversation.status_code == 200
    assert [m["from_email"] for m in conversation.json()["messages"]] == [True]
