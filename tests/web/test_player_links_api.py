"""POST /api/v1/tickets/{id}/player-link: an agent links the messenger chat of a conversation
to a casino account (the demo back office over real HTTP checks the id)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from playerdesk.db.models import AuditEntry, ChannelIdentity, Player, Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.runtime import Runtime
from playerdesk.services.messengers import (
    MessengerPolicies,
    MessengerReceived,
    MessengerSender,
    receive_messenger_message,
)
from tests.casino_backoffice import DemoCasino
from tests.conftest import AgentFactory

PROBLEM = "application/problem+json"
PRIYA = "290677"  # Priya Shah in the demo back office
JAMES = "204117"  # James Whitfield


async def telegram_message(
    runtime: Runtime, *, chat: str = "5001234567", key: str = "telegram:1"
) -> MessengerReceived:
    async with runtime.uow() as uow:
        received = await receive_messenger_message(
            uow,
            sender=MessengerSender(
                channel=Channel.TELEGRAM, address=chat, name="Priya", language_tag="en"
            ),
            body="Where is my withdrawal?",
            provider_message_key=key,
            policies=MessengerPolicies(
                players=runtime.policies.players,
                messages=runtime.policies.messages,
                routing=runtime.policies.routing,
            ),
        )
    assert received.ticket_id is not None
    return received


def url(ticket_id: int | str) -> str:
    return f"/api/v1/tickets/{ticket_id}/player-link"


async def player_of_ticket(runtime: Runtime, ticket_id: int) -> Player:
    async with runtime.uow() as uow:
        found = await uow.session.scalar(
            select(Player).join(Ticket, Ticket.player_id == Player.id).where(Ticket.id == ticket_id)
        )
    assert found is not None
    return found


async def test_the_agent_links_the_chat_and_the_panel_shows_the_account(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, connected: DemoCasino
) -> None:
    agent = await make_agent()
    received = await telegram_message(runtime)
    assert received.ticket_id is not None
    before = await client.get(
        f"/api/v1/tickets/{received.ticket_id}/player-context", headers=agent.headers
    )
    assert before.json()["account"]["state"] == "not_linked"

    response = await client.post(
        url(received.ticket_id), json={"external_id": PRIYA}, headers=agent.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    linked = await player_of_ticket(runtime, received.ticket_id)
    assert body == {
        "player_id": linked.id,
        "external_id": PRIYA,
        "moved_ticket_ids": [received.ticket_id],
        "changed": True,
    }
    after = await client.get(
        f"/api/v1/tickets/{received.ticket_id}/player-context", headers=agent.headers
    )
    context = after.json()
    assert context["player"]["external_id"] == PRIYA
    assert context["account"]["state"] == "available"
    assert context["account"]["profile"]["name"] == "Priya Shah"
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "player.linked")
        )
    assert entry is not None
    assert (entry.actor_agent_id, entry.actor_token_id, entry.ip) == (
        agent.id,
        agent.actor.token_id,
        "127.0.0.1",
    )

    again = await client.post(
        url(received.ticket_id), json={"external_id": PRIYA}, headers=agent.headers
    )
    assert again.status_code == 200
    assert again.json()["changed"] is False and again.json()["moved_ticket_ids"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "external_id"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"external_id": "   "}, "external_id"),
        ({"external_id": "bad\u0000id"}, "external_id"),
        ({"external_id": 290677}, "external_id"),
        ({"external_id": PRIYA, "relink": "perhaps"}, "relink"),
        ({"external_id": PRIYA, "player_id": 3}, "player_id"),
    ],
)
async def test_bad_input_is_a_4xx_naming_the_field(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    body: dict[str, object],
    field: str,
) -> None:
    agent = await make_agent()
    received = await telegram_message(runtime)
    assert received.ticket_id is not None

    response = await client.post(url(received.ticket_id), json=body, headers=agent.headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]]
    identity_owner = await player_of_ticket(runtime, received.ticket_id)
    assert identity_owner.external_id is None  # nothing was linked


async def test_an_id_the_back_office_does_not_know_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, connected: DemoCasino
) -> None:
    agent = await make_agent()
    received = await telegram_message(runtime)
    assert received.ticket_id is not None

    response = await client.post(
        url(received.ticket_id), json={"external_id": "999999"}, headers=agent.headers
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:playerdesk:problem:unknown_player"
    assert problem["errors"] == [
        {"field": "external_id", "message": "the casino's back office has no player with this ID"}
    ]
    async with runtime.uow() as uow:
        assert (
            await uow.session.scalar(select(Player).where(Player.external_id == "999999")) is None
        )


async def test_a_conversation_that_is_not_a_messenger_chat_or_not_there(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    created = await client.post(
        "/api/v1/tickets",
        json={
            "channel": "email",
            "subject": "Hello",
            "body": "Hi",
            "player": {"email": "ola@example.test"},
        },
        headers=agent.headers,
    )
    assert created.status_code == 201, created.text

    email = await client.post(
        url(created.json()["id"]), json={"external_id": PRIYA}, headers=agent.headers
    )
    missing = await client.post(url(999_999), json={"external_id": PRIYA}, headers=agent.headers)
    bad_id = await client.post(url("zero"), json={"external_id": PRIYA}, headers=agent.headers)

    assert email.status_code == 422
    assert email.json()["errors"][0]["field"] == "ticket_id"
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "ticket_id"
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "ticket_id"


async def test_a_chat_of_another_account_needs_an_explicit_relink_by_a_supervisor(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, connected: DemoCasino
) -> None:
    agent = await make_agent(AgentRole.AGENT)
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    received = await telegram_message(runtime)
    assert received.ticket_id is not None
    linked = await client.post(
        url(received.ticket_id), json={"external_id": PRIYA}, headers=agent.headers
    )
    assert linked.status_code == 200

    silent = await client.post(
        url(received.ticket_id), json={"external_id": JAMES}, headers=supervisor.headers
    )
    not_allowed = await client.post(
        url(received.ticket_id), json={"external_id": JAMES, "relink": True}, headers=agent.headers
    )
    relinked = await client.post(
        url(received.ticket_id),
        json={"external_id": JAMES, "relink": True},
        headers=supervisor.headers,
    )

    assert silent.status_code == 409
    assert silent.json()["type"] == "urn:playerdesk:problem:linked_elsewhere"
    assert silent.json()["errors"][0]["field"] == "external_id"
    assert not_allowed.status_code == 403
    assert relinked.status_code == 200, relinked.text
    assert relinked.json()["external_id"] == JAMES
    assert (await player_of_ticket(runtime, received.ticket_id)).external_id == JAMES
    async with runtime.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
        assert identity is not None
        owner = await uow.session.get(Player, identity.player_id)
    assert owner is not None and owner.external_id == JAMES


async def test_linking_needs_a_signed_in_agent(client: httpx.AsyncClient, runtime: Runtime) -> None:
    received = await telegram_message(runtime)
    assert received.ticket_id is not None

    response = await client.post(url(received.ticket_id), json={"external_id": PRIYA})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
