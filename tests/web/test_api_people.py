"""Players, agents, teams, API tokens and the audit log through the REST API."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import func, select

from playerdesk.db.models import Agent, ApiToken, AuditEntry, Player
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import AuthenticationFailed
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.web.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token_for
from tests.conftest import AgentFactory, AgentLogin

API = "/api/v1"
PG = bool(os.environ.get("PLAYERDESK_TEST_DATABASE_URL"))
PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery"


async def audit_rows(runtime: Runtime, action: str | None = None) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list((await uow.session.scalars(query)).all())


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


# --- players ---------------------------------------------------------------------------


async def test_put_player_creates_then_updates(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    url = f"{API}/players/CAS-42"

    created = await client.put(
        url,
        json={"name": "Anna", "email": "Anna@Example.TEST", "language": "pl", "vip_tier": "Gold"},
        headers=agent.headers,
    )
    assert created.status_code == 201
    player = created.json()
    assert player["external_id"] == "CAS-42"
    assert player["email"] == "Anna@example.test"
    assert (player["language"], player["vip_tier"]) == ("pl", "gold")

    updated = await client.put(
        url, json={"phone": "+48 600 100 200", "country": "pl"}, headers=agent.headers
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == player["id"]
    assert (updated.json()["phone"], updated.json()["country"]) == ("+48 600 100 200", "PL")
    assert updated.json()["name"] == "Anna"  # not given: kept

    assert await count(runtime, Player) == 1
    [created_entry] = await audit_rows(runtime, "player.created")
    [updated_entry] = await audit_rows(runtime, "player.updated")
    assert created_entry.entity_id == updated_entry.entity_id == str(player["id"])
    assert sorted(updated_entry.details["fields"]) == ["country", "phone"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"language": "de"}, "language"),
        ({"country": "POL"}, "country"),
        ({"vip_tier": "diamond"}, "vip_tier"),
        ({"phone": "call me"}, "phone"),
        ({"personal_manager_id": 999}, "personal_manager_id"),
        ({"nickname": "x"}, "nickname"),
        ({"name": 5}, "name"),
    ],
)
async def test_put_player_rejects_bad_fields_and_writes_nothing(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    agent = await make_agent()
    response = await client.put(f"{API}/players/CAS-1", json=body, headers=agent.headers)
    assert response.status_code == 422
    assert problem_fields(response) == [field]
    assert await count(runtime, Player) == 0


async def test_put_player_with_an_email_of_another_player_is_409(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    first = await client.put(
        f"{API}/players/A", json={"email": "a@example.test"}, headers=agent.headers
    )
    assert first.status_code == 201
    clash = await client.put(
        f"{API}/players/B", json={"email": "a@example.test"}, headers=agent.headers
    )
    assert clash.status_code == 409
    assert problem_fields(clash) == ["email"]
    assert await count(runtime, Player) == 1


async def test_get_player_is_audited_as_player_viewed_with_the_token(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    put = await client.put(f"{API}/players/CAS-7", json={"name": "Ola"}, headers=agent.headers)
    player_id = put.json()["id"]

    response = await client.get(f"{API}/players/CAS-7", headers=agent.headers)
    assert response.status_code == 200
    assert response.json()["name"] == "Ola"
    [entry] = await audit_rows(runtime, "player.viewed")
    assert entry.entity_type == "player"
    assert entry.entity_id == str(player_id)
    assert entry.actor_agent_id == agent.id
    assert entry.actor_method == "token"
    assert entry.actor_token_id == agent.actor.token_id
    assert entry.ip == "127.0.0.1"

    missing = await client.get(f"{API}/players/CAS-8", headers=agent.headers)
    assert missing.status_code == 404
    assert problem_fields(missing) == ["external_id"]
    assert len(await audit_rows(runtime, "player.viewed")) == 1


async def test_every_read_of_personal_data_through_put_is_audited(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent()
    await client.put(
        f"{API}/players/CAS-9", json={"email": "x@example.test"}, headers=agent.headers
    )
    before = len(await audit_rows(runtime))
    echoed = await client.put(f"{API}/players/CAS-9", json={}, headers=agent.headers)
    assert echoed.status_code == 200
    assert echoed.json()["email"] == "x@example.test"
    assert len(await audit_rows(runtime)) == before + 1


# --- agents and teams ------------------------------------------------------------------


async def test_supervisor_creates_agents_and_teams(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    team = await client.post(
        f"{API}/teams",
        json={"name": "Payments", "description": "payouts"},
        headers=supervisor.headers,
    )
    assert team.status_code == 201
    team_id = team.json()["id"]

    created = await client.post(
        f"{API}/agents",
        json={
            "email": "New.Agent@Example.test",
            "name": "New Agent",
            "role": "senior",
            "languages": ["pl", "en"],
            "team_ids": [team_id],
            "password": PASSWORD,
        },
        headers=supervisor.headers,
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    assert agent["email"] == "new.agent@example.test"
    assert (agent["role"], agent["languages"], agent["team_ids"]) == (
        "senior",
        ["pl", "en"],
        [team_id],
    )
    assert "password" not in agent and "password_hash" not in agent
    [entry] = [
        row for row in await audit_rows(runtime, "agent.created") if row.actor_agent_id is not None
    ]
    assert entry.actor_agent_id == supervisor.id
    assert entry.entity_id == str(agent["id"])
    assert entry.details == {"email": "new.agent@example.test", "role": "senior"}

    listed = await client.get(f"{API}/agents", headers=supervisor.headers)
    assert [a["email"] for a in listed.json()] == [supervisor.email, "new.agent@example.test"]
    teams = await client.get(f"{API}/teams", headers=supervisor.headers)
    assert teams.json() == [{"id": team_id, "name": "Payments", "description": "payouts"}]

    renamed = await client.patch(
        f"{API}/teams/{team_id}", json={"name": "Payouts"}, headers=supervisor.headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Payouts"


async def test_agent_and_team_conflicts_and_unknowns(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    await client.post(f"{API}/teams", json={"name": "A"}, headers=h)
    second = (await client.post(f"{API}/teams", json={"name": "B"}, headers=h)).json()

    dup_team = await client.post(f"{API}/teams", json={"name": "A"}, headers=h)
    assert (dup_team.status_code, problem_fields(dup_team)) == (409, ["name"])
    rename_clash = await client.patch(f"{API}/teams/{second['id']}", json={"name": "A"}, headers=h)
    assert (rename_clash.status_code, problem_fields(rename_clash)) == (409, ["name"])
    no_team = await client.patch(f"{API}/teams/999", json={"name": "C"}, headers=h)
    assert (no_team.status_code, problem_fields(no_team)) == (404, ["team_id"])
    rule = await client.post(
        f"{API}/routing-rules",
        json={"name": "To B", "team_id": second["id"], "topic": "bonuses"},
        headers=h,
    )
    assert rule.status_code == 201
    in_use = await client.delete(f"{API}/teams/{second['id']}", headers=h)
    assert (in_use.status_code, problem_fields(in_use)) == (409, ["team_id"])
    assert "To B" in in_use.json()["detail"]
    await client.delete(f"{API}/routing-rules/{rule.json()['id']}", headers=h)
    assert (await client.delete(f"{API}/teams/{second['id']}", headers=h)).status_code == 204
    gone = await client.delete(f"{API}/teams/{second['id']}", headers=h)
    assert (gone.status_code, problem_fields(gone)) == (404, ["team_id"])

    dup_agent = await client.post(
        f"{API}/agents", json={"email": admin.email.upper(), "name": "Twin"}, headers=h
    )
    assert (dup_agent.status_code, problem_fields(dup_agent)) == (409, ["email"])
    no_agent = await client.get(f"{API}/agents/999", headers=h)
    assert (no_agent.status_code, problem_fields(no_agent)) == (404, ["agent_id"])
    for body, field in [
        ({"email": "x@example.test", "name": "X", "languages": ["tlh"]}, "languages"),
        ({"email": "x@example.test", "name": "X", "team_ids": [999]}, "team_ids"),
        ({"email": "x@example.test", "name": "X", "password": "short"}, "password"),
        ({"email": "x@example.test", "name": "X", "role": "owner"}, "role"),
        ({"email": "x@example.test", "name": ""}, "name"),
        ({"email": "not an email", "name": "X"}, "email"),
    ]:
        response = await client.post(f"{API}/agents", json=body, headers=h)
        assert (response.status_code, problem_fields(response)) == (422, [field]), body


async def test_role_changes_are_audited_and_bounded_by_the_granters_role(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    admin = await make_agent(AgentRole.ADMIN)
    agent = await make_agent()

    promoted = await client.patch(
        f"{API}/agents/{agent.id}", json={"role": "supervisor"}, headers=supervisor.headers
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "supervisor"
    [entry] = await audit_rows(runtime, "agent.role_changed")
    assert entry.details == {"from": "agent", "to": "supervisor"}
    assert entry.actor_agent_id == supervisor.id
    assert entry.entity_id == str(agent.id)

    # The promotion takes effect on the agent's existing token at once.
    audit = await client.get(f"{API}/audit", headers=agent.headers)
    assert audit.status_code == 200

    to_admin = await client.patch(
        f"{API}/agents/{agent.id}", json={"role": "admin"}, headers=supervisor.headers
    )
    assert (to_admin.status_code, problem_fields(to_admin)) == (403, ["role"])
    edit_admin = await client.patch(
        f"{API}/agents/{admin.id}", json={"name": "Renamed"}, headers=supervisor.headers
    )
    assert edit_admin.status_code == 403
    create_admin = await client.post(
        f"{API}/agents",
        json={"email": "boss@example.test", "name": "Boss", "role": "admin"},
        headers=supervisor.headers,
    )
    assert (create_admin.status_code, problem_fields(create_admin)) == (403, ["role"])
    own_role = await client.patch(
        f"{API}/agents/{supervisor.id}", json={"role": "agent"}, headers=supervisor.headers
    )
    assert (own_role.status_code, problem_fields(own_role)) == (409, ["role"])

    by_admin = await client.patch(
        f"{API}/agents/{agent.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert by_admin.status_code == 200
    assert len(await audit_rows(runtime, "agent.role_changed")) == 2
    async with runtime.uow() as uow:
        emails = (await uow.session.scalars(select(Agent.email))).all()
    assert "boss@example.test" not in emails
    assert (await client.get(f"{API}/agents/{admin.id}", headers=admin.headers)).json()["name"] != (
        "Renamed"
    )


async def test_deactivated_agent_loses_api_access(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    agent = await make_agent()
    assert (await client.get(f"{API}/tickets", headers=agent.headers)).status_code == 200

    off = await client.patch(
        f"{API}/agents/{agent.id}", json={"is_active": False}, headers=supervisor.headers
    )
    assert off.status_code == 200
    assert off.json()["is_active"] is False
    denied = await client.get(f"{API}/tickets", headers=agent.headers)
    assert denied.status_code == 401
    self_off = await client.patch(
        f"{API}/agents/{supervisor.id}", json={"is_active": False}, headers=supervisor.headers
    )
    assert (self_off.status_code, problem_fields(self_off)) == (409, ["is_active"])


async def test_agents_me_for_everyone(client: httpx.AsyncClient, make_agent: AgentFactory) -> None:
    agent = await make_agent(languages=["sv"])
    me = await client.get(f"{API}/agents/me", headers=agent.headers)
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["role"], me.json()["languages"]) == (
        agent.id,
        "agent",
        ["sv"],
    )
    own = await client.get(f"{API}/agents/{agent.id}", headers=agent.headers)
    assert own.status_code == 200


# --- API tokens ------------------------------------------------------------------------


async def test_token_lifecycle_and_revoked_token_is_401(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: Any
) -> None:
    agent = await make_agent()
    issued = await client.post(f"{API}/tokens", json={"label": "CRM sync"}, headers=agent.headers)
    assert issued.status_code == 201
    token = issued.json()
    assert token["token"].startswith("pdt_")
    assert token["token"].startswith(token["prefix"])
    assert token["agent_id"] == agent.id
    bearer = {"Authorization": f"Bearer {token['token']}"}

    assert (await client.get(f"{API}/tickets", headers=bearer)).status_code == 200
    listed = await client.get(f"{API}/tokens", headers=agent.headers)
    by_id = {item["id"]: item for item in listed.json()}
    assert set(by_id) == {agent.actor.token_id, token["id"]}
    assert all("token" not in item for item in listed.json())  # never shown again
    assert by_id[token["id"]]["last_used_at"] == "2026-11-02T09:00:00Z"

    revoked = await client.delete(f"{API}/tokens/{token['id']}", headers=agent.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await client.get(f"{API}/tickets", headers=bearer)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "revoked" in refused.json()["detail"]

    actions = [entry.action for entry in await audit_rows(runtime)]
    assert actions.count("token.created") == 2  # the fixture's and this one
    assert actions.count("token.revoked") == 1
    async with runtime.uow() as uow:
        stored = await uow.session.get_one(ApiToken, token["id"])
        assert token["token"] not in (stored.token_hash, stored.prefix)


async def test_tokens_of_others_are_invisible_except_to_admins(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    owner = await make_agent()
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    admin = await make_agent(AgentRole.ADMIN)
    token_id = owner.actor.token_id

    as_supervisor = await client.delete(f"{API}/tokens/{token_id}", headers=supervisor.headers)
    assert (as_supervisor.status_code, problem_fields(as_supervisor)) == (404, ["token_id"])
    assert (await client.get(f"{API}/tickets", headers=owner.headers)).status_code == 200
    as_admin = await client.delete(f"{API}/tokens/{token_id}", headers=admin.headers)
    assert as_admin.status_code == 200
    assert (await client.get(f"{API}/tickets", headers=owner.headers)).status_code == 401


# --- audit log -------------------------------------------------------------------------


async def test_audit_log_lists_filters_and_paginates(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    agent = await make_agent()
    for n in range(3):
        await client.put(f"{API}/players/P-{n}", json={"name": f"P{n}"}, headers=agent.headers)
    await client.get(f"{API}/players/P-1", headers=agent.headers)

    viewed = await client.get(f"{API}/audit?action=player.viewed", headers=supervisor.headers)
    assert viewed.status_code == 200
    [entry] = viewed.json()["items"]
    assert (entry["actor_agent_id"], entry["actor_method"], entry["entity_type"]) == (
        agent.id,
        "token",
        "player",
    )

    by_actor = await client.get(
        f"{API}/audit", params={"actor_agent_id": agent.id, "limit": 2}, headers=supervisor.headers
    )
    page = by_actor.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await client.get(
        f"{API}/audit",
        params={"actor_agent_id": agent.id, "limit": 2, "cursor": page["next_cursor"]},
        headers=supervisor.headers,
    )
    ids = [item["id"] for item in page["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == 4  # three player.created, one player.viewed
    assert rest.json()["next_cursor"] is None

    denied = await client.get(f"{API}/audit", headers=agent.headers)
    assert denied.status_code == 403


# --- console sessions on the API ------------------------------------------------------


async def session_login(runtime: Runtime, email: str) -> str:
    async with runtime.uow() as uow:
        result = await auth.login(
            uow,
            email=email,
            password=PASSWORD,
            ip="127.0.0.1",
            user_agent="tests",
            policy=runtime.policies.login,
        )
    return result.session_token


async def test_session_cookie_needs_the_csrf_header_for_unsafe_methods(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await make_agent(password=PASSWORD)
    session = await session_login(runtime, agent.email)
    [login] = await audit_rows(runtime, "auth.login")
    assert (login.actor_agent_id, login.actor_method) == (agent.id, "session")
    async with runtime.uow() as uow:
        with pytest.raises(AuthenticationFailed):
            await auth.login(
                uow,
                email=agent.email,
                password="not the password",
                ip="127.0.0.1",
                user_agent=None,
                policy=runtime.policies.login,
            )
    [failed] = await audit_rows(runtime, "auth.login_failed")
    assert (failed.entity_id, failed.ip) == (str(agent.id), "127.0.0.1")

    nonce = "n" * 24
    client.cookies.set(SESSION_COOKIE, session)
    client.cookies.set(CSRF_COOKIE, nonce)
    body = {
        "channel": "phone",
        "subject": "Call back",
        "body": "Wants a call",
        "player": {"external_id": "P-1"},
    }

    assert (await client.get(f"{API}/tickets")).status_code == 200
    missing = await client.post(f"{API}/tickets", json=body)
    assert missing.status_code == 403
    assert problem_fields(missing) == ["x-csrf-token"]
    wrong = await client.post(f"{API}/tickets", json=body, headers={"X-CSRF-Token": "f" * 64})
    assert wrong.status_code == 403
    other_nonce = await client.post(
        f"{API}/tickets",
        json=body,
        headers={"X-CSRF-Token": csrf_token_for("m" * 24, secret_key=runtime.settings.secret_key)},
    )
    assert other_nonce.status_code == 403
    assert (await client.get(f"{API}/tickets")).json()["items"] == []

    good = csrf_token_for(nonce, secret_key=runtime.settings.secret_key)
    created = await client.post(f"{API}/tickets", json=body, headers={"X-CSRF-Token": good})
    assert created.status_code == 201
    [entry] = await audit_rows(runtime, "ticket.created")
    assert (entry.actor_agent_id, entry.actor_method, entry.actor_token_id) == (
        agent.id,
        "session",
        None,
    )

    # Without the CSRF cookie the header proves nothing.
    client.cookies.delete(CSRF_COOKIE)
    no_cookie = await client.post(f"{API}/tickets", json=body, headers={"X-CSRF-Token": good})
    assert no_cookie.status_code == 403


async def test_bearer_token_needs_no_csrf_even_with_cookies(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent: AgentLogin = await make_agent()
    client.cookies.set(SESSION_COOKIE, "stale")
    response = await client.post(
        f"{API}/tickets",
        json={"channel": "api", "subject": "s", "body": "b", "player": {"external_id": "P"}},
        headers=agent.headers,
    )
    assert response.status_code == 201


@pytest.mark.parametrize("via", ["put", "ticket by external_id", "ticket by email"])
async def test_concurrent_creates_of_the_same_new_player_do_not_fail(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, via: str
) -> None:
    agent = await make_agent()

    async def attempt(n: int) -> httpx.Response:
        if via == "put":
            return await client.put(
                f"{API}/players/SAME", json={"name": f"try {n}"}, headers=agent.headers
            )
        player = (
            {"external_id": "SAME"}
            if via == "ticket by external_id"
            else {"email": "same@example.test"}
        )
        body = {"channel": "email", "subject": f"s{n}", "body": "b", "player": player}
        return await client.post(f"{API}/tickets", json=body, headers=agent.headers)

    with structlog.testing.capture_logs():  # a 500's traceback is slow to render
        results = await asyncio.gather(*[attempt(n) for n in range(4)], return_exceptions=True)
    statuses = sorted(getattr(result, "status_code", 500) for result in results)
    assert all(status < 500 for status in statuses), results
    assert await count(runtime, Player) == 1
