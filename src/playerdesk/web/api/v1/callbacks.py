"""The callback queue: agents calling players back. Players ask in the help centre
(web/helpcenter/callback.py), never through this API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from playerdesk.domain.phone import CallbackStatus
from playerdesk.services import callbacks as callback_service
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.phone import callback_policy
from playerdesk.web.schemas.calls import (
    CallbackAssignIn,
    CallbackOut,
    CallbackOutcomeIn,
)

router = APIRouter(prefix="/callbacks", tags=["phone"])


def _out(item: callback_service.QueuedCallback) -> CallbackOut:
    return CallbackOut.model_validate(item.callback).model_copy(
        update={
            "player_name": item.player_name,
            "vip_tier": item.vip_tier,
            "agent_name": item.agent_name,
        }
    )


@router.get("")
async def list_callbacks(
    uow: ReadUowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    status_: Annotated[list[CallbackStatus], Query(alias="status")] = [],  # noqa: B006
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[CallbackOut]:
    """Waiting and assigned callbacks unless `status` says otherwise: highest VIP tier first,
    then the earliest due."""
    items = await callback_service.list_callbacks(
        uow,
        actor=actor,
        statuses=status_,
        agent_id=actor.agent_id if mine else None,
        limit=limit,
        vip_tiers=list(runtime.settings.vip_tiers),
    )
    return [_out(item) for item in items]


@router.post("/{callback_id}/assign")
async def assign_callback(
    callback_id: IdPath, body: CallbackAssignIn, uow: UowDep, actor: CurrentActor
) -> CallbackOut:
    callback = await callback_service.assign_callback(
        uow, actor=actor, callback_id=callback_id, agent_id=body.agent_id
    )
    return CallbackOut.model_validate(callback)


@router.post("/{callback_id}/outcome")
async def record_outcome(
    callback_id: IdPath,
    body: CallbackOutcomeIn,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> CallbackOut:
    """After "call now": `done` with what was agreed, or `failed` (nobody answered): it is
    tried again later, and given up after the last attempt."""
    callback = await callback_service.record_callback_outcome(
        uow,
        actor=actor,
        callback_id=callback_id,
        reached=body.outcome == "done",
        note=body.note,
        policy=callback_policy(runtime),
    )
    return CallbackOut.model_validate(callback)
