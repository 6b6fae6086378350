from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry, LoginAttempt, WebSession
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from tests.conftest import AgentFactory

PASSWORD = "correct horse battery"


async def login(
    runtime: Runtime, email: str, password: str, ip: str = "10.0.0.1"
) -> auth.LoginResult:
    async with runtime.uow() as uow:
        return await auth.login(
            uow,
            email=email,
            password=password,
            ip=ip,
            user_agent="pytest",
            policy=runtime.policies.login,
        )


async def actions(runtime: Runtime) -> list[str]:
    async with runtime.uow() as uow:
        return list(
            (await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        )


async def test_login_creates_a_session_that_authenticates_until_it_expires(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent(AgentRole.SENIOR, password=PASSWORD)
    result = await login(runtime, agent.email.upper(), PASSWORD)
    async with runtime.uow() as uow:
        who = await auth.authenticate_session(uow, token=result.session_token, ip=None)
    assert who.actor.agent_id == agent.id and who.actor.role is AgentRole.SENIOR
    async with runtime.uow() as uow:
        stored = await uow.session.scalar(select(WebSession.token_hash))
    assert stored == auth.digest(result.session_token) != result.session_token

    clock.advance(timedelta(seconds=runtime.settings.session_ttl_seconds + 1))
    with pytest.raises(AuthenticationFailed):
        async with runtime.uow() as uow:
            await auth.authenticate_session(uow, token=result.session_token, ip=None)
    assert "auth.login" in await actions(runtime)


async def test_failed_logins_are_recorded_and_lock_the_account(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent(password=PASSWORD)
    limit = runtime.settings.login_max_failures
    for _ in range(limit):
        with pytest.raises(AuthenticationFailed):
            await login(runtime, agent.email, "wrong password!")
        clock.advance(timedelta(seconds=10))
    with pytest.raises(TooManyAttempts) as caught:
        await login(runtime, agent.email, PASSWORD)
    # Locked until the first of the failures leaves the window (they were 10 s apart).
    lockout = runtime.settings.login_lockout_seconds
    assert caught.value.retry_after_seconds == lockout - 10 * limit
    async with runtime.uow() as uow:
        failures = await uow.session.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
        )
    assert failures == limit
    assert (await actions(runtime)).count("auth.login_failed") == limit

    clock.advance(timedelta(seconds=caught.value.retry_after_seconds))
    result = await login(runtime, agent.email, PASSWORD)
    assert result.agent.id == agent.id


async def test_success_resets_the_failure_count(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent(password=PASSWORD)
    for round_ in range(3):
        for _ in range(runtime.settings.login_max_failures - 1):
            with pytest.raises(AuthenticationFailed):
                await login(runtime, agent.email, "nope nope nope")
            clock.advance(timedelta(seconds=1))
        await login(runtime, agent.email, PASSWORD)
        clock.advance(timedelta(seconds=1))
        assert round_ >= 0


async def test_unknown_email_and_inactive_agent_fail_like_a_wrong_password(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    with pytest.raises(AuthenticationFailed):
        await login(runtime, "nobody@example.test", PASSWORD)
    assert await actions(runtime) == ["auth.login_failed"]


async def test_one_address_guessing_many_accounts_is_throttled(
    runtime: Runtime, clock: FrozenClock
) -> None:
    for index in range(runtime.settings.login_ip_max_failures):
        with pytest.raises(AuthenticationFailed):
            await login(runtime, f"guess{index}@example.test", "password123", ip="203.0.113.9")
    clock.advance(timedelta(seconds=60))
    with pytest.raises(TooManyAttempts) as caught:
        await login(runtime, "another@example.test", "password123", ip="203.0.113.9")
    assert caught.value.retry_after_seconds == runtime.settings.login_lockout_seconds - 60
    with pytest.raises(AuthenticationFailed):  # a different address is not affected
        await login(runtime, "another@example.test", "password123", ip="198.51.100.2")


async def test_api_tokens_are_hashed_revocable_and_touched_sparingly(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        who = await auth.authenticate_token(uow, token=agent.token, ip=None)
    assert who.actor.token_id is not None and who.token_touch_due
    async with runtime.uow() as uow:
        await auth.touch_token(uow, token_id=who.actor.token_id)
    async with runtime.uow() as uow:
        assert not (await auth.authenticate_token(uow, token=agent.token, ip=None)).token_touch_due
    clock.advance(auth.TOKEN_TOUCH_INTERVAL + timedelta(seconds=1))
    async with runtime.uow() as uow:
        assert (await auth.authenticate_token(uow, token=agent.token, ip=None)).token_touch_due

    async with runtime.uow() as uow:
        await auth.revoke_api_token(uow, actor=agent.actor, token_id=who.actor.token_id)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        async with runtime.uow() as uow:
            await auth.authenticate_token(uow, token=agent.token, ip=None)
    assert {"token.created", "token.revoked"} <= set(await actions(runtime))


async def test_only_admins_manage_other_agents_tokens(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    admin = await make_agent(AgentRole.ADMIN)
    with pytest.raises(PermissionDenied):
        async with runtime.uow() as uow:
            await auth.create_api_token(uow, actor=supervisor.actor, agent_id=admin.id, label="x")
    with pytest.raises(NotFound):
        async with runtime.uow() as uow:
            await auth.revoke_api_token(
                uow, actor=supervisor.actor, token_id=admin.actor.token_id or 0
            )
    async with runtime.uow() as uow:
        issued = await auth.create_api_token(
            uow, actor=admin.actor, agent_id=supervisor.id, label="ops"
        )
    assert issued.token.startswith(auth.TOKEN_PREFIX)
    assert issued.record.token_hash == auth.digest(issued.token)


async def test_purge_removes_expired_sessions_and_old_attempts(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent(password=PASSWORD)
    await login(runtime, agent.email, PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await login(runtime, agent.email, "wrong wrong wrong")
    clock.advance(timedelta(days=31))
    fresh = await login(runtime, agent.email, PASSWORD)
    async with runtime.uow() as uow:
        removed = await auth.purge_expired(uow, keep_attempts_for=timedelta(days=30))
    assert removed == 3  # one expired session, two old attempts
    async with runtime.uow() as uow:
        who = await auth.authenticate_session(uow, token=fresh.session_token, ip=None)
    assert who.agent.id == agent.id
