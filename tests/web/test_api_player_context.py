"""GET /api/v1/tickets/{id}/player-context: the player beside a conversation, with the demo
back office over real HTTP behind it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from playerdesk.db.admission import Admission
from playerdesk.db.models import AuditEntry, Ticket
from playerdesk.domain import permissions
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.runtime import Runtime
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from tests.casino_backoffice import DemoCasino, closed_port_url, http_backend
from tests.conftest import AgentFactory

API = "/api/v1"
HELD_WITHDRAWAL = "290677"  # Priya Shah: €2,500 withdrawal held for a source-of-funds check
MID_WAGERING = "204117"  # James Whitfield: a welcome bonus mid-wagering
GAMSTOP = "401377"  # Gareth Evans: listed in GAMSTOP, closing balance being paid out


async def open_ticket(
    runtime: Runtime, *, external_id: str | None, subject: str = "Where is my money?"
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT,
                subject=subject,
                body="Hello?",
                player_external_id=external_id,
                player=PlayerFields(
                    name="Priya Shah",
                    email=None if external_id else "visitor@example.test",
                    country="GB",
                    vip_tier="silver",
                ),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


def url(ticket_id: int | str) -> str:
    return f"{API}/tickets/{ticket_id}/player-context"


async def viewed(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        query = select(AuditEntry).where(AuditEntry.action == "player.viewed")
        return list((await uow.session.scalars(query)).all())


async def test_the_account_as_json(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
) -> None:
    agent = await make_agent()
    earlier = await open_ticket(runtime, external_id=HELD_WITHDRAWAL, subject="Verification")
    ticket = await open_ticket(runtime, external_id=HELD_WITHDRAWAL)

    response = await client.get(url(ticket.id), headers=agent.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["ticket_id"] == ticket.id
    assert body["player"]["external_id"] == HELD_WITHDRAWAL
    assert body["player"]["vip_tier"] == "silver"
    account = body["account"]
    assert account["state"] == "available" and account["unavailable_parts"] == []
    # Amounts stay decimal strings, as the back office sent them.
    assert account["balance"] == {
        "currency": "EUR",
        "real_money": "118.30",
        "bonus_money": "0.00",
        "withdrawable": "118.30",
    }
    withdrawal = account["payments"][0]
    assert (withdrawal["kind"], withdrawal["status"], withdrawal["amount"]) == (
        "withdrawal",
        "pending",
        "2500.00",
    )
    assert "source-of-funds" in withdrawal["reason"]
    assert account["verification"]["status"] == "pending"
    assert account["profile"]["registered_at"].endswith("Z")  # times carry their zone
    assert body["alerts"] == []
    assert [t["id"] for t in body["earlier_tickets"]] == [earlier.id]
    assert body["earlier_tickets"][0]["subject"] == "Verification"
    assert body["more_earlier_tickets"] is False

    [entry] = await viewed(runtime)
    assert (entry.actor_agent_id, entry.actor_token_id) == (agent.id, agent.actor.token_id)
    assert entry.entity_id == str(ticket.player_id)


async def test_bonus_progress_and_protection_alerts(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
) -> None:
    agent = await make_agent()
    wagering = await open_ticket(runtime, external_id=MID_WAGERING)
    registered = await open_ticket(runtime, external_id=GAMSTOP)

    bonus = (await client.get(url(wagering.id), headers=agent.headers)).json()
    [welcome] = bonus["account"]["bonuses"]
    assert welcome["status"] == "active"
    assert welcome["wagering_progress"] == pytest.approx(1265.5 / 3500)
    assert (welcome["wagering_done"], welcome["wagering_required"]) == ("1265.50", "3500.00")
    assert welcome["game_contributions"]["slots"] == 100

    gamstop = (await client.get(url(registered.id), headers=agent.headers)).json()
    assert gamstop["alerts"] == ["national_register"]
    assert gamstop["account"]["responsible_gambling"]["national_register_hits"] == ["gamstop"]
    assert gamstop["account"]["profile"]["status"] == "self_excluded"


@pytest.mark.parametrize(
    ("setup", "state"),
    [
        pytest.param("down", "unavailable", id="connection-refused"),
        pytest.param("5xx", "unavailable", id="5xx"),
        pytest.param("malformed", "unavailable", id="malformed-json"),
        pytest.param("off-contract", "unavailable", id="contract-violation"),
        pytest.param("none", "not_configured", id="no-back-office"),
    ],
)
async def test_a_failing_back_office_is_a_state_never_an_error(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    setup: str,
    state: str,
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    backend = http_backend(closed_port_url() if setup == "down" else casino.base_url)
    runtime.casino = None if setup == "none" else backend
    casino.faults.fail_status = 502 if setup == "5xx" else None
    casino.faults.malformed = setup == "malformed"
    casino.breaker.everything = setup == "off-contract"
    try:
        response = await client.get(url(ticket.id), headers=agent.headers)
    finally:
        runtime.casino = None
        await backend.close()

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account"]["state"] == state
    assert body["account"]["balance"] is None
    assert body["player"]["name"] == "Priya Shah"  # our own records are there
    assert len(await viewed(runtime)) == 1


async def test_waiting_for_the_back_office_holds_no_database_turn(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, connected: DemoCasino
) -> None:
    """A slow back office must not take the turns replies need: the panel's request gives
    its turn back when its audited read commits, before it waits."""
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    runtime.admission = Admission(limit=1, wait_seconds=0.05)
    connected.faults.delay_seconds = 1.5
    panel = asyncio.create_task(client.get(url(ticket.id), headers=agent.headers))
    for _ in range(500):  # until the read has committed and the wait has begun
        if await viewed(runtime):
            break
        await asyncio.sleep(0.01)
    assert await viewed(runtime) and not panel.done()

    reply = await client.post(
        f"{API}/tickets/{ticket.id}/messages",
        json={"body": "Checking your account now.", "client_msg_id": "while-waiting"},
        headers=agent.headers,
    )

    assert reply.status_code == 201, reply.text
    assert not panel.done()  # the reply did not wait for the back office either
    assert (await panel).status_code == 200
    assert runtime.admission.in_use == 0


async def test_an_anonymous_visitor_is_not_linked(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    connected: DemoCasino,
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=None)
    body = (await client.get(url(ticket.id), headers=agent.headers)).json()
    assert body["account"]["state"] == "not_linked"
    assert body["player"]["email"] == "visitor@example.test"


async def test_refusals(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)

    assert (await client.get(url(ticket.id))).status_code == 401
    missing = await client.get(url(987654), headers=agent.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await client.get(url(2**63), headers=agent.headers)).status_code == 422
    assert (await client.get(url("abc"), headers=agent.headers)).status_code == 422

    limited = permissions.ROLE_PERMISSIONS[AgentRole.AGENT] - {Permission.ACCOUNTS_READ}
    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, AgentRole.AGENT, limited)
    forbidden = await client.get(url(ticket.id), headers=agent.headers)
    assert forbidden.status_code == 403
    assert await viewed(runtime) == []
