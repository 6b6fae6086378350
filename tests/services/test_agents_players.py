from __future__ import annotations

import pytest
from sqlalchemy import select

from playerdesk.db.models import AuditEntry, ChannelIdentity
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from playerdesk.runtime import Runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import players as player_service
from tests.conftest import AgentFactory


async def audit_rows(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        return list(
            (await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
        )


async def create(runtime: Runtime, actor, role: AgentRole, email: str):  # type: ignore[no-untyped-def]
    async with runtime.uow() as uow:
        return await agent_service.create_agent(
            uow,
            actor=actor,
            email=email,
            name="New Agent",
            role=role,
            password=None,
            languages=["pl", "en"],
            supported_languages=runtime.policies.players.languages,
        )


@pytest.mark.parametrize(
    ("creator", "new_role", "allowed"),
    [
        (AgentRole.AGENT, AgentRole.AGENT, False),
        (AgentRole.SENIOR, AgentRole.AGENT, False),
        (AgentRole.SUPERVISOR, AgentRole.SENIOR, True),
        (AgentRole.SUPERVISOR, AgentRole.SUPERVISOR, True),
        (AgentRole.SUPERVISOR, AgentRole.ADMIN, False),
        (AgentRole.ADMIN, AgentRole.ADMIN, True),
    ],
)
async def test_who_may_create_which_role(
    runtime: Runtime,
    make_agent: AgentFactory,
    creator: AgentRole,
    new_role: AgentRole,
    allowed: bool,
) -> None:
    boss = await make_agent(creator)
    if allowed:
        agent = await create(runtime, boss.actor, new_role, "new@example.test")
        assert agent.role == new_role.value and agent.languages == ["pl", "en"]
        assert len(await audit_rows(runtime, "agent.created")) == 2  # the fixture's and this one
    else:
        with pytest.raises(PermissionDenied):
            await create(runtime, boss.actor, new_role, "new@example.test")
        async with runtime.uow() as uow:
            assert await agent_service.find_agent_by_email(uow, email="new@example.test") is None


async def test_role_change_is_audited_and_limited(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    admin = await make_agent(AgentRole.ADMIN)
    worker = await make_agent(AgentRole.AGENT)
    async with runtime.uow() as uow:
        await agent_service.update_agent(
            uow,
            actor=supervisor.actor,
            agent_id=worker.id,
            changes=agent_service.AgentChanges(role=AgentRole.SENIOR),
            supported_languages=["en"],
        )
    [entry] = await audit_rows(runtime, "agent.role_changed")
    assert entry.details == {"from": "agent", "to": "senior"}
    assert entry.actor_agent_id == supervisor.id
    with pytest.raises(PermissionDenied):  # a supervisor may not touch an admin
        async with runtime.uow() as uow:
            await agent_service.update_agent(
                uow,
                actor=supervisor.actor,
                agent_id=admin.id,
                changes=agent_service.AgentChanges(name="Renamed"),
                supported_languages=["en"],
            )
    with pytest.raises(Conflict):
        async with runtime.uow() as uow:
            await agent_service.update_agent(
                uow,
                actor=admin.actor,
                agent_id=admin.id,
                changes=agent_service.AgentChanges(role=AgentRole.AGENT),
                supported_languages=["en"],
            )


async def test_agent_validation(runtime: Runtime, make_agent: AgentFactory) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    with pytest.raises(Conflict):
        await create(runtime, admin.actor, AgentRole.AGENT, admin.email.upper())
    with pytest.raises(ValidationFailed) as caught:
        async with runtime.uow() as uow:
            await agent_service.create_agent(
                uow,
                actor=admin.actor,
                email="x@example.test",
                name="X",
                role=AgentRole.AGENT,
                password="short",
                languages=[],
                supported_languages=["en"],
            )
    assert caught.value.field == "password"
    with pytest.raises(ValidationFailed) as caught:
        async with runtime.uow() as uow:
            await agent_service.create_agent(
                uow,
                actor=admin.actor,
                email="x@example.test",
                name="X",
                role=AgentRole.AGENT,
                password=None,
                languages=["xx"],
                supported_languages=["en"],
            )
    assert caught.value.field == "languages"


async def test_teams_and_membership(runtime: Runtime, make_agent: AgentFactory) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    agent = await make_agent()
    async with runtime.uow() as uow:
        payments = await agent_service.create_team(uow, actor=supervisor.actor, name="Payments")
    with pytest.raises(Conflict):
        async with runtime.uow() as uow:
            await agent_service.create_team(uow, actor=supervisor.actor, name="Payments")
    with pytest.raises(PermissionDenied):
        async with runtime.uow() as uow:
            await agent_service.create_team(uow, actor=agent.actor, name="Rogue")
    async with runtime.uow() as uow:
        updated = await agent_service.update_agent(
            uow,
            actor=supervisor.actor,
            agent_id=agent.id,
            changes=agent_service.AgentChanges(team_ids=[payments.id]),
            supported_languages=["en"],
        )
    assert [team.name for team in updated.teams] == ["Payments"]
    with pytest.raises(ValidationFailed) as caught:
        async with runtime.uow() as uow:
            await agent_service.update_agent(
                uow,
                actor=supervisor.actor,
                agent_id=agent.id,
                changes=agent_service.AgentChanges(team_ids=[payments.id, 999]),
                supported_languages=["en"],
            )
    assert caught.value.field == "team_ids"


async def test_player_upsert_identity_and_viewing_is_audited(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    manager = await make_agent(AgentRole.SENIOR)
    policy = runtime.policies.players
    fields = player_service.PlayerFields(
        name="Erik Svensson",
        email="erik@example.se",
        language="sv",
        country="se",
        vip_tier="Gold",
        personal_manager_id=manager.id,
    )
    async with runtime.uow() as uow:
        first = await player_service.upsert_player(
            uow, actor=agent.actor, external_id="C-77", fields=fields, policy=policy
        )
    assert first.created and first.player.vip_tier == "gold" and first.player.country == "SE"
    async with runtime.uow() as uow:
        again = await player_service.upsert_player(
            uow,
            actor=agent.actor,
            external_id="C-77",
            fields=player_service.PlayerFields(email="erik.s@example.se"),
            policy=policy,
        )
    assert not again.created and again.player.id == first.player.id
    async with runtime.uow() as uow:
        addresses = set((await uow.session.scalars(select(ChannelIdentity.address))).all())
    assert addresses == {"erik@example.se", "erik.s@example.se"}

    async with runtime.uow() as uow:
        seen = await player_service.view_player(uow, actor=agent.actor, external_id="C-77")
    assert seen.name == "Erik Svensson"
    [viewed] = await audit_rows(runtime, "player.viewed")
    assert viewed.actor_agent_id == agent.id and viewed.actor_token_id == agent.actor.token_id

    with pytest.raises(NotFound):
        async with runtime.uow() as uow:
            await player_service.view_player(uow, actor=agent.actor, external_id="nope")
    with pytest.raises(ValidationFailed) as caught:
        async with runtime.uow() as uow:
            await player_service.upsert_player(
                uow,
                actor=agent.actor,
                external_id="C-78",
                fields=player_service.PlayerFields(vip_tier="diamond"),
                policy=policy,
            )
    assert caught.value.field == "vip_tier"


async def test_an_email_belongs_to_one_player(runtime: Runtime, make_agent: AgentFactory) -> None:
    agent = await make_agent()
    policy = runtime.policies.players
    async with runtime.uow() as uow:
        await player_service.upsert_player(
            uow,
            actor=agent.actor,
            external_id="A",
            policy=policy,
            fields=player_service.PlayerFields(email="shared@example.test"),
        )
    with pytest.raises(Conflict) as caught:
        async with runtime.uow() as uow:
            await player_service.upsert_player(
                uow,
                actor=agent.actor,
                external_id="B",
                policy=policy,
                fields=player_service.PlayerFields(email="shared@example.test"),
            )
    assert caught.value.field == "email"
