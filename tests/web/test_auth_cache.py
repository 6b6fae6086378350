"""The per-process cache of authenticated agents: a burst of requests costs one check,
revocations in this process take effect at once, elsewhere within the cache's TTL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import ApiToken, WebSession
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.events import AgentAccessChanged
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from tests.conftest import AgentFactory, QueryCounter
from tests.web.test_console import PASSWORD, submit_login


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


def statements_on(counter: QueryCounter, table: str) -> list[str]:
    return [s for s in counter.statements if table in s]


async def signed_in_cookie(client: httpx.AsyncClient, make_agent: AgentFactory) -> int:
    agent = await make_agent(email="cara.cached@example.test", password=PASSWORD)
    assert (await submit_login(client, email=agent.email, password=PASSWORD)).status_code == 303
    return agent.id


async def test_a_burst_with_one_token_checks_it_and_touches_it_once(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    clock: FrozenClock,
    count_queries: QueryCounter,
) -> None:
    agent = await make_agent()
    count_queries.reset()
    for _ in range(3):
        response = await client.get("/api/v1/agents/me", headers=agent.headers)
        assert response.status_code == 200 and response.json()["id"] == agent.id
    reads = [s for s in statements_on(count_queries, "api_tokens") if s.startswith("SELECT")]
    touches = [s for s in statements_on(count_queries, "api_tokens") if s.startswith("UPDATE")]
    assert (len(reads), len(touches)) == (1, 1)
    async with runtime.uow() as uow:
        token = await uow.session.scalar(select(ApiToken).where(ApiToken.agent_id == agent.id))
    assert token is not None and token.last_used_at == clock.now()

    # Past the cache's TTL the token is checked again, but its use is recorded only once
    # per TOKEN_TOUCH_INTERVAL.
    clock.advance(timedelta(seconds=runtime.settings.auth_cache_seconds + 1))
    count_queries.reset()
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).status_code == 200
    assert [s.split()[0] for s in statements_on(count_queries, "api_tokens")] == ["SELECT"]
    clock.advance(auth.TOKEN_TOUCH_INTERVAL)
    count_queries.reset()
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).status_code == 200
    assert [s.split()[0] for s in statements_on(count_queries, "api_tokens")] == [
        "SELECT",
        "UPDATE",
    ]


async def test_a_burst_with_one_session_checks_it_once(
    client: httpx.AsyncClient, make_agent: AgentFactory, count_queries: QueryCounter
) -> None:
    agent_id = await signed_in_cookie(client, make_agent)
    count_queries.reset()
    for _ in range(3):
        response = await client.get("/api/v1/agents/me")
        assert response.status_code == 200 and response.json()["id"] == agent_id
    assert len(statements_on(count_queries, "web_sessions")) == 1


async def test_a_revoked_token_is_refused_at_once(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    tokens = await client.get("/api/v1/tokens", headers=agent.headers)
    assert tokens.status_code == 200
    revoked = await client.delete(f"/api/v1/tokens/{tokens.json()[0]['id']}", headers=agent.headers)
    assert revoked.status_code == 200
    after = await client.get("/api/v1/agents/me", headers=agent.headers)
    assert after.status_code == 401


async def test_a_signed_out_session_is_refused_at_once(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await signed_in_cookie(client, make_agent)
    session = client.cookies["pd_session"]
    assert (await client.get("/api/v1/agents/me")).status_code == 200  # cached now
    inbox = await client.get("/console")
    csrf = inbox.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert (await client.post("/console/logout", data={"csrf_token": csrf})).status_code == 303
    client.cookies.set("pd_session", session)
    assert (await client.get("/api/v1/agents/me")).status_code == 401


async def test_deactivation_and_role_changes_apply_at_once(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    senior = await make_agent(AgentRole.SENIOR)
    assert (await client.get("/api/v1/agents", headers=senior.headers)).status_code == 200
    demoted = await client.patch(
        f"/api/v1/agents/{senior.id}", json={"role": "agent"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    assert (await client.get("/api/v1/agents", headers=senior.headers)).status_code == 403
    deactivated = await client.patch(
        f"/api/v1/agents/{senior.id}", json={"is_active": False}, headers=admin.headers
    )
    assert deactivated.status_code == 200
    assert (await client.get("/api/v1/agents/me", headers=senior.headers)).status_code == 401


async def test_a_revocation_elsewhere_is_seen_within_the_ttl(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, clock: FrozenClock
) -> None:
    agent_id = await signed_in_cookie(client, make_agent)
    assert (await client.get("/api/v1/agents/me")).status_code == 200
    # Another process signs the agent out: the row goes, and its bus message is lost.
    async with runtime.uow() as uow:
        await uow.session.execute(delete(WebSession))
        await uow.commit()
    assert (await client.get("/api/v1/agents/me")).status_code == 200  # stale, for now
    clock.advance(timedelta(seconds=runtime.settings.auth_cache_seconds))
    assert (await client.get("/api/v1/agents/me")).status_code == 401

    # When the other process's event does arrive (the hub hands it over), it ends at once.
    assert await submit_login(client, email="cara.cached@example.test", password=PASSWORD)
    assert (await client.get("/api/v1/agents/me")).status_code == 200
    async with runtime.uow() as uow:
        await uow.session.execute(delete(WebSession))
        await uow.commit()
    runtime.hub.dispatch(AgentAccessChanged(occurred_at=clock.now(), agent_id=agent_id))
    assert (await client.get("/api/v1/agents/me")).status_code == 401
