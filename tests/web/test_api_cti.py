"""`POST /api/v1/cti/events`: a PBX reports calls with an API token."""

from __future__ import annotations

import httpx

from playerdesk.domain.enums import AgentRole
from tests.conftest import AgentFactory, RecordingBus

CALLER = "+44 7911 123456"


def event(kind: str, **extra: object) -> dict[str, object]:
    return {
        "event": kind,
        "call_id": "pbx-42",
        "direction": "inbound",
        "from": CALLER,
        "to": "+442079460958",
        **extra,
    }


async def test_a_call_sequence_pops_logs_and_is_idempotent(
    client: httpx.AsyncClient, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    agent = await make_agent(email="sara@example.test")
    await client.put(
        "/api/v1/players/P-9",
        json={"name": "Anna", "phone": "07911 123456", "vip_tier": "gold"},
        headers=pbx.headers,
    )
    response = await client.post(
        "/api/v1/cti/events",
        json=event("newCall", agent="sara@example.test", queue="vip", extra_field=1),
        headers=pbx.headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "processed"
    assert "call.ringing" in bus.types()
    again = await client.post(
        "/api/v1/cti/events", json=event("newCall", agent=agent.email), headers=pbx.headers
    )
    assert again.json()["status"] == "duplicate"
    await client.post(
        "/api/v1/cti/events", json=event("answer", agent=agent.email), headers=pbx.headers
    )
    hangup = await client.post(
        "/api/v1/cti/events",
        json=event("hangup", cause="normal", duration_seconds=61),
        headers=pbx.headers,
    )
    body = hangup.json()
    assert body["status"] == "processed"
    assert body["ticket_id"] is not None
    assert body["callback_id"] is None
    ticket = await client.get(f"/api/v1/tickets/{body['ticket_id']}", headers=agent.headers)
    assert ticket.json()["channel"] == "phone"


async def test_missed_call_queues_a_callback_visible_in_the_api(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    agent = await make_agent()
    await client.post("/api/v1/cti/events", json=event("newCall"), headers=pbx.headers)
    hangup = await client.post(
        "/api/v1/cti/events", json=event("hangup", cause="no_answer"), headers=pbx.headers
    )
    callback_id = hangup.json()["callback_id"]
    assert callback_id is not None
    listed = await client.get("/api/v1/callbacks", headers=agent.headers)
    assert [item["id"] for item in listed.json()] == [callback_id]
    assert listed.json()[0]["source"] == "missed_call"
    assert listed.json()[0]["phone"] == "+447911123456"


async def test_bad_events_are_refused_with_the_field(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    for payload, field in (
        ({k: v for k, v in event("newCall").items() if k != "call_id"}, "call_id"),
        (event("newCall", direction="sideways"), "direction"),
        (event("hangup", duration_seconds=-1), "duration_seconds"),
        (event("hangup", recording_url="javascript:alert(1)"), "recording_url"),
        (event("hangup", occurred_at="2026-11-02T09:00:00"), "occurred_at"),
    ):
        response = await client.post("/api/v1/cti/events", json=payload, headers=pbx.headers)
        assert response.status_code == 422, payload
        assert field in str(response.json()["errors"]), response.json()


async def test_unknown_events_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    response = await client.post("/api/v1/cti/events", json=event("transfer"), headers=pbx.headers)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"


async def test_only_tokens_whose_role_reports_calls(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.SUPERVISOR)
    response = await client.post("/api/v1/cti/events", json=event("newCall"), headers=agent.headers)
    assert response.status_code == 403
    response = await client.post("/api/v1/cti/events", json=event("newCall"))
    assert response.status_code == 401
