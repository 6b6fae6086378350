"""The console workspace on the server: inbox views and filters, the page's data block, the
conversation JSON its scripts read, the audited player view, CSRF for actions and presence."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from playerdesk.db.models import Agent, Ticket
from playerdesk.domain.enums import (
    AgentRole,
    Channel,
    MessageKind,
    Presence,
    Priority,
    TicketStatus,
)
from playerdesk.domain.events import PresenceChanged
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, auth, chat
from playerdesk.services import agents as agent_service
from playerdesk.services import messages as message_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from playerdesk.web.app import STATIC_DIR
from tests.conftest import AgentFactory, AgentLogin, QueryCounter, RecordingBus

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')
CONFIG = re.compile(r'<script type="application/json" id="console-config">(.*?)</script>', re.S)
ITEM_IDS = re.compile(r'data-testid="inbox-item"\s+data-ticket-id="(\d+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with the smallest cost: the same code path, without 64 MiB per sign-in."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def sign_in(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    role: AgentRole = AgentRole.AGENT,
    *,
    email: str | None = None,
) -> AgentLogin:
    agent = await make_agent(role, email=email, password=PASSWORD)
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    response = await client.post(
        "/console/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    return agent


async def open_ticket(
    runtime: Runtime,
    *,
    subject: str,
    channel: Channel = Channel.EMAIL,
    status: TicketStatus | None = None,
    priority: Priority = Priority.NORMAL,
    language: str = "en",
    assignee_id: int | None = None,
    team_id: int | None = None,
    external_id: str | None = "P-1",
) -> Ticket:
    async with runtime.uow() as uow:
        ticket = await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=channel,
                subject=subject,
                body="Hello, I need help.",
                player_external_id=external_id,
                player=PlayerFields(
                    name="Lena Player", email=None if external_id else "anon@example.test"
                ),
                priority=priority,
                language=language,
                assignee_id=assignee_id,
                team_id=team_id,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    if status is not None:
        async with runtime.uow() as uow:
            ticket = await ticket_service.update_ticket(
                uow,
                actor=Actor.system(),
                ticket_id=ticket.id,
                changes=ticket_service.TicketChanges(status=status),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )
    return ticket


async def make_team(runtime: Runtime, name: str, *members: int) -> int:
    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=Actor.system(), name=name)
    for agent_id in members:
        async with runtime.uow() as uow:
            await agent_service.update_agent(
                uow,
                actor=Actor.system(),
                agent_id=agent_id,
                changes=agent_service.AgentChanges(team_ids=[team.id]),
                supported_languages=runtime.policies.players.languages,
            )
    return team.id


def listed(html: str) -> list[int]:
    return [int(ticket_id) for ticket_id in ITEM_IDS.findall(html)]


def item_html(page: str, ticket_id: int) -> str:
    start = page.index(f'data-ticket-id="{ticket_id}"')
    return page[start : page.index("</li>", start)]


def config_of(html: str) -> dict[str, Any]:
    found = CONFIG.search(html)
    assert found, "the page has no console-config data block"
    return dict(json.loads(found.group(1)))


# Views and filters ------------------------------------------------------------------------


async def test_views_show_mine_unassigned_my_teams_and_all(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent)
    colleague = await make_agent()
    mine_team = await make_team(runtime, "Payments", me.id)
    other_team = await make_team(runtime, "KYC", colleague.id)
    mine = await open_ticket(runtime, subject="Mine", assignee_id=me.id)
    theirs = await open_ticket(runtime, subject="Theirs", assignee_id=colleague.id)
    nobody = await open_ticket(runtime, subject="Nobody's")
    team = await open_ticket(runtime, subject="Team", team_id=mine_team)
    other = await open_ticket(runtime, subject="Other team", team_id=other_team)

    views = {
        view: listed((await client.get(f"/console?view={view}")).text)
        for view in ("mine", "unassigned", "teams", "all")
    }

    assert views["mine"] == [mine.id]
    assert views["unassigned"] == [other.id, team.id, nobody.id]
    assert views["teams"] == [team.id]
    assert views["all"] == [other.id, team.id, nobody.id, theirs.id, mine.id]
    assert listed((await client.get("/console")).text) == views["all"]
    page = (await client.get("/console?view=mine")).text
    assert re.search(r'href="/console\?view=mine"[^>]*aria-current="page"', page)
    assert config_of(page)["view"] == "mine"
    assert config_of(page)["me"]["team_ids"] == [mine_team]


async def test_my_teams_without_a_team_says_so(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    await open_ticket(runtime, subject="Somebody's")

    page = (await client.get("/console?view=teams", headers={"Accept-Language": "pl"})).text

    assert listed(page) == []
    assert "Nie należysz jeszcze do żadnego zespołu." in page


FILTER_CASES = [
    ("channel=web_chat", ["chat"]),
    ("status=pending", ["pending"]),
    ("priority=urgent", ["urgent"]),
    ("language=sv", ["swedish"]),
    ("channel=email&priority=urgent", ["urgent"]),
    ("channel=email&language=sv&status=new", ["swedish"]),
]


async def test_filters_narrow_the_list(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    tickets = {
        "chat": await open_ticket(runtime, subject="chat", channel=Channel.WEB_CHAT),
        "pending": await open_ticket(runtime, subject="pending", status=TicketStatus.PENDING),
        "urgent": await open_ticket(runtime, subject="urgent", priority=Priority.URGENT),
        "swedish": await open_ticket(runtime, subject="swedish", language="sv"),
    }

    for query, expected in FILTER_CASES:
        page = (await client.get(f"/console?{query}")).text

        assert listed(page) == [tickets[name].id for name in expected], query
        for name, value in (part.split("=") for part in query.split("&")):
            assert re.search(rf'<option value="{value}" selected>', page), name
            assert config_of(page)["filters"][name] == value
        assert 'data-testid="clear-filters"' in page


async def test_unknown_view_and_filter_values_are_ignored(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    ticket = await open_ticket(runtime, subject="Still shown")

    response = await client.get(
        "/console?view=everything&channel=fax&status=lost&priority=meh&language=xx"
    )

    assert response.status_code == 200
    assert listed(response.text) == [ticket.id]
    assert config_of(response.text)["view"] == "all"
    assert config_of(response.text)["filters"] == {}


async def test_pages_keep_the_view_and_filters(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playerdesk.web.console import routes

    monkeypatch.setattr(routes, "INBOX_PAGE_SIZE", 1)
    await sign_in(client, make_agent)
    for number in range(2):
        await open_ticket(runtime, subject=f"Urgent {number}", priority=Priority.URGENT)
    await open_ticket(runtime, subject="Calm")

    first = (await client.get("/console?view=unassigned&priority=urgent")).text
    older = re.search(r'href="([^"]+)" data-inbox-nav data-testid="inbox-older"', first)

    assert older is not None
    url = older.group(1).replace("&amp;", "&")
    assert url.startswith("/console?view=unassigned&priority=urgent&cursor=")
    second = (await client.get(url)).text
    assert "Urgent 0" in second and "Calm" not in second
    bogus = await client.get("/console?view=unassigned&priority=urgent&cursor=nonsense")
    assert bogus.status_code == 303
    assert bogus.headers["location"] == "/console?view=unassigned&priority=urgent"


async def test_inbox_shows_unread_counts_and_assignees(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent)
    colleague = await make_agent()
    read = await open_ticket(runtime, subject="Read", assignee_id=colleague.id)
    unread = await open_ticket(runtime, subject="Unread", assignee_id=me.id)
    async with runtime.uow() as uow:
        messages = await message_service.list_messages(uow, actor=Actor.system(), ticket_id=read.id)
        await chat.record_agent_read(
            uow, actor=Actor.system(), ticket_id=read.id, read_up_to=messages[-1].id
        )

    page = (await client.get("/console")).text

    unread_item, read_item = item_html(page, unread.id), item_html(page, read.id)
    assert 'data-unread="1"' in unread_item
    assert 'aria-label="Unread messages: 1">1</span>' in unread_item
    assert re.search(r'class="inbox-assignee">\s*You\s*</span>', unread_item)
    assert 'data-unread="0"' in read_item
    assert "hidden" in read_item.split('data-testid="inbox-unread"')[1].split(">")[0]
    assert "Agent 2" in read_item


async def test_inbox_escapes_what_players_wrote(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    await open_ticket(runtime, subject="<img src=x onerror=alert(1)>")

    page = (await client.get("/console")).text

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_the_page_query_count_does_not_grow_with_the_inbox(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    count_queries: QueryCounter,
) -> None:
    me = await sign_in(client, make_agent)
    colleague = await make_agent()
    await open_ticket(runtime, subject="one", assignee_id=colleague.id)
    await client.get("/console")  # the session and the SLA configuration are cached after it
    count_queries.reset()
    await client.get("/console")
    few = count_queries.count

    for number in range(6):
        await open_ticket(
            runtime, subject=f"more {number}", assignee_id=me.id if number % 2 else colleague.id
        )
    count_queries.reset()
    await client.get("/console")

    assert count_queries.count == few


# The workspace page and its data block ---------------------------------------------------


async def test_a_conversation_link_opens_the_workspace_with_it(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await sign_in(client, make_agent)
    ticket = await open_ticket(runtime, subject="Linked")

    found = await client.get(f"/console/tickets/{ticket.id}?view=unassigned")
    missing = await client.get("/console/tickets/999999")

    assert found.status_code == 200
    assert config_of(found.text)["open"] == [ticket.id]
    assert config_of(found.text)["view"] == "unassigned"
    assert missing.status_code == 404
    assert 'data-testid="missing-ticket"' in missing.text
    assert config_of(missing.text)["open"] == []


async def test_the_workspace_needs_a_session(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, subject="Private")

    page = await client.get(f"/console/tickets/{ticket.id}")
    data = await client.get(f"/console/tickets/{ticket.id}/conversation")
    bearer = await client.get(f"/console/tickets/{ticket.id}/conversation", headers=agent.headers)

    assert page.status_code == 303
    assert page.headers["location"] == "/console/login"
    assert data.status_code == 401
    assert data.headers["content-type"] == "application/problem+json"
    assert bearer.status_code == 200


async def test_the_data_block_is_translated_and_cannot_break_out_of_its_element(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent, AgentRole.SENIOR)
    hostile = "</script><script>alert(1)</script>"
    async with runtime.uow() as uow:
        await agent_service.update_agent(
            uow,
            actor=Actor.system(),
            agent_id=me.id,
            changes=agent_service.AgentChanges(name=hostile),
            supported_languages=runtime.policies.players.languages,
        )
    await make_team(runtime, "Bonuses")

    page = (await client.get("/console", headers={"Accept-Language": "sv"})).text
    config = config_of(page)

    assert hostile not in page
    assert page.count("<script") == 2  # the module and the data block, nothing injected
    assert config["me"]["name"] == hostile
    assert config["language"] == "sv"
    assert config["strings"]["send_reply"] == "Skicka svar"
    assert config["strings"]["typing"] == "Spelaren skriver…"
    assert config["labels"]["status"]["resolved"] == "Löst"
    assert config["labels"]["language"]["pl"] == "Polska"
    assert config["transitions"]["resolved"] == ["closed", "open"]
    assert [team["name"] for team in config["teams"]] == ["Bonuses"]
    assert [agent["name"] for agent in config["agents"]] == [hostile]  # senior: the roster


async def test_plain_agents_get_no_roster(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent, AgentRole.AGENT)

    config = config_of((await client.get("/console")).text)

    assert config["agents"] is None
    assert config["me"]["role"] == "agent"
    assert config["me"]["presence"] == "offline"


# Conversation JSON ----------------------------------------------------------------------------


async def test_conversation_json_has_history_with_authors_notes_and_unread(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent)
    colleague = await make_agent()
    ticket = await open_ticket(runtime, subject="<b>Help</b>", assignee_id=colleague.id)
    for actor, kind, body in [
        (colleague.actor, MessageKind.NOTE, "Check the PSP"),
        (colleague.actor, MessageKind.REPLY, "<script>x</script>"),
    ]:
        async with runtime.uow() as uow:
            await agent_replies.post_agent_message(
                uow,
                actor=actor,
                ticket_id=ticket.id,
                body=body,
                kind=kind,
                client_msg_id=None,
                attachment_ids=[],
                limits=runtime.policies.messages,
                routing_policy=runtime.policies.routing,
                mail_policy=runtime.policies.mail,
            )

    response = await client.get(f"/console/tickets/{ticket.id}/conversation")

    assert response.status_code == 200
    data = response.json()
    assert data["ticket"]["subject"] == "<b>Help</b>"
    assert data["ticket"]["assignee_id"] == colleague.id
    assert data["ticket"]["assignee_name"] == "Agent 2"
    assert data["ticket"]["unread"] == 1
    assert [(m["author"], m["author_name"], m["kind"], m["body"]) for m in data["messages"]] == [
        ("player", None, "reply", "Hello, I need help."),
        ("agent", "Agent 2", "note", "Check the PSP"),
        ("agent", "Agent 2", "reply", "<script>x</script>"),
    ]
    assert me.id != colleague.id
    summary = (await client.get(f"/console/tickets/{ticket.id}/summary")).json()
    assert summary["ticket"]["unread"] == 1
    assert (await client.get("/console/tickets/999999/conversation")).status_code == 404


# Actions use the REST API with the page's CSRF token ----------------------------------------


async def test_the_pages_csrf_token_authorises_actions_and_nothing_else_does(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent)
    ticket = await open_ticket(runtime, subject="Assign me")
    page = (await client.get("/console")).text
    found = CSRF_META.search(page)
    assert found is not None
    token = found.group(1)
    path = f"/api/v1/tickets/{ticket.id}"

    missing = await client.patch(path, json={"assignee_id": me.id})
    wrong = await client.patch(
        path, json={"assignee_id": me.id}, headers={"X-CSRF-Token": "0" * 64}
    )
    right = await client.patch(path, json={"assignee_id": me.id}, headers={"X-CSRF-Token": token})
    note = await client.post(
        f"{path}/messages",
        json={"body": "internal", "kind": "note", "client_msg_id": "n-1"},
        headers={"X-CSRF-Token": token},
    )

    assert missing.status_code == wrong.status_code == 403
    assert right.status_code == 200
    assert right.json()["assignee_id"] == me.id
    assert note.status_code == 201


# Presence -------------------------------------------------------------------------------------


async def test_signing_out_sets_the_agent_offline(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, bus: RecordingBus
) -> None:
    me = await sign_in(client, make_agent)
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow,
            actor=Actor(agent_id=me.id, role=me.role, method=me.actor.method),
            presence=Presence.ONLINE,
            routing_policy=runtime.policies.routing,
        )
    page = (await client.get("/console")).text
    assert config_of(page)["me"]["presence"] == "online"
    token = CSRF_FIELD.search(page)
    assert token is not None

    response = await client.post("/console/logout", data={"csrf_token": token.group(1)})

    assert response.status_code == 303
    async with runtime.uow() as uow:
        assert (
            await uow.session.scalar(select(Agent.presence).where(Agent.id == me.id)) == "offline"
        )
    changes = [event for event in bus.published if isinstance(event, PresenceChanged)]
    assert [(event.agent_id, event.presence) for event in changes] == [
        (me.id, "online"),
        (me.id, "offline"),
    ]


async def test_a_forged_sign_out_leaves_presence_alone(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    me = await sign_in(client, make_agent)
    async with runtime.uow() as uow:
        await chat.set_presence(
            uow,
            actor=Actor(agent_id=me.id, role=me.role, method=me.actor.method),
            presence=Presence.AWAY,
            routing_policy=runtime.policies.routing,
        )

    await client.post("/console/logout", data={"csrf_token": "f" * 64})

    async with runtime.uow() as uow:
        assert await uow.session.scalar(select(Agent.presence).where(Agent.id == me.id)) == "away"


# The scripts ------------------------------------------------------------------------------------


async def test_every_console_module_is_served_and_its_imports_exist(
    client: httpx.AsyncClient,
) -> None:
    modules = sorted((Path(STATIC_DIR) / "console").glob("*.js"))
    assert {module.name for module in modules} >= {"app.js", "inbox.js", "conversation.js"}
    for module in modules:
        response = await client.get(f"/static/console/{module.name}")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]
        for imported in re.findall(r'from "\./([\w.]+)"', response.text):
            assert (module.parent / imported).exists(), f"{module.name} imports {imported}"
        # Player text goes in as text: no HTML parsing of strings in the scripts.
        assert "innerHTML" not in response.text
        assert "insertAdjacentHTML" not in response.text
        assert "document.write" not in response.text
