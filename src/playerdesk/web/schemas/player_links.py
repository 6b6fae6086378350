"""Linking the messenger chat of a conversation to a casino account."""

from __future__ import annotations

from pydantic import Field

from playerdesk.services.player_links import LinkedIdentity
from playerdesk.web.schemas.common import RequestModel, ResponseModel


class PlayerLinkCreate(RequestModel):
    external_id: str = Field(
        min_length=1,
        max_length=100,
        description="The casino's id of the player the agent verified; with a back office "
        "connected it must be one the back office knows",
    )
    relink: bool = Field(
        default=False,
        description="Move a chat that is linked to another casino account (roles with "
        "`players.relink`: supervisors and admins); without it such a chat is refused (409)",
    )


class PlayerLinkOut(ResponseModel):
    player_id: int = Field(description="The casino player the chat belongs to now")
    external_id: str
    moved_ticket_ids: list[int] = Field(
        description="The conversations that moved to the casino player with the chat"
    )
    changed: bool = Field(description="False when the chat was already linked to this player")

    @classmethod
    def of(cls, linked: LinkedIdentity) -> PlayerLinkOut:
        return cls(
            player_id=linked.player_id,
            external_id=linked.external_id,
            moved_ticket_ids=list(linked.moved_ticket_ids),
            changed=linked.changed,
        )
