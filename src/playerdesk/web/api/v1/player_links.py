from __future__ import annotations

from fastapi import APIRouter

from playerdesk.services import player_links as player_link_service
from playerdesk.web.deps import CurrentActor, IdPath, RuntimeDep, UowDep
from playerdesk.web.schemas.player_links import PlayerLinkCreate, PlayerLinkOut

router = APIRouter(prefix="/tickets", tags=["players"])


@router.post("/{ticket_id}/player-link")
async def link_player(
    ticket_id: IdPath,
    body: PlayerLinkCreate,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> PlayerLinkOut:
    """Link the messenger chat (Telegram, WhatsApp, Viber) of this conversation to the casino
    player the agent verified: the chat and the conversations that came through it move to
    that player, and the console shows their casino account. Written to the audit log.

    Refused with 409 when the chat is linked to another casino account, unless `relink` is
    set by a role that may move chats (`players.relink`); 422 for a conversation on another
    channel or an id the back office does not know."""
    linked = await player_link_service.link_ticket_chat(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        external_id=body.external_id,
        relink=body.relink,
        policy=runtime.policies.players,
        backend=runtime.casino,
    )
    return PlayerLinkOut.of(linked)
