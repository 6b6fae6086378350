"""The callback queue over HTTP: agents call back and record the outcome. Players ask in the
help centre (tests/web/test_helpcenter_callback.py); the API has no way in for them."""

from __future__ import annotations

from datetime import datetime

import httpx

from playerdesk.domain.enums import AgentRole
from playerdesk.domain.phone import CallbackSource
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.web.phone import callback_policy
from tests.conftest import AgentFactory


async def asked_for(runtime: Runtime, *, phone: str, language: str, reason: str) -> int:
    async with runtime.uow() as uow:
        callback = await callback_service.request_callback(
            uow,
            phone=phone,
            window_from=datetime.fromisoformat("2026-11-02T10:00:00+01:00"),
            window_until=datetime.fromisoformat("2026-11-02T12:00:00+01:00"),
            language=language,
            reason=reason,
            source=CallbackSource.HELPCENTER,
            ip_key="127.0.0.1",
            policy=callback_policy(runtime),
        )
        return callback.id


async def test_list_assign_and_record_outcome(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(languages=["en", "pl"])
    callback_id = await asked_for(runtime, phone="+48 512 345 678", language="pl", reason="Wypłata")
    listed = (await client.get("/api/v1/callbacks", headers=agent.headers)).json()
    assert [(c["id"], c["phone"], c["language"], c["source"]) for c in listed] == [
        (callback_id, "+48512345678", "pl", "helpcenter")
    ]
    taken = await client.post(
        f"/api/v1/callbacks/{callback_id}/assign", json={}, headers=agent.headers
    )
    assert taken.status_code == 200, taken.text
    assert (taken.json()["agent_id"], taken.json()["status"]) == (agent.id, "assigned")
    mine = await client.get("/api/v1/callbacks?mine=true", headers=agent.headers)
    assert [c["id"] for c in mine.json()] == [callback_id]
    done = await client.post(
        f"/api/v1/callbacks/{callback_id}/outcome",
        json={"outcome": "done", "note": "Explained the pending withdrawal."},
        headers=agent.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    finished = await client.get("/api/v1/callbacks?status=done", headers=agent.headers)
    assert finished.json()[0]["outcome_note"] == "Explained the pending withdrawal."


async def test_players_cannot_ask_through_the_api_and_agents_must_sign_in(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    asked = await client.post("/api/v1/callbacks/requests", json={"phone": "+46701234567"})
    assert asked.status_code in (401, 404, 405)
    agent = await make_agent(AgentRole.AGENT)
    missing = await client.post(
        "/api/v1/callbacks/999/outcome",
        json={"outcome": "done", "note": "x"},
        headers=agent.headers,
    )
    assert missing.status_code == 404
    assert (await client.get("/api/v1/callbacks")).status_code == 401
