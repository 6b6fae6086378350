"""The console's side of routing, SLA and escalation on the server: SLA badges in the inbox
and the JSON its scripts read, the At risk view, the supervisors' floor page, escalate and
transfer with the page's CSRF token, and the console socket's sla.alert and ticket.escalated
frames."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from websockets.asyncio.client import connect

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Ticket
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth, floor, routing_admin
from tests.conftest import START, AgentFactory, LiveServer
from tests.web.test_console_workspace import (
    CSRF_META,
    PASSWORD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    config_of,
    item_html,
    listed,
    open_ticket,
    sign_in,
)

LIVE_FIRST_RESPONSE = timedelta(minutes=5)  # the shipped "Live chat and messengers" policy
EMAIL_FIRST_RESPONSE = timedelta(hours=2)  # the shipped "Email, forms and API" policy


async def standard_floor(runtime: Runtime) -> dict[str, int]:
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = await routing_admin.list_team_routing(uow, actor=Actor.system())
        return {team.name: team.id for team in teams}


async def floor_tick(runtime: Runtime) -> floor.TickResult:
    async with runtime.uow() as uow:
        return await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )


async def stored(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def csrf_of(page: str) -> str:
    found = CSRF_META.search(page)
    assert found is not None
    return found.group(1)


# SLA badges -----------------------------------------------------------------------------


async def test_inbox_rows_show_the_next_deadline_rendered_on_the_server(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    chat = await open_ticket(runtime, subject="Live one", channel=Channel.WEB_CHAT)
    email = await open_ticket(runtime, subject="Written one", channel=Channel.EMAIL)

    page = (await client.get("/console")).text

    chat_row = item_html(page, chat.id)
    assert 'data-sla-state="running"' in chat_row
    assert f'data-due-at="{(START + LIVE_FIRST_RESPONSE).isoformat()}"' in chat_row
    assert 'data-metric="first_response"' in chat_row
    assert '<span class="sla-time">5:00</span>' in chat_row
    assert "On track" in chat_row
    email_row = item_html(page, email.id)
    assert f'data-due-at="{(START + EMAIL_FIRST_RESPONSE).isoformat()}"' in email_row
    assert '<span class="sla-time">2:00:00</span>' in email_row
    # The scripts count from the server's time, not the browser's.
    assert config_of(page)["now"] == START.isoformat()
    assert config_of(page)["labels"]["sla"]["breached"] == "Breached"


async def test_a_missed_deadline_counts_up_and_says_breached(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    await sign_in(client, make_agent)
    chat = await open_ticket(runtime, subject="Waiting", channel=Channel.WEB_CHAT)
    clock.advance(LIVE_FIRST_RESPONSE + timedelta(seconds=75))
    await floor_tick(runtime)

    row = item_html((await client.get("/console")).text, chat.id)

    assert 'class="sla sla-breached is-overdue"' in row
    assert f'data-overdue-since="{(START + LIVE_FIRST_RESPONSE).isoformat()}"' in row
    assert '<span class="sla-time">+1:15</span>' in row


async def test_inbox_json_carries_the_sla_and_the_server_time(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    await sign_in(client, make_agent)
    chat = await open_ticket(runtime, subject="Live", channel=Channel.WEB_CHAT)
    email = await open_ticket(runtime, subject="Mail", channel=Channel.EMAIL)
    clock.advance(timedelta(minutes=4, seconds=30))
    await floor_tick(runtime)

    summary = (await client.get(f"/console/tickets/{chat.id}/summary")).json()
    conversation = (await client.get(f"/console/tickets/{chat.id}/conversation")).json()
    batch = await client.get("/console/sla", params={"ids": f"{chat.id},{email.id},999"})

    expected = {
        "state": "warning",
        "metric": "first_response",
        "due_at": (START + LIVE_FIRST_RESPONSE).isoformat(),
        "overdue_since": None,
        "paused_seconds": None,
    }
    assert summary["ticket"]["sla"] == expected
    assert summary["now"] == clock.now().isoformat()
    assert conversation["ticket"]["sla"] == expected
    assert conversation["ticket"]["escalation_level"] == 0
    assert conversation["escalations"] == []
    assert batch.status_code == 200
    assert batch.json()["sla"][str(chat.id)] == expected
    assert batch.json()["sla"][str(email.id)]["state"] == "running"
    assert batch.json()["sla"]["999"]["state"] == "none"


async def test_the_sla_batch_needs_a_session_and_sane_ids(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    assert (await client.get("/console/sla", params={"ids": "1"})).status_code == 401
    await sign_in(client, make_agent)
    for ids in ("1,x", "0", ",".join(str(n) for n in range(1, 102))):
        assert (await client.get("/console/sla", params={"ids": ids})).status_code == 422
    assert (await client.get("/console/sla")).json()["sla"] == {}


# The At risk view -------------------------------------------------------------------------


async def test_at_risk_lists_warned_and_breached_conversations_soonest_due_first(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    await sign_in(client, make_agent)
    first = await open_ticket(runtime, subject="First", channel=Channel.WEB_CHAT)
    clock.advance(timedelta(minutes=1))
    second = await open_ticket(runtime, subject="Second", channel=Channel.WEB_CHAT)
    relaxed = await open_ticket(runtime, subject="Email", channel=Channel.EMAIL)
    clock.advance(timedelta(minutes=4, seconds=10))  # first breached, second warned
    await floor_tick(runtime)

    page = (await client.get("/console", params={"view": "at_risk"})).text

    assert listed(page) == [first.id, second.id]
    assert 'data-testid="view-at_risk" aria-current="page"' in page
    assert 'data-sla-state="breached"' in item_html(page, first.id)
    assert 'data-sla-state="warning"' in item_html(page, second.id)
    assert relaxed.id in listed((await client.get("/console")).text)
    # The filters still apply.
    filtered = await client.get("/console", params={"view": "at_risk", "channel": "email"})
    assert listed(filtered.text) == []
    assert "No conversation is close to its SLA deadline." in filtered.text


async def test_at_risk_is_empty_when_every_clock_has_time(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    await open_ticket(runtime, subject="Fresh", channel=Channel.WEB_CHAT)

    page = (await client.get("/console", params={"view": "at_risk"})).text

    assert listed(page) == []
    assert "No conversation is close to its SLA deadline." in page


# The floor page ---------------------------------------------------------------------------


async def test_the_floor_is_for_supervisors_and_admins(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    for role, allowed in (
        (AgentRole.AGENT, False),
        (AgentRole.SENIOR, False),
        (AgentRole.SUPERVISOR, True),
        (AgentRole.ADMIN, True),
    ):
        client.cookies.clear()
        await sign_in(client, make_agent, role)
        response = await client.get("/console/floor")
        inbox = (await client.get("/console")).text
        assert response.status_code == (200 if allowed else 403), role
        assert ('data-testid="forbidden"' in response.text) is not allowed
        assert ('href="/console/floor"' in inbox) is allowed
    client.cookies.clear()
    response = await client.get("/console/floor")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


async def test_the_floor_shows_queues_agents_and_risks_escaped(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    teams = await standard_floor(runtime)
    supervisor = await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    hostile = "<script>alert(1)</script>"
    waiting = await open_ticket(runtime, subject=hostile, channel=Channel.WEB_CHAT)
    assert (await stored(runtime, waiting.id)).queued_at is not None  # nobody online
    clock.advance(timedelta(minutes=4, seconds=30))
    await floor_tick(runtime)

    page = await client.get("/console/floor")

    assert page.status_code == 200
    html = page.text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    queue = html[html.index('data-testid="floor-queue"') :]
    queue = queue[: queue.index("</tr>")]
    assert f'data-team-id="{teams["General"]}"' in queue
    assert ">General<" in queue
    assert 'data-testid="floor-queue-waiting">1<' in queue
    assert "4:30" in queue  # the longest wait
    assert "Nobody to answer" in queue
    risk = html[html.index('data-testid="floor-risk"') :]
    assert f'href="/console/tickets/{waiting.id}"' in risk
    assert 'data-sla-state="warning"' in risk
    assert f'data-agent-id="{supervisor.id}"' in html
    assert 'data-testid="floor-load"' in html
    assert 'href="/static/console/admin.css"' in html
    assert '<script type="module" src="/static/console/floor.js"></script>' in html
    assert " style=" not in html


async def test_the_at_risk_view_escapes_subjects(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    await sign_in(client, make_agent)
    await open_ticket(runtime, subject="<script>alert(2)</script>", channel=Channel.WEB_CHAT)
    clock.advance(timedelta(minutes=4, seconds=30))
    await floor_tick(runtime)

    page = (await client.get("/console", params={"view": "at_risk"})).text

    assert "<script>alert(2)" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


# Escalate and transfer ----------------------------------------------------------------------


async def test_an_agent_escalates_with_a_reason_and_the_pages_csrf_token(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    teams = await standard_floor(runtime)
    agent = await sign_in(client, make_agent)
    ticket = await open_ticket(runtime, subject="Angry player", channel=Channel.WEB_CHAT)
    token = csrf_of((await client.get("/console")).text)
    path = f"/api/v1/tickets/{ticket.id}/escalations"

    missing = await client.post(path, json={"reason": "Threatens the regulator"})
    wrong = await client.post(
        path, json={"reason": "Threatens the regulator"}, headers={"X-CSRF-Token": "0" * 64}
    )
    empty = await client.post(path, json={"reason": "  "}, headers={"X-CSRF-Token": token})
    right = await client.post(
        path, json={"reason": "Threatens the regulator"}, headers={"X-CSRF-Token": token}
    )

    assert missing.status_code == wrong.status_code == 403
    assert empty.status_code == 422
    assert right.status_code == 201
    escalated = await stored(runtime, ticket.id)
    assert escalated.team_id == teams["Senior"]
    assert escalated.escalation_level == 1
    history = (await client.get(f"/console/tickets/{ticket.id}/escalations")).json()
    assert history["level"] == 1
    [entry] = history["escalations"]
    assert entry["reason"] == "Threatens the regulator"
    assert entry["trigger"] == "manual"
    assert entry["agent_name"] == f"Agent {make_agent.created}"
    assert entry["to_team_id"] == teams["Senior"]
    assert entry["from_priority"] == "normal" and entry["to_priority"] == "high"
    conversation = (await client.get(f"/console/tickets/{ticket.id}/conversation")).json()
    assert conversation["escalations"] == history["escalations"]
    assert conversation["ticket"]["escalation_level"] == 1
    assert agent.id  # signed in as the agent who escalated


async def test_an_agent_transfers_to_a_team_with_a_required_note(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    teams = await standard_floor(runtime)
    await sign_in(client, make_agent)
    ticket = await open_ticket(runtime, subject="Payout", channel=Channel.EMAIL)
    token = csrf_of((await client.get("/console")).text)
    path = f"/api/v1/tickets/{ticket.id}/transfer"
    body = {"team_id": teams["Payments"], "note": "Needs the payments team"}

    missing = await client.post(path, json=body)
    no_note = await client.post(path, json={**body, "note": ""}, headers={"X-CSRF-Token": token})
    right = await client.post(path, json=body, headers={"X-CSRF-Token": token})

    assert missing.status_code == 403
    assert no_note.status_code == 422
    assert right.status_code == 200
    assert (await stored(runtime, ticket.id)).team_id == teams["Payments"]
    messages = (await client.get(f"/console/tickets/{ticket.id}/conversation")).json()["messages"]
    assert (messages[-1]["kind"], messages[-1]["body"]) == ("note", "Needs the payments team")


async def test_the_workspace_has_escalate_and_transfer_with_their_shortcuts(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent)

    page = (await client.get("/console")).text

    assert 'data-testid="escalate"' in page and 'data-testid="transfer"' in page
    assert "<kbd>!</kbd>" in page and "<kbd>t</kbd>" in page
    assert "Escalate the conversation" in page
    assert 'data-testid="escalate-reason"' in page and 'data-testid="transfer-note"' in page


async def test_views_and_badges_are_translated(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    await open_ticket(runtime, subject="Czat", channel=Channel.WEB_CHAT)

    polish = (await client.get("/console", params={"lang": "pl"})).text
    swedish = (await client.get("/console/floor", params={"lang": "sv"})).text

    assert "Zagrożone" in polish
    assert "W terminie" in polish
    assert config_of(polish)["strings"]["escalated"] == "Rozmowa została eskalowana."
    assert "Golvet" in swedish


# Console socket frames ------------------------------------------------------------------------


async def test_consoles_hear_of_breaches_and_escalations_live(
    live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR, password=PASSWORD)
    async with runtime.uow() as uow:
        session = await auth.login(
            uow,
            email=supervisor.email,
            password=PASSWORD,
            ip="127.0.0.1",
            user_agent=None,
            policy=runtime.policies.login,
        )
    ticket = await open_ticket(runtime, subject="Slow", channel=Channel.WEB_CHAT)
    async with connect(
        f"{live_server.ws_url}/ws/console",
        additional_headers={"Cookie": f"pd_session={session.session_token}"},
        origin=live_server.base_url,  # type: ignore[arg-type]
    ) as socket:
        await socket.send(json.dumps({"type": "hello", "presence": "away"}))
        frames: dict[str, dict[str, object]] = {}
        while "welcome" not in frames:
            frame = json.loads(await socket.recv())
            frames[frame["type"]] = frame
        clock.advance(LIVE_FIRST_RESPONSE + timedelta(seconds=1))
        await floor_tick(runtime)
        while not {"sla.alert", "ticket.escalated"} <= frames.keys():
            frame = json.loads(await socket.recv())
            if frame["type"] == "sla.alert" and frame["kind"] == "warning":
                continue  # the warning point passed in the same tick
            frames[frame["type"]] = frame

    assert frames["sla.alert"] == {
        "type": "sla.alert",
        "ticket_id": ticket.id,
        "number": ticket.number,
        "metric": "first_response",
        "kind": "breach",
        "due_at": (START + LIVE_FIRST_RESPONSE).isoformat(),
        "team_id": None,
        "assignee_id": None,
    }
    escalated = frames["ticket.escalated"]
    assert escalated["ticket_id"] == ticket.id
    assert escalated["number"] == ticket.number
    assert escalated["level"] == 1
    assert escalated["trigger"] == "sla_breach"
    assert escalated["notify_supervisors"] is True
    assert escalated["priority"] == "high"
    assert isinstance(escalated["reason"], str) and escalated["reason"]
