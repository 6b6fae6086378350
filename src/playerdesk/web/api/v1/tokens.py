from __future__ import annotations

from fastapi import APIRouter, status

from playerdesk.services import auth
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, UowDep
from playerdesk.web.schemas.people import TokenCreate, TokenIssued, TokenOut

router = APIRouter(prefix="/tokens", tags=["API tokens"])


@router.get("")
async def list_my_tokens(uow: ReadUowDep, actor: CurrentActor) -> list[TokenOut]:
    assert actor.agent_id is not None
    records = await auth.list_api_tokens(uow, actor=actor, agent_id=actor.agent_id)
    return [TokenOut.model_validate(record) for record in records]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_token(body: TokenCreate, uow: UowDep, actor: CurrentActor) -> TokenIssued:
    assert actor.agent_id is not None
    issued = await auth.create_api_token(
        uow, actor=actor, agent_id=actor.agent_id, label=body.label
    )
    return TokenIssued(**TokenOut.model_validate(issued.record).model_dump(), token=issued.token)


@router.delete("/{token_id}")
async def revoke_token(token_id: IdPath, uow: UowDep, actor: CurrentActor) -> TokenOut:
    record = await auth.revoke_api_token(uow, actor=actor, token_id=token_id)
    return TokenOut.model_validate(record)
