"""Players, agents, teams, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from playerdesk.db.models import Agent
from playerdesk.domain.enums import AgentRole
from playerdesk.web.schemas.common import RequestModel, ResponseModel
from playerdesk.web.schemas.tickets import Id


class PlayerPut(RequestModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=8)
    country: str | None = Field(default=None, max_length=2)
    vip_tier: str | None = Field(default=None, max_length=32)
    personal_manager_id: Id | None = None


class PlayerOut(ResponseModel):
    id: int
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    language: str
    country: str | None
    vip_tier: str | None
    personal_manager_id: int | None
    created_at: datetime
    updated_at: datetime


class TeamCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)


class TeamPatch(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class TeamOut(ResponseModel):
    id: int
    name: str
    description: str


class AgentCreate(RequestModel):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: AgentRole = AgentRole.AGENT
    password: str | None = Field(default=None, max_length=200)
    languages: list[str] = Field(default_factory=list, max_length=20)
    team_ids: list[Id] = Field(default_factory=list, max_length=50)
    max_concurrent_chats: int = Field(default=3, ge=1, le=50)


class AgentPatch(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: AgentRole | None = None
    languages: list[str] | None = Field(default=None, max_length=20)
    team_ids: list[Id] | None = Field(default=None, max_length=50)
    max_concurrent_chats: int | None = Field(default=None, ge=1, le=50)
    is_active: bool | None = None
    password: str | None = Field(default=None, max_length=200)


class AgentOut(ResponseModel):
    id: int
    email: str
    name: str
    role: AgentRole
    languages: list[str]
    team_ids: list[int]
    max_concurrent_chats: int
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls(
            id=agent.id,
            email=agent.email,
            name=agent.name,
            role=AgentRole(agent.role),
            languages=list(agent.languages),
            team_ids=[team.id for team in agent.teams],
            max_concurrent_chats=agent.max_concurrent_chats,
            is_active=agent.is_active,
            created_at=agent.created_at,
        )


class TokenCreate(RequestModel):
    label: str = Field(min_length=1, max_length=100)


class TokenOut(ResponseModel):
    id: int
    agent_id: int
    label: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenOut):
    token: str


class AuditOut(ResponseModel):
    id: int
    at: datetime
    actor_agent_id: int | None
    actor_method: str
    actor_token_id: int | None
    ip: str | None
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any]
