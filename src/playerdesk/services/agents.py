"""Agents, their roles, languages and teams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from playerdesk.db.models import (
    Agent,
    CannedReply,
    EscalationRuleRow,
    RoutingRuleRow,
    SlaPolicyRow,
    Team,
    Ticket,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.events import AgentAccessChanged
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.players import check_language, normalise_email
from playerdesk.services import audit, floor_config
from playerdesk.services.auth import MIN_PASSWORD_LENGTH, hash_password
from playerdesk.services.routing import UNRESOLVED_STATUSES


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return password


def _check_languages(languages: list[str], *, supported: list[str]) -> list[str]:
    checked = [check_language(code, supported=supported, field="languages") for code in languages]
    return list(dict.fromkeys(checked))


async def _load_teams(uow: UnitOfWork, team_ids: list[int]) -> list[Team]:
    unique_ids = list(dict.fromkeys(team_ids))
    if not unique_ids:
        return []
    teams = list((await uow.session.scalars(select(Team).where(Team.id.in_(unique_ids)))).all())
    missing = set(unique_ids) - {team.id for team in teams}
    if missing:
        raise ValidationFailed(f"unknown team ids {sorted(missing)}", field="team_ids")
    return teams


async def _load_agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = await uow.session.scalar(
        select(Agent).where(Agent.id == agent_id).options(selectinload(Agent.teams))
    )
    if agent is None:
        raise NotFound("no such agent", field="agent_id")
    return agent


async def create_agent(
    uow: UnitOfWork,
    *,
    actor: Actor,
    email: str,
    name: str,
    role: AgentRole,
    password: str | None,
    languages: list[str],
    supported_languages: list[str],
    team_ids: list[int] | None = None,
    max_concurrent_chats: int = 3,
) -> Agent:
    actor.require(Permission.AGENTS_MANAGE)
    actor.require_can_grant(role)
    email = normalise_email(email).lower()
    if await uow.session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise Conflict("an agent with this email exists", field="email")
    if not name.strip():
        raise ValidationFailed("a name is required", field="name")
    if max_concurrent_chats < 1:
        raise ValidationFailed("must be at least 1", field="max_concurrent_chats")
    now = uow.clock.now()
    agent = Agent(
        email=email,
        name=name.strip(),
        role=role.value,
        password_hash=hash_password(_check_password(password)) if password else None,
        languages=_check_languages(languages, supported=supported_languages),
        max_concurrent_chats=max_concurrent_chats,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    agent.teams = await _load_teams(uow, team_ids or [])
    uow.session.add(agent)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="agent.created",
        entity_type="agent",
        entity_id=agent.id,
        details={"email": email, "role": role.value},
    )
    await uow.commit()
    return agent


@dataclass(frozen=True, kw_only=True)
class AgentChanges:
    """Fields left as None are not changed."""

    name: str | None = None
    role: AgentRole | None = None
    languages: list[str] | None = None
    team_ids: list[int] | None = None
    max_concurrent_chats: int | None = None
    is_active: bool | None = None
    password: str | None = None


async def update_agent(
    uow: UnitOfWork,
    *,
    actor: Actor,
    agent_id: int,
    changes: AgentChanges,
    supported_languages: list[str],
) -> Agent:
    actor.require(Permission.AGENTS_MANAGE)
    agent = await _load_agent(uow, agent_id)
    # Whoever may not grant the target's current role may not edit that agent at all.
    actor.require_can_grant(AgentRole(agent.role))
    changed: dict[str, object] = {}
    role_changed = False
    if changes.name is not None:
        if not changes.name.strip():
            raise ValidationFailed("a name is required", field="name")
        agent.name = changes.name.strip()
        changed["name"] = agent.name
    if changes.role is not None and changes.role.value != agent.role:
        actor.require_can_grant(changes.role)
        if agent.id == actor.agent_id:
            raise Conflict("you cannot change your own role", field="role")
        audit.record(
            uow,
            actor=actor,
            action="agent.role_changed",
            entity_type="agent",
            entity_id=agent.id,
            details={"from": agent.role, "to": changes.role.value},
        )
        agent.role = changes.role.value
        role_changed = True
    if changes.languages is not None:
        agent.languages = _check_languages(changes.languages, supported=supported_languages)
        changed["languages"] = agent.languages
    if changes.team_ids is not None:
        agent.teams = await _load_teams(uow, changes.team_ids)
        changed["team_ids"] = [team.id for team in agent.teams]
    if changes.max_concurrent_chats is not None:
        if changes.max_concurrent_chats < 1:
            raise ValidationFailed("must be at least 1", field="max_concurrent_chats")
        agent.max_concurrent_chats = changes.max_concurrent_chats
        changed["max_concurrent_chats"] = agent.max_concurrent_chats
    if changes.is_active is not None and changes.is_active != agent.is_active:
        if agent.id == actor.agent_id and not changes.is_active:
            raise Conflict("you cannot deactivate yourself", field="is_active")
        agent.is_active = changes.is_active
        changed["is_active"] = agent.is_active
    if changes.password is not None:
        agent.password_hash = hash_password(_check_password(changes.password))
        changed["password"] = "changed"
    agent.updated_at = uow.clock.now()
    if role_changed or changed.keys() & {"name", "is_active", "password"}:
        # Cached authentications carry the role, activity and name: void them everywhere.
        uow.publish_on_commit(AgentAccessChanged(occurred_at=agent.updated_at, agent_id=agent.id))
    if changed:
        audit.record(
            uow,
            actor=actor,
            action="agent.updated",
            entity_type="agent",
            entity_id=agent.id,
            details=changed,
        )
    await uow.commit()
    return agent


async def get_agent(uow: UnitOfWork, *, actor: Actor, agent_id: int) -> Agent:
    if agent_id != actor.agent_id:
        actor.require(Permission.AGENTS_READ)
    return await _load_agent(uow, agent_id)


async def list_agents(uow: UnitOfWork, *, actor: Actor) -> list[Agent]:
    actor.require(Permission.AGENTS_READ)
    rows = await uow.session.scalars(
        select(Agent).options(selectinload(Agent.teams)).order_by(Agent.id)
    )
    return list(rows.all())


async def find_agent_by_email(uow: UnitOfWork, *, email: str) -> Agent | None:
    return await uow.session.scalar(select(Agent).where(Agent.email == email.strip().lower()))


async def create_team(uow: UnitOfWork, *, actor: Actor, name: str, description: str = "") -> Team:
    actor.require(Permission.TEAMS_MANAGE)
    name = name.strip()
    if not name:
        raise ValidationFailed("a name is required", field="name")
    if await uow.session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict("a team with this name exists", field="name")
    team = Team(name=name, description=description.strip(), created_at=uow.clock.now())
    uow.session.add(team)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="team.created",
        entity_type="team",
        entity_id=team.id,
        details={"name": name},
    )
    await uow.commit()
    return team


async def update_team(
    uow: UnitOfWork,
    *,
    actor: Actor,
    team_id: int,
    name: str | None = None,
    description: str | None = None,
) -> Team:
    actor.require(Permission.TEAMS_MANAGE)
    team = await uow.session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team", field="team_id")
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed("a name is required", field="name")
        clash = await uow.session.scalar(
            select(Team.id).where(Team.name == name, Team.id != team_id)
        )
        if clash is not None:
            raise Conflict("a team with this name exists", field="name")
        team.name = name
    if description is not None:
        team.description = description.strip()
    audit.record(uow, actor=actor, action="team.updated", entity_type="team", entity_id=team.id)
    await uow.commit()
    return team


async def _team_references(uow: UnitOfWork, team: Team) -> list[str]:
    """What still depends on a team, in words an admin can act on; empty when nothing."""
    session = uow.session
    found: list[str] = []
    if team.purpose:
        found.append(f"it is the {team.purpose.replace('_', ' ')} team: give that role to another")
    rules = list(
        await session.scalars(select(RoutingRuleRow.name).where(RoutingRuleRow.team_id == team.id))
    )
    if rules:
        found.append("routing rules send conversations to it: " + ", ".join(sorted(rules)))
    escalations = list(
        await session.scalars(
            select(EscalationRuleRow.name).where(EscalationRuleRow.move_to_team_id == team.id)
        )
    )
    if escalations:
        found.append("escalation rules move conversations to it: " + ", ".join(escalations))
    # A JSON list on both engines: read and checked here (a handful of policies).
    policies = [
        name
        for name, team_ids in await session.execute(
            select(SlaPolicyRow.name, SlaPolicyRow.team_ids)
        )
        if team.id in (team_ids or [])
    ]
    if policies:
        found.append("SLA policies match it: " + ", ".join(policies))
    canned = await session.scalar(
        select(func.count())
        .select_from(CannedReply)
        .where(or_(CannedReply.team_id == team.id, CannedReply.move_to_team_id == team.id))
    )
    if canned:
        found.append(f"{canned} canned replies are kept for it or move conversations to it")
    waiting = await session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.team_id == team.id, Ticket.status.in_(sorted(UNRESOLVED_STATUSES)))
    )
    if waiting:
        found.append(f"{waiting} unresolved conversations are with it: move them first")
    return found


async def delete_team(uow: UnitOfWork, *, actor: Actor, team_id: int) -> None:
    """Delete a team nothing depends on any more. Its members stay (they leave the team);
    resolved conversations keep their history without it. Refused, saying what still
    depends on it, otherwise: routing never points at a team that is gone."""
    actor.require(Permission.TEAMS_MANAGE)
    team = await uow.session.get(Team, team_id, with_for_update=True)
    if team is None:
        raise NotFound("no such team", field="team_id")
    references = await _team_references(uow, team)
    if references:
        raise Conflict("the team is still in use: " + "; ".join(references), field="team_id")
    audit.record(
        uow,
        actor=actor,
        action="team.deleted",
        entity_type="team",
        entity_id=team.id,
        details={"name": team.name},
    )
    await uow.session.delete(team)
    await floor_config.commit_change(uow)


async def list_teams(uow: UnitOfWork, *, actor: Actor) -> list[Team]:
    actor.require(Permission.TEAMS_READ)
    return list((await uow.session.scalars(select(Team).order_by(Team.name))).all())


async def display_names(
    uow: UnitOfWork, *, actor: Actor, agent_ids: Iterable[int | None]
) -> dict[int, str]:
    """Agents' names as shown next to their messages and assignments: any agent may see
    them (the roster itself, with emails and roles, stays senior and above)."""
    actor.require(Permission.TICKETS_READ)
    wanted = {agent_id for agent_id in agent_ids if agent_id is not None}
    if not wanted:
        return {}
    rows = await uow.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(wanted)))
    return {int(agent_id): str(name) for agent_id, name in rows}
