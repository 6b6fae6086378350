from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from playerdesk.services import players as player_service
from playerdesk.web.deps import CurrentActor, RuntimeDep, UowDep
from playerdesk.web.schemas.common import SafeStr
from playerdesk.web.schemas.people import PlayerOut, PlayerPut

router = APIRouter(prefix="/players", tags=["players"])

ExternalId = Annotated[SafeStr, Path(min_length=1, max_length=100)]


@router.put(
    "/{external_id}",
    responses={
        200: {"description": "The player existed and was updated"},
        201: {"model": PlayerOut, "description": "The player was created"},
    },
)
async def upsert_player(
    external_id: ExternalId,
    body: PlayerPut,
    response: Response,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> PlayerOut:
    result = await player_service.upsert_player(
        uow,
        actor=actor,
        external_id=external_id,
        fields=player_service.PlayerFields(**body.model_dump(exclude_unset=True)),
        policy=runtime.policies.players,
    )
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return PlayerOut.model_validate(result.player)


@router.get("/{external_id}")
async def get_player(external_id: ExternalId, uow: UowDep, actor: CurrentActor) -> PlayerOut:
    player = await player_service.view_player(uow, actor=actor, external_id=external_id)
    return PlayerOut.model_validate(player)
