from __future__ import annotations

from fastapi import APIRouter, status

from playerdesk.services import agents as agent_service
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.people import (
    AgentCreate,
    AgentOut,
    AgentPatch,
    TeamCreate,
    TeamOut,
    TeamPatch,
)

router = APIRouter(tags=["agents and teams"])


@router.get("/agents")
async def list_agents(uow: ReadUowDep, actor: CurrentActor) -> list[AgentOut]:
    return [AgentOut.of(agent) for agent in await agent_service.list_agents(uow, actor=actor)]


@router.get("/agents/me")
async def get_me(uow: ReadUowDep, actor: CurrentActor) -> AgentOut:
    assert actor.agent_id is not None
    return AgentOut.of(await agent_service.get_agent(uow, actor=actor, agent_id=actor.agent_id))


@router.get("/agents/{agent_id}")
async def get_agent(agent_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> AgentOut:
    return AgentOut.of(await agent_service.get_agent(uow, actor=actor, agent_id=agent_id))


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def create_agent(
    body: AgentCreate, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> AgentOut:
    agent = await agent_service.create_agent(
        uow,
        actor=actor,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        languages=body.languages,
        supported_languages=runtime.policies.players.languages,
        team_ids=body.team_ids,
        max_concurrent_chats=body.max_concurrent_chats,
    )
    return AgentOut.of(agent)


@router.patch("/agents/{agent_id}")
async def update_agent(
    agent_id: IdPath, body: AgentPatch, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> AgentOut:
    agent = await agent_service.update_agent(
        uow,
        actor=actor,
        agent_id=agent_id,
        changes=agent_service.AgentChanges(**body.model_dump(exclude_unset=True)),
        supported_languages=runtime.policies.players.languages,
    )
    return AgentOut.of(agent)


@router.get("/teams")
async def list_teams(uow: ReadUowDep, actor: CurrentActor) -> list[TeamOut]:
    return [
        TeamOut.model_validate(team) for team in await agent_service.list_teams(uow, actor=actor)
    ]


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(body: TeamCreate, uow: UowDep, actor: CurrentActor) -> TeamOut:
    team = await agent_service.create_team(
        uow, actor=actor, name=body.name, description=body.description
    )
    return TeamOut.model_validate(team)


@router.patch("/teams/{team_id}")
async def update_team(
    team_id: IdPath, body: TeamPatch, uow: UowDep, actor: CurrentActor
) -> TeamOut:
    team = await agent_service.update_team(
        uow, actor=actor, team_id=team_id, name=body.name, description=body.description
    )
    return TeamOut.model_validate(team)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(team_id: IdPath, uow: UowDep, actor: CurrentActor) -> None:
    """409 with what still depends on the team (routing and escalation rules, SLA policies,
    a team role, canned replies, unresolved conversations)."""
    await agent_service.delete_team(uow, actor=actor, team_id=team_id)
