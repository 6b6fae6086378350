"""Two small reads the console needs that no use case offers yet.

- Agents' display names for message authors and assignees. Every console already receives
  them with each live message (`author_name`); the roster itself (`list_agents`, emails,
  roles, teams) stays senior+.
- The casino's id of a ticket's player, the key that `services.players.view_player` (the
  audited read of personal data) takes. No personal data is read here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from playerdesk.db.models import Agent, Player
from playerdesk.db.uow import UnitOfWork


async def agent_names(uow: UnitOfWork, agent_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {agent_id for agent_id in agent_ids if agent_id is not None}
    if not wanted:
        return {}
    rows = await uow.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(wanted)))
    return {int(agent_id): str(name) for agent_id, name in rows}


async def player_external_id(uow: UnitOfWork, player_id: int) -> str | None:
    external_id = await uow.session.scalar(select(Player.external_id).where(Player.id == player_id))
    return str(external_id) if external_id is not None else None
