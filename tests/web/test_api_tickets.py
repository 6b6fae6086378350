"""Tickets and messages through the REST API: the happy paths and their side effects."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import structlog
from sqlalchemy import func, select

from playerdesk.db.models import AuditEntry, Message, Player, Ticket
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from tests.conftest import AgentFactory, AgentLogin, QueryCounter, RecordingBus

API = "/api/v1"
PG = bool(os.environ.get("PLAYERDESK_TEST_DATABASE_URL"))


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "email",
        "subject": "Where is my withdrawal?",
        "body": "I asked for 200 EUR three days ago.",
        "player": {"external_id": "P-100", "email": "anna@example.test", "name": "Anna"},
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, agent: AgentLogin, **overrides: Any) -> dict[str, Any]:
    body = ticket_body(**overrides)
    response = await client.post(f"{API}/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        return list(rows.all())


async def test_create_ticket_returns_it_creates_the_player_and_publishes(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, bus: RecordingBus
) -> None:
    agent = await make_agent()
    response = await client.post(
        f"{API}/tickets", json=ticket_body(priority="high", tags=["Payout"]), headers=agent.headers
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    ticket = response.json()
    assert ticket["number"] == 1001
    assert ticket["status"] == "new"
    assert ticket["priority"] == "high"
    assert ticket["channel"] == "email"
    assert ticket["subject"] == "Where is my withdrawal?"
    assert ticket["language"] == "en"
    assert ticket["tags"] == ["payout"]
    assert ticket["created_at"] == "2026-11-02T09:00:00Z"
    async with runtime.uow() as uow:
        player = await uow.session.get_one(Player, ticket["player_id"])
        assert (player.external_id, player.email, player.name) == (
            "P-100",
            "anna@example.test",
            "Anna",
        )
        stored = await uow.session.get_one(Ticket, ticket["id"])
        assert stored.number == 1001
    # nobody is online, so the ticket waits in the queue and its position is announced
    assert bus.types() == ["ticket.created", "queue.position", "message.posted"]
    assert {"player.created", "ticket.created"} <= set(await audit_actions(runtime))


async def test_create_ticket_matches_the_player_by_external_id_then_by_email(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    first = await create(client, agent)
    by_id = await create(client, agent, player={"external_id": "P-100"})
    by_email = await create(client, agent, player={"email": "anna@EXAMPLE.test"})
    other = await create(client, agent, player={"email": "bob@example.test"})

    assert by_id["player_id"] == first["player_id"]
    assert by_email["player_id"] == first["player_id"]
    assert other["player_id"] != first["player_id"]
    assert [by_id["number"], by_email["number"], other["number"]] == [1002, 1003, 1004]
    assert await count(runtime, Player) == 2


async def test_get_ticket_and_unknown_ticket(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await create(client, agent)

    response = await client.get(f"{API}/tickets/{ticket['id']}", headers=agent.headers)
    assert response.status_code == 200
    assert response.json() == ticket

    missing = await client.get(f"{API}/tickets/{ticket['id'] + 1}", headers=agent.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["errors"] == [{"field": "ticket_id", "message": "no such ticket"}]


async def test_list_filters(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    agent = await make_agent()
    team = (
        await client.post(f"{API}/teams", json={"name": "VIP desk"}, headers=supervisor.headers)
    ).json()
    email = await create(client, agent, subject="Withdrawal pending", tags=["payout"])
    chat = await create(
        client,
        agent,
        channel="web_chat",
        subject="Bonus question",
        body="How do free spins work?",
        player={"external_id": "P-200", "language": "pl"},
        priority="urgent",
        team_id=team["id"],
        assignee_id=agent.id,
    )
    form = await create(
        client,
        agent,
        channel="form",
        subject="Document upload",
        body="My passport scan, 100% readable",
        player={"external_id": "P-300"},
        priority="low",
    )
    await client.patch(
        f"{API}/tickets/{form['id']}", json={"status": "pending"}, headers=agent.headers
    )

    async def ids(query: str) -> list[int]:
        response = await client.get(f"{API}/tickets?{query}", headers=agent.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"] is None
        return [item["id"] for item in page["items"]]

    assert await ids("") == [form["id"], chat["id"], email["id"]]
    assert await ids("status=new") == [chat["id"], email["id"]]
    assert await ids("status=pending&status=open") == [form["id"]]
    assert await ids("channel=web_chat") == [chat["id"]]
    assert await ids(f"team_id={team['id']}") == [chat["id"]]
    assert await ids(f"assignee_id={agent.id}") == [chat["id"]]
    assert await ids("unassigned=true") == [form["id"], email["id"]]
    assert await ids("priority=urgent") == [chat["id"]]
    assert await ids(f"player_id={email['player_id']}") == [email["id"]]
    assert await ids("language=pl") == [chat["id"]]
    assert await ids("tag=payout") == [email["id"]]
    assert await ids("text=WITHDRAWAL") == [email["id"]]
    assert await ids("text=free%20spins") == [chat["id"]]  # found in the message body
    assert await ids("text=100%25") == [form["id"]]  # % is matched literally
    assert await ids("text=_") == []  # and so is _
    assert await ids("channel=email&priority=urgent") == []


async def test_cursor_pagination_walks_every_ticket_once_newest_first(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    created = [
        (await create(client, agent, player={"external_id": f"P-{n}"}))["id"] for n in range(5)
    ]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(f"{API}/tickets", params=params, headers=agent.headers)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)
    assert pages == 3


async def test_list_tickets_runs_a_fixed_number_of_queries(
    client: httpx.AsyncClient, make_agent: AgentFactory, count_queries: QueryCounter
) -> None:
    agent = await make_agent()
    await create(client, agent, tags=["a", "b"])
    # The first authenticated call also records the token's use; later ones do not.
    await client.get(f"{API}/tickets", headers=agent.headers)

    count_queries.reset()
    await client.get(f"{API}/tickets", headers=agent.headers)
    with_one = count_queries.count
    for n in range(6):
        await create(client, agent, player={"external_id": f"Q-{n}"}, tags=[f"t{n}", "x"])
    count_queries.reset()
    response = await client.get(f"{API}/tickets", headers=agent.headers)
    assert len(response.json()["items"]) == 7
    assert count_queries.count == with_one
    # the tickets, their tags, their SLA clocks (the token was checked a moment ago)
    assert with_one == 3


async def test_a_reply_over_http_is_three_statements(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    count_queries: QueryCounter,
    bus: RecordingBus,
) -> None:
    agent = await make_agent()
    # A chat: replies on email tickets also write their mail to the outbox (tests/services).
    ticket = await create(client, agent, channel="web_chat")
    counts = []
    for index in range(3):
        count_queries.reset()
        response = await client.post(
            f"{API}/tickets/{ticket['id']}/messages",
            json={"body": f"reply {index}", "client_msg_id": f"r-{index}"},
            headers=agent.headers,
        )
        assert response.status_code == 201
        counts.append(count_queries.count)
    # lock the ticket, insert the message, update the ticket; the token is in the cache; the
    # first reply also stops the waiting player's first-response clock (read, update) and
    # takes the unassigned chat (seven: tests/services/test_tickets.py)
    assert counts == [12, 3, 3]
    assert [e.body for e in bus.published if e.type == "message.posted"][-3:] == [  # type: ignore[union-attr]
        "reply 0",
        "reply 1",
        "reply 2",
    ]


async def test_patch_ticket_changes_fields_audits_and_publishes(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    bus: RecordingBus,
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    agent = await make_agent()
    team = (
        await client.post(f"{API}/teams", json={"name": "Payments"}, headers=supervisor.headers)
    ).json()
    ticket = await create(client, agent)
    bus.published.clear()

    response = await client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={
            "status": "open",
            "priority": "urgent",
            "assignee_id": agent.id,
            "team_id": team["id"],
            "tags": ["kyc", "Payout", "kyc"],
        },
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "open"
    assert changed["priority"] == "urgent"
    assert changed["assignee_id"] == agent.id
    assert changed["team_id"] == team["id"]
    assert changed["tags"] == ["kyc", "payout"]
    assert bus.types() == ["ticket.updated"]
    event = bus.published[0]
    assert event.type == "ticket.updated"
    assert event.changes["status"] == ["new", "open"]
    assert event.changes["assignee_id"] == [None, agent.id]
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ticket.updated")
        )
        assert entry is not None
        assert entry.actor_agent_id == agent.id
        assert entry.actor_token_id == agent.actor.token_id
        assert entry.entity_id == str(ticket["id"])

    # null clears the assignee and the team; leaving a field out keeps it
    cleared = await client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={"assignee_id": None},
        headers=agent.headers,
    )
    assert cleared.status_code == 200
    assert cleared.json()["assignee_id"] is None
    assert cleared.json()["team_id"] == team["id"]

    # nothing to change: no event, no audit entry
    bus.published.clear()
    before = await audit_actions(runtime)
    same = await client.patch(
        f"{API}/tickets/{ticket['id']}", json={"priority": "urgent"}, headers=agent.headers
    )
    assert same.status_code == 200
    assert bus.types() == []
    assert await audit_actions(runtime) == before


async def test_resolve_then_close_then_closed_is_terminal(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await create(client, agent)
    url = f"{API}/tickets/{ticket['id']}"

    resolved = await client.patch(url, json={"status": "resolved"}, headers=agent.headers)
    assert resolved.status_code == 200
    assert resolved.json()["resolved_at"] == "2026-11-02T09:00:00Z"
    closed = await client.patch(url, json={"status": "closed"}, headers=agent.headers)
    assert closed.status_code == 200
    assert closed.json()["closed_at"] == "2026-11-02T09:00:00Z"

    reopen = await client.patch(url, json={"status": "open"}, headers=agent.headers)
    assert reopen.status_code == 409
    assert reopen.json()["errors"][0]["field"] == "status"
    reply = await client.post(f"{url}/messages", json={"body": "Hello?"}, headers=agent.headers)
    assert reply.status_code == 409
    assert reply.json()["errors"][0]["field"] == "ticket"


async def test_agent_reply_opens_the_ticket_and_notes_do_not(
    client: httpx.AsyncClient, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await create(client, agent)
    url = f"{API}/tickets/{ticket['id']}"
    bus.published.clear()

    note = await client.post(
        f"{url}/messages", json={"body": "VIP, be quick", "kind": "note"}, headers=agent.headers
    )
    assert note.status_code == 201
    assert note.json()["kind"] == "note"
    after_note = (await client.get(url, headers=agent.headers)).json()
    assert (after_note["status"], after_note["assignee_id"]) == ("new", None)
    assert bus.types() == ["message.posted"]

    bus.published.clear()
    reply = await client.post(
        f"{url}/messages",
        json={"body": "Paid out: card 4111 1111 1111 1111", "kind": "reply"},
        headers=agent.headers,
    )
    assert reply.status_code == 201
    message = reply.json()
    assert message["author_kind"] == "agent"
    assert message["author_agent_id"] == agent.id
    assert message["redacted"] is True
    assert "4111 1111 1111 1111" not in message["body"]
    assert message["body"].endswith("[card ••••1111]")
    after = (await client.get(url, headers=agent.headers)).json()
    assert after["status"] == "open"
    assert after["first_response_at"] == "2026-11-02T09:00:00Z"
    assert after["assignee_id"] == agent.id  # who answers an unassigned ticket takes it
    assert bus.types() == ["ticket.updated", "ticket.updated", "message.posted"]

    listed = await client.get(f"{url}/messages", headers=agent.headers)
    assert listed.status_code == 200
    assert [(m["author_kind"], m["kind"]) for m in listed.json()] == [
        ("player", "reply"),
        ("agent", "note"),
        ("agent", "reply"),
    ]


async def test_message_replay_on_client_msg_id_returns_the_same_message(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, bus: RecordingBus
) -> None:
    agent = await make_agent()
    ticket = await create(client, agent)
    url = f"{API}/tickets/{ticket['id']}/messages"
    body = {"body": "We are on it.", "client_msg_id": "c0ffee-1"}

    first = await client.post(url, json=body, headers=agent.headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    bus.published.clear()

    replay = await client.post(url, json=body, headers=agent.headers)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert bus.types() == []
    assert await count(runtime, Message) == 2  # the player's first message and this one

    # The same client id on another ticket is another message.
    other = await create(client, agent, player={"external_id": "P-2"})
    elsewhere = await client.post(
        f"{API}/tickets/{other['id']}/messages", json=body, headers=agent.headers
    )
    assert elsewhere.status_code == 201
    assert elsewhere.json()["id"] != first.json()["id"]


async def test_messages_of_unknown_ticket(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    listed = await client.get(f"{API}/tickets/77/messages", headers=agent.headers)
    assert listed.status_code == 404
    posted = await client.post(
        f"{API}/tickets/77/messages", json={"body": "hi"}, headers=agent.headers
    )
    assert posted.status_code == 404
    assert posted.json()["errors"] == [{"field": "ticket_id", "message": "no such ticket"}]


async def test_ticket_created_is_published_before_its_first_message(
    client: httpx.AsyncClient, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    await create(client, agent)
    # nobody is online, so the ticket waits in the queue and its position is announced
    assert bus.types() == ["ticket.created", "queue.position", "message.posted"]


async def test_concurrent_first_tickets_all_succeed_with_distinct_numbers(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    with structlog.testing.capture_logs():  # a 500's traceback is slow to render
        results = await asyncio.gather(
            *[
                client.post(
                    f"{API}/tickets",
                    json=ticket_body(player={"external_id": f"P-{n}"}),
                    headers=agent.headers,
                )
                for n in range(4)
            ],
            return_exceptions=True,
        )
    statuses = [getattr(result, "status_code", repr(result)) for result in results]
    assert statuses == [201] * 4
    numbers = {result.json()["number"] for result in results if isinstance(result, httpx.Response)}
    assert numbers == {1001, 1002, 1003, 1004}
