"""Passwords, console sessions, API tokens and login throttling."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, select, update

from playerdesk.db.models import Agent, ApiToken, LoginAttempt, WebSession
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AgentRole, AuthMethod, Presence
from playerdesk.domain.errors import AuthenticationFailed, NotFound, TooManyAttempts
from playerdesk.domain.events import AgentAccessChanged, PresenceChanged
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit, routing
from playerdesk.services.auth_cache import ActorCache
from playerdesk.services.routing import RoutingPolicy

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

TOKEN_PREFIX = "pdt_"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, kw_only=True)
class LoginPolicy:
    max_failures: int
    lockout: timedelta
    ip_max_failures: int
    session_ttl: timedelta


@dataclass(frozen=True, kw_only=True)
class LoginResult:
    session_token: str
    agent: Agent


@dataclass(frozen=True, kw_only=True)
class Authenticated:
    actor: Actor
    agent: Agent
    token_touch_due: bool = False
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CheckedToken:
    actor: Actor
    touch_due: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    """Tokens are high-entropy random strings, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _seconds_until_unlocked(
    recent_failures: list[datetime], *, limit: int, lockout: timedelta, now: datetime
) -> int | None:
    """Locked while `limit` failures fall inside the window; free when the oldest leaves it."""
    if len(recent_failures) < limit:
        return None
    unlock_at = recent_failures[limit - 1] + lockout
    return max(1, math.ceil((unlock_at - now).total_seconds()))


async def _recent_failures(
    uow: UnitOfWork, *, condition: ColumnElement[bool], since: datetime, limit: int
) -> list[datetime]:
    rows = await uow.session.scalars(
        select(LoginAttempt.created_at)
        .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since)
        .order_by(LoginAttempt.created_at.desc())
        .limit(limit)
    )
    return list(rows.all())


async def _lockout_remaining(
    uow: UnitOfWork, *, email: str, ip: str, policy: LoginPolicy
) -> int | None:
    now = uow.clock.now()
    window_start = now - policy.lockout
    last_success = await uow.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    # A successful login clears the account's count; the address's count runs on regardless.
    since = max(window_start, last_success) if last_success else window_start
    for condition, limit, start in (
        (LoginAttempt.email == email, policy.max_failures, since),
        (LoginAttempt.ip == ip, policy.ip_max_failures, window_start),
    ):
        failures = await _recent_failures(uow, condition=condition, since=start, limit=limit)
        remaining = _seconds_until_unlocked(failures, limit=limit, lockout=policy.lockout, now=now)
        if remaining is not None:
            return remaining
    return None


async def login(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str | None,
    policy: LoginPolicy,
) -> LoginResult:
    """Check a console login. Failures are recorded (and committed) before raising."""
    email = email.strip().lower()
    now = uow.clock.now()
    retry_after = await _lockout_remaining(uow, email=email, ip=ip, policy=policy)
    if retry_after is not None:
        raise TooManyAttempts(
            "too many failed logins; try again later", retry_after_seconds=retry_after
        )

    agent = await uow.session.scalar(select(Agent).where(Agent.email == email))
    ok = _verify_password(agent.password_hash if agent else None, password)
    if agent is None or not ok or not agent.is_active:
        uow.session.add(LoginAttempt(email=email, ip=ip, succeeded=False, created_at=now))
        audit.record(
            uow,
            actor=Actor(agent_id=None, role=AgentRole.AGENT, method=AuthMethod.SESSION, ip=ip),
            action="auth.login_failed",
            entity_type="agent",
            entity_id=agent.id if agent else None,
            details={"email": email},
        )
        await uow.commit()
        raise AuthenticationFailed("wrong email or password", field="email")

    if _hasher.check_needs_rehash(agent.password_hash or ""):
        agent.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    uow.session.add(LoginAttempt(email=email, ip=ip, succeeded=True, created_at=now))
    uow.session.add(
        WebSession(
            agent_id=agent.id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + policy.session_ttl,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    audit.record(
        uow,
        actor=Actor(
            agent_id=agent.id, role=AgentRole(agent.role), method=AuthMethod.SESSION, ip=ip
        ),
        action="auth.login",
        entity_type="agent",
        entity_id=agent.id,
    )
    await uow.commit()
    return LoginResult(session_token=token, agent=agent)


async def authenticate_session(uow: UnitOfWork, *, token: str, ip: str | None) -> Authenticated:
    row = (
        await uow.session.execute(
            select(WebSession, Agent)
            .join(Agent, Agent.id == WebSession.agent_id)
            .where(WebSession.token_hash == digest(token))
        )
    ).first()
    if row is None:
        raise AuthenticationFailed("not logged in")
    session, agent = row
    if session.expires_at <= uow.clock.now() or not agent.is_active:
        raise AuthenticationFailed("the session has expired; log in again")
    actor = Actor(
        agent_id=agent.id,
        role=AgentRole(agent.role),
        method=AuthMethod.SESSION,
        ip=ip,
        name=agent.name,
    )
    return Authenticated(actor=actor, agent=agent, expires_at=session.expires_at)


async def session_actor(uow: UnitOfWork, *, token: str, ip: str | None, cache: ActorCache) -> Actor:
    """Who a console session cookie belongs to, from the process's cache when it was
    checked a moment ago (see services/auth_cache.py for how stale that may be)."""
    key, now = digest(token), uow.clock.now()
    cached = cache.get(key, now=now, ip=ip)
    if cached is not None and cached.method is AuthMethod.SESSION:
        return cached
    generation = cache.generation
    result = await authenticate_session(uow, token=token, ip=ip)
    assert result.expires_at is not None
    cache.put(key, result.actor, now=now, expires_at=result.expires_at, generation=generation)
    return result.actor


async def token_actor(
    uow: UnitOfWork, *, token: str, ip: str | None, cache: ActorCache
) -> CheckedToken:
    """Who an API token belongs to, from the process's cache when it was checked a moment
    ago. `touch_due`: the token's last use should be recorded (`touch_token`); at most
    once per TOKEN_TOUCH_INTERVAL, and never on a cache hit."""
    key, now = digest(token), uow.clock.now()
    cached = cache.get(key, now=now, ip=ip)
    if cached is not None and cached.method is AuthMethod.TOKEN:
        return CheckedToken(actor=cached, touch_due=False)
    generation = cache.generation
    result = await authenticate_token(uow, token=token, ip=ip)
    cache.put(key, result.actor, now=now, expires_at=now + cache.ttl, generation=generation)
    return CheckedToken(actor=result.actor, touch_due=result.token_touch_due)


async def logout(
    uow: UnitOfWork, *, token: str, ip: str | None, routing_policy: RoutingPolicy
) -> None:
    """End the session. Signing out of the last one takes the agent offline, and their
    live conversations go back to routing so nobody waits on an agent who left."""
    session = await uow.session.scalar(
        select(WebSession).where(WebSession.token_hash == digest(token))
    )
    if session is None:
        return
    agent = await uow.session.get_one(Agent, session.agent_id)
    await uow.session.delete(session)
    now = uow.clock.now()
    uow.publish_on_commit(AgentAccessChanged(occurred_at=now, agent_id=agent.id))
    other_sessions = await uow.session.scalar(
        select(func.count()).where(
            WebSession.agent_id == agent.id,
            WebSession.id != session.id,
            WebSession.expires_at > now,
        )
    )
    if not other_sessions:
        if agent.presence != Presence.OFFLINE.value:
            agent.presence = Presence.OFFLINE.value
            uow.publish_on_commit(
                PresenceChanged(occurred_at=now, agent_id=agent.id, presence=agent.presence)
            )
        await routing.release_agent_tickets(
            uow, agent_id=agent.id, reason="logout", policy=routing_policy
        )
    audit.record(
        uow,
        actor=Actor(
            agent_id=agent.id, role=AgentRole(agent.role), method=AuthMethod.SESSION, ip=ip
        ),
        action="auth.logout",
        entity_type="agent",
        entity_id=agent.id,
    )
    await uow.commit()


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    token: str
    record: ApiToken


async def create_api_token(
    uow: UnitOfWork, *, actor: Actor, agent_id: int, label: str
) -> IssuedToken:
    """A new API token for an agent; the plain token is returned once and never stored."""
    if agent_id != actor.agent_id:
        actor.require(Permission.TOKENS_MANAGE_ANY)
    agent = await uow.session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise NotFound("no such active agent", field="agent_id")
    label = label.strip()[:100] or "token"
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        agent_id=agent.id,
        label=label,
        token_hash=digest(plain),
        prefix=plain[: len(TOKEN_PREFIX) + 6],
        created_at=uow.clock.now(),
    )
    uow.session.add(record)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="token.created",
        entity_type="api_token",
        entity_id=record.id,
        details={"agent_id": agent.id, "label": label},
    )
    await uow.commit()
    return IssuedToken(token=plain, record=record)


async def list_api_tokens(uow: UnitOfWork, *, actor: Actor, agent_id: int) -> list[ApiToken]:
    if agent_id != actor.agent_id:
        actor.require(Permission.TOKENS_MANAGE_ANY)
    rows = await uow.session.scalars(
        select(ApiToken).where(ApiToken.agent_id == agent_id).order_by(ApiToken.id)
    )
    return list(rows.all())


async def revoke_api_token(uow: UnitOfWork, *, actor: Actor, token_id: int) -> ApiToken:
    record = await uow.session.get(ApiToken, token_id)
    if record is None or (
        record.agent_id != actor.agent_id and not actor.can(Permission.TOKENS_MANAGE_ANY)
    ):
        raise NotFound("no such token", field="token_id")
    if record.revoked_at is None:
        record.revoked_at = uow.clock.now()
        uow.publish_on_commit(
            AgentAccessChanged(occurred_at=record.revoked_at, agent_id=record.agent_id)
        )
        audit.record(
            uow, actor=actor, action="token.revoked", entity_type="api_token", entity_id=record.id
        )
        await uow.commit()
    return record


async def authenticate_token(uow: UnitOfWork, *, token: str, ip: str | None) -> Authenticated:
    row = (
        await uow.session.execute(
            select(ApiToken, Agent)
            .join(Agent, Agent.id == ApiToken.agent_id)
            .where(ApiToken.token_hash == digest(token))
        )
    ).first()
    if row is None:
        raise AuthenticationFailed("unknown API token")
    record, agent = row
    if record.revoked_at is not None:
        raise AuthenticationFailed("the API token was revoked")
    if not agent.is_active:
        raise AuthenticationFailed("the API token's agent is deactivated")
    actor = Actor(
        agent_id=agent.id,
        role=AgentRole(agent.role),
        method=AuthMethod.TOKEN,
        token_id=record.id,
        ip=ip,
        name=agent.name,
    )
    touch_due = (
        record.last_used_at is None or record.last_used_at < uow.clock.now() - TOKEN_TOUCH_INTERVAL
    )
    return Authenticated(actor=actor, agent=agent, token_touch_due=touch_due)


async def touch_token(uow: UnitOfWork, *, token_id: int) -> None:
    """Record that a token was used, at most once per interval to keep reads cheap."""
    now = uow.clock.now()
    await uow.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            (ApiToken.last_used_at.is_(None))
            | (ApiToken.last_used_at < now - TOKEN_TOUCH_INTERVAL),
        )
        .values(last_used_at=now)
    )
    await uow.commit()


async def purge_expired(uow: UnitOfWork, *, keep_attempts_for: timedelta) -> int:
    """Housekeeping: drop expired sessions and old login attempts. Returns rows removed."""
    now = uow.clock.now()
    sessions = await uow.session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    attempts = await uow.session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < now - keep_attempts_for)
    )
    await uow.commit()
    return int(getattr(sessions, "rowcount", 0) or 0) + int(getattr(attempts, "rowcount", 0) or 0)
