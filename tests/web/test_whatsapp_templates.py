"""WhatsApp template messages over HTTP: `GET /api/v1/tickets/{id}/whatsapp-templates` and
`POST /api/v1/tickets/{id}/template-messages` (with a token and with the console's session
and CSRF token), the refusals naming their field, and the console's composer state once the
24-hour window has closed (a local Graph API server lists the templates and records what is
sent)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from playerdesk.adapters.whatsapp import take_notification
from playerdesk.clock import FrozenClock
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.settings import Settings
from playerdesk.web.app import STATIC_DIR
from tests.conftest import AgentFactory
from tests.outbox_steps import outbox_rows
from tests.web.test_console_workspace import CSRF_META, config_of, open_ticket, sign_in
from tests.whatsapp_api import (
    WA_ID,
    FakeGraphApi,
    fake_graph_api,
    fixture,
    text_message,
    whatsapp_settings,
)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        fake.templates = fixture("message_templates")["data"]
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, graph_api: FakeGraphApi) -> Settings:
    return whatsapp_settings(
        database_url=database_url, tmp_path=tmp_path, api_base=graph_api.base_url
    )


async def whatsapp_ticket(runtime: Runtime) -> int:
    notification = text_message("Cześć, moja wypłata jeszcze nie dotarła", message_id="wamid.T1")
    taken = await take_notification(runtime, raw=json.dumps(notification).encode())
    [ticket_id] = taken.ticket_ids
    return ticket_id


def templates_url(ticket_id: int) -> str:
    return f"/api/v1/tickets/{ticket_id}/whatsapp-templates"


def send_url(ticket_id: int) -> str:
    return f"/api/v1/tickets/{ticket_id}/template-messages"


async def test_an_agent_lists_the_templates_and_sends_one_outside_the_window(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
) -> None:
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    assert (await client.get(templates_url(ticket_id))).status_code == 401
    clock.advance(timedelta(hours=25))

    listed = await client.get(templates_url(ticket_id), headers=agent.headers)
    assert listed.status_code == 200
    choice = listed.json()
    assert (choice["ticket_id"], choice["language"], choice["configured"]) == (
        ticket_id,
        "en",
        True,
    )
    assert choice["window_open"] is False
    closes_at = datetime.fromisoformat(choice["window_closes_at"])
    assert closes_at == clock.now() - timedelta(hours=1)
    first = choice["templates"][0]
    assert first == {
        "name": "account_review",
        "language": "en_US",
        "category": "UTILITY",
        "header": None,
        "body": "Hi {{first_name}}, your documents are checked. Reply to continue about {{topic}}.",
        "footer": None,
        "buttons": [],
        "parameters": ["first_name", "topic"],
        "examples": ["Anna", "your withdrawal"],
        "in_conversation_language": True,
    }
    assert [(item["name"], item["language"]) for item in choice["templates"][1:]] == [
        ("ticket_update", "en_US"),
        ("ticket_update", "pl"),
    ]

    # A free-form reply is refused; the template goes.
    refused = await client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"body": "Still there?", "kind": "reply"},
        headers=agent.headers,
    )
    assert refused.status_code == 422
    body = {
        "name": "ticket_update",
        "language": "en_US",
        "parameters": ["Agnieszka", "1042"],
        "client_msg_id": "6d1f3c2a-tpl",
    }
    sent = await client.post(send_url(ticket_id), json=body, headers=agent.headers)
    assert sent.status_code == 201
    message = sent.json()
    assert (message["author_kind"], message["kind"], message["author_agent_id"]) == (
        "agent",
        "reply",
        agent.id,
    )
    assert message["body"] == (
        "Your request\n\nHello Agnieszka, we have answered your request #1042.\n\n"
        "Player Support\n\n[Yes, please] [No, thanks]"
    )
    replay = await client.post(send_url(ticket_id), json=body, headers=agent.headers)
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (200, "true")
    assert replay.json()["id"] == message["id"]

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    [request] = graph_api.sent
    assert (request["to"], request["type"]) == (WA_ID, "template")
    assert request["template"]["name"] == "ticket_update"
    assert request["template"]["language"] == {"code": "en_US"}
    assert [item["text"] for item in request["template"]["components"][0]["parameters"]] == [
        "Agnieszka",
        "1042",
    ]


def field_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [item["field"] for item in response.json()["errors"]]


async def test_refusals_are_422_naming_the_field(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)

    async def send(**body: Any) -> httpx.Response:
        payload = {"name": "ticket_update", "language": "pl", "parameters": ["A", "1"], **body}
        return await client.post(send_url(ticket_id), json=payload, headers=agent.headers)

    assert field_of(await send(name="withdrawal_paused", parameters=["W-1"])) == ["name"]
    assert "not approved" in (await send(name="withdrawal_paused", parameters=["W-1"])).text
    assert field_of(await send(language="de")) == ["language"]
    assert field_of(await send(parameters=["only one"])) == ["parameters"]
    assert field_of(await send(parameters=["A", "two\nlines"])) == ["parameters.1"]
    assert field_of(await send(parameters="not a list")) == ["parameters"]
    assert field_of(await send(surprise=True)) == ["surprise"]

    other = await open_ticket(runtime, subject="By email", channel=Channel.EMAIL)
    assert field_of(await client.get(templates_url(other.id), headers=agent.headers)) == [
        "ticket_id"
    ]
    missing = await client.get(templates_url(987654), headers=agent.headers)
    assert missing.status_code == 404
    assert await outbox_rows(runtime) == []


@pytest.mark.parametrize("role", list(AgentRole))
async def test_every_role_lists_and_sends_templates(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, role: AgentRole
) -> None:
    agent = await make_agent(role)
    ticket_id = await whatsapp_ticket(runtime)
    listed = await client.get(templates_url(ticket_id), headers=agent.headers)
    assert listed.status_code == 200
    sent = await client.post(
        send_url(ticket_id),
        json={"name": "ticket_update", "language": "pl", "parameters": ["Anna", "7"]},
        headers=agent.headers,
    )
    assert sent.status_code == 201


async def test_a_failing_template_list_is_503_with_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    graph_api.template_failure = (500, 1, "An unknown error occurred")
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    response = await client.get(templates_url(ticket_id), headers=agent.headers)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert "template" in response.json()["detail"]


async def test_the_console_composer_offers_the_templates_once_the_window_has_closed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
) -> None:
    await sign_in(client, make_agent)
    ticket_id = await whatsapp_ticket(runtime)
    page = await client.get(f"/console/tickets/{ticket_id}")
    assert page.status_code == 200
    # The composer's script and texts are on the page.
    strings = config_of(page.text)["whatsapp"]
    assert strings["send"] == "Send template"
    assert strings["value_for"] == "Value for {placeholder}"
    assert '<link rel="stylesheet" href="/static/console/whatsapp.css">' in page.text
    conversation_js = (STATIC_DIR / "console" / "conversation.js").read_text()
    assert 'from "./whatsapp_templates.js"' in conversation_js
    for asset in ("whatsapp_templates.js", "whatsapp.css"):
        served = await client.get(f"/static/console/{asset}")
        assert served.status_code == 200, asset
    script = (await client.get("/static/console/whatsapp_templates.js")).text
    assert "/whatsapp-templates" in script and "/template-messages" in script

    # Within the window the composer is the reply box: the conversation says until when.
    url = f"/console/tickets/{ticket_id}/conversation"
    data = (await client.get(url)).json()
    assert data["ticket"]["channel"] == "whatsapp"
    assert data["whatsapp_window_closes_at"] > data["now"]

    clock.advance(timedelta(hours=24, minutes=1))
    # A day later: the agent of the next shift (the session above has expired).
    await sign_in(client, make_agent)
    page = await client.get(f"/console/tickets/{ticket_id}")
    data = (await client.get(url)).json()
    assert data["whatsapp_window_closes_at"] < data["now"]  # the composer offers templates
    choice = (await client.get(templates_url(ticket_id))).json()
    assert choice["window_open"] is False
    assert [item["name"] for item in choice["templates"] if item["in_conversation_language"]] == [
        "account_review",
        "ticket_update",
    ]

    # The console sends with its session: the CSRF token is needed, as for any change.
    body = {"name": "account_review", "language": "en_US", "parameters": ["Agnieszka", "bonus"]}
    assert (await client.post(send_url(ticket_id), json=body)).status_code == 403
    token = re.search(CSRF_META, page.text)
    assert token is not None
    sent = await client.post(
        send_url(ticket_id), json=body, headers={"X-CSRF-Token": token.group(1)}
    )
    assert sent.status_code == 201
    data = (await client.get(url)).json()
    reply = data["messages"][-1]
    assert (reply["author"], reply["author_name"]) == ("agent", "Agent 2")
    assert reply["body"] == (
        "Hi Agnieszka, your documents are checked. Reply to continue about bonus."
    )
    assert reply["delivery"]["status"] == "pending"
    [row] = await outbox_rows(runtime)
    assert (row.message_id, row.payload["type"]) == (reply["id"], "template")
