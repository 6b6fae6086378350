"""Canned replies and macros through the REST API: CRUD for supervisors, the composer's
search, the preview for a ticket (with the demo back office over HTTP, and without one),
sending a macro, and problem details naming the field at fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from playerdesk.db.models import CannedReply, Message, Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.permissions import Actor
from playerdesk.domain.placeholders import PLACEHOLDERS
from playerdesk.runtime import Runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.casino_backoffice import demo_casino, http_backend
from tests.conftest import START, AgentFactory, AgentLogin

API = "/api/v1/canned-replies"
PROBLEM = "application/problem+json"
HELD_WITHDRAWAL = "290677"  # Priya Shah in the demo back office

REPLY: dict[str, Any] = {
    "shortcut": "/withdrawal-pending",
    "language": "en",
    "title": "Withdrawal pending",
    "body": "Hi {{player.first_name}}, your withdrawal is {{withdrawal.last.status}}.",
}


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


async def open_ticket(runtime: Runtime, *, language: str = "en") -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT,
                subject="Where is my withdrawal?",
                body="Still waiting.",
                player_external_id=HELD_WITHDRAWAL,
                player=PlayerFields(name="Priya Shah", language=language),
                language=language,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


@pytest.fixture
async def supervisor(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent(AgentRole.SUPERVISOR)


@pytest.fixture
async def agent(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent()


@pytest.fixture
async def with_back_office(runtime: Runtime) -> AsyncIterator[None]:
    async with demo_casino(now=START) as office, http_backend(office.base_url) as backend:
        runtime.casino = backend
        try:
            yield
        finally:
            runtime.casino = None


async def test_crud_for_supervisors(
    client: httpx.AsyncClient, supervisor: AgentLogin, runtime: Runtime
) -> None:
    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=Actor.system(), name="Payments")
    created = await client.post(
        API,
        json={**REPLY, "add_tags": ["Payments"], "move_to_team_id": team.id},
        headers=supervisor.headers,
    )
    assert created.status_code == 201, created.text
    reply = created.json()
    assert reply["shortcut"] == "withdrawal-pending"
    assert reply["is_macro"] is True
    assert reply["actions"] == {
        "set_status": None,
        "set_priority": None,
        "add_tags": ["payments"],
        "move_to_team_id": team.id,
    }
    assert reply["usage_count"] == 0

    fetched = await client.get(f"{API}/{reply['id']}", headers=supervisor.headers)
    assert fetched.json() == reply

    patched = await client.patch(
        f"{API}/{reply['id']}",
        json={"title": "Pending withdrawal", "move_to_team_id": None, "set_status": "pending"},
        headers=supervisor.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Pending withdrawal"
    assert patched.json()["body"] == REPLY["body"]  # absent: kept
    assert patched.json()["actions"]["move_to_team_id"] is None  # null: cleared
    assert patched.json()["actions"]["set_status"] == "pending"

    listed = await client.get(API, headers=supervisor.headers)
    assert [item["id"] for item in listed.json()] == [reply["id"]]

    deleted = await client.delete(f"{API}/{reply['id']}", headers=supervisor.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"{API}/{reply['id']}", headers=supervisor.headers)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"shortcut": "Withdrawal pending"}, "shortcut"),
        ({"body": "Hi {{player.nick}}"}, "body"),
        ({"body": "Hi {{player.first_name"}, "body"),
        ({"language": "de"}, "language"),
        ({"set_status": "closed"}, "set_status"),
        ({"set_status": "gone"}, "set_status"),
        ({"move_to_team_id": 4242}, "move_to_team_id"),
        ({"add_tags": ["a b"]}, "add_tags"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_refusals_name_the_field(
    client: httpx.AsyncClient, supervisor: AgentLogin, change: dict[str, Any], field: str
) -> None:
    response = await client.post(API, json={**REPLY, **change}, headers=supervisor.headers)
    assert response.status_code == 422
    assert field in problem_fields(response)


async def test_a_shortcut_taken_in_the_language_is_a_conflict(
    client: httpx.AsyncClient, supervisor: AgentLogin
) -> None:
    assert (await client.post(API, json=REPLY, headers=supervisor.headers)).status_code == 201
    again = await client.post(API, json=REPLY, headers=supervisor.headers)
    assert again.status_code == 409
    assert problem_fields(again) == ["shortcut"]
    polish = await client.post(API, json={**REPLY, "language": "pl"}, headers=supervisor.headers)
    assert polish.status_code == 201


async def test_agents_search_but_do_not_manage(
    client: httpx.AsyncClient, supervisor: AgentLogin, agent: AgentLogin, runtime: Runtime
) -> None:
    created = (await client.post(API, json=REPLY, headers=supervisor.headers)).json()
    await client.post(
        API, json={**REPLY, "shortcut": "welcome", "language": "pl"}, headers=supervisor.headers
    )
    forbidden = await client.post(API, json={**REPLY, "shortcut": "x"}, headers=agent.headers)
    assert forbidden.status_code == 403
    patch = await client.patch(f"{API}/{created['id']}", json={"title": "x"}, headers=agent.headers)
    assert patch.status_code == 403
    delete = await client.delete(f"{API}/{created['id']}", headers=agent.headers)
    assert delete.status_code == 403

    ticket = await open_ticket(runtime, language="sv")
    found = await client.get(
        f"{API}/suggestions",
        params={"ticket_id": ticket.id, "language": "sv", "prefix": "/with"},
        headers=agent.headers,
    )
    assert found.status_code == 200
    assert [(item["shortcut"], item["language"]) for item in found.json()] == [
        ("withdrawal-pending", "en")
    ]
    assert "body" not in found.json()[0]
    polish = await client.get(API, params={"language": "pl", "prefix": "w"}, headers=agent.headers)
    assert [(item["shortcut"], item["language"]) for item in polish.json()] == [
        ("welcome", "pl"),
        ("withdrawal-pending", "en"),
    ]
    unauthenticated = await client.get(API)
    assert unauthenticated.status_code == 401


async def test_the_placeholder_list(client: httpx.AsyncClient, agent: AgentLogin) -> None:
    response = await client.get(f"{API}/placeholders", headers=agent.headers)
    assert response.status_code == 200
    items = {item["name"]: item for item in response.json()}
    assert set(items) == set(PLACEHOLDERS)
    assert items["withdrawal.last.status"]["from_back_office"] is True
    assert items["player.first_name"]["from_back_office"] is False
    assert items["player.first_name"]["description"] == "The player's first name"


@pytest.mark.usefixtures("with_back_office")
async def test_preview_with_the_back_office(
    client: httpx.AsyncClient, supervisor: AgentLogin, agent: AgentLogin, runtime: Runtime
) -> None:
    await client.post(API, json=REPLY, headers=supervisor.headers)
    ticket = await open_ticket(runtime)
    response = await client.post(
        f"{API}/preview",
        json={"ticket_id": ticket.id, "shortcut": "withdrawal-pending"},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["text"] == "Hi Priya, your withdrawal is pending review."
    assert preview["unfilled"] == []
    assert preview["account_unavailable"] is False
    assert preview["reply"]["shortcut"] == "withdrawal-pending"


async def test_preview_without_a_back_office_flags_the_placeholders(
    client: httpx.AsyncClient, supervisor: AgentLogin, agent: AgentLogin, runtime: Runtime
) -> None:
    created = (await client.post(API, json=REPLY, headers=supervisor.headers)).json()
    ticket = await open_ticket(runtime)
    response = await client.post(
        f"{API}/preview",
        json={"ticket_id": ticket.id, "canned_id": created["id"]},
        headers=agent.headers,
    )
    preview = response.json()
    assert preview["text"] == "Hi Priya, your withdrawal is {{withdrawal.last.status}}."
    assert preview["unfilled"] == ["withdrawal.last.status"]
    assert preview["account_unavailable"] is True

    missing = await client.post(
        f"{API}/preview", json={"ticket_id": ticket.id, "shortcut": "nope"}, headers=agent.headers
    )
    assert missing.status_code == 404
    assert problem_fields(missing) == ["shortcut"]
    no_ticket = await client.post(
        f"{API}/preview",
        json={"ticket_id": 999, "canned_id": created["id"]},
        headers=agent.headers,
    )
    assert no_ticket.status_code == 404


async def test_sending_a_macro(
    client: httpx.AsyncClient, supervisor: AgentLogin, agent: AgentLogin, runtime: Runtime
) -> None:
    macro = (
        await client.post(
            API,
            json={
                **REPLY,
                "shortcut": "close-thanks",
                "body": "Thank you, {{player.first_name}}!",
                "set_status": "resolved",
                "add_tags": ["thanks"],
            },
            headers=supervisor.headers,
        )
    ).json()
    ticket = await open_ticket(runtime)

    refused = await client.post(
        f"{API}/{macro['id']}/apply",
        json={"ticket_id": ticket.id, "body": "Thank you, {{player.first_name}}!"},
        headers=agent.headers,
    )
    assert refused.status_code == 422
    assert problem_fields(refused) == ["body"]

    sent = await client.post(
        f"{API}/{macro['id']}/apply",
        json={"ticket_id": ticket.id, "body": "Thank you, Priya!", "client_msg_id": "m-1"},
        headers=agent.headers,
    )
    assert sent.status_code == 201, sent.text
    result = sent.json()
    assert result["message"]["body"] == "Thank you, Priya!"
    assert result["ticket"]["status"] == "resolved"
    assert result["ticket"]["tags"] == ["thanks"]
    assert result["actions"] == ["set_status", "add_tags"]

    replayed = await client.post(
        f"{API}/{macro['id']}/apply",
        json={"ticket_id": ticket.id, "body": "Thank you, Priya!", "client_msg_id": "m-1"},
        headers=agent.headers,
    )
    assert replayed.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    async with runtime.read_uow() as uow:
        bodies = (
            await uow.session.scalars(
                select(Message.body).where(
                    Message.ticket_id == ticket.id, Message.author_kind == "agent"
                )
            )
        ).all()
        row = await uow.session.get(CannedReply, macro["id"])
    assert list(bodies) == ["Thank you, Priya!"]
    assert row is not None and row.usage_count == 1


async def test_sending_without_text_fills_it_in_on_the_server(
    client: httpx.AsyncClient, supervisor: AgentLogin, agent: AgentLogin, runtime: Runtime
) -> None:
    reply = (
        await client.post(
            API,
            json={**REPLY, "shortcut": "hello", "body": "Hello {{player.first_name}}!"},
            headers=supervisor.headers,
        )
    ).json()
    ticket = await open_ticket(runtime)
    sent = await client.post(
        f"{API}/{reply['id']}/apply", json={"ticket_id": ticket.id}, headers=agent.headers
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["message"]["body"] == "Hello Priya!"
