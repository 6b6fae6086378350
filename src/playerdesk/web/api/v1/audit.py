from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from playerdesk.services import audit as audit_service
from playerdesk.web.deps import MAX_ID, CurrentActor, ReadUowDep
from playerdesk.web.schemas.common import PageOut, SafeStr
from playerdesk.web.schemas.people import AuditOut

router = APIRouter(prefix="/audit", tags=["audit log"])


@router.get("")
async def list_audit(
    uow: ReadUowDep,
    actor: CurrentActor,
    action: Annotated[SafeStr | None, Query(max_length=64)] = None,
    entity_type: Annotated[SafeStr | None, Query(max_length=32)] = None,
    entity_id: Annotated[SafeStr | None, Query(max_length=64)] = None,
    actor_agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[SafeStr | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PageOut[AuditOut]:
    page = await audit_service.list_entries(
        uow,
        actor=actor,
        filters=audit_service.AuditFilter(
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            actor_agent_id=actor_agent_id,
        ),
        cursor=cursor,
        limit=limit,
    )
    return PageOut[AuditOut](
        items=[AuditOut.model_validate(entry) for entry in page.items],
        next_cursor=page.next_cursor,
    )
