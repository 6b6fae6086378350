"""`POST /api/v1/cti/events`: calls reported by a PBX or cloud telephony (docs/API.md)."""

from __future__ import annotations

from fastapi import APIRouter, status

from playerdesk.domain.permissions import Permission
from playerdesk.domain.phone import CallEventKind
from playerdesk.services import cti
from playerdesk.web.deps import CurrentActor, RuntimeDep, UowDep
from playerdesk.web.phone import phone_policy
from playerdesk.web.schemas.calls import CtiEventIn, CtiEventOut

router = APIRouter(prefix="/cti", tags=["phone"])

KNOWN_EVENTS = {kind.value: kind for kind in CallEventKind}


@router.post("/events", status_code=status.HTTP_202_ACCEPTED)
async def receive_cti_event(
    body: CtiEventIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> CtiEventOut:
    kind = KNOWN_EVENTS.get(body.event)
    if kind is None:
        # Acknowledged, or the PBX would retry an event we will never understand.
        actor.require(Permission.CTI_EVENTS)
        return CtiEventOut(status="ignored")
    result = await cti.record_call_event(
        uow,
        actor=actor,
        event=cti.CallEvent(
            kind=kind,
            call_id=body.call_id,
            direction=body.direction,
            from_number=body.from_number,
            to_number=body.to_number,
            queue=body.queue,
            agent_email=body.agent,
            cause=body.cause,
            recording_url=body.recording_url,
            duration_seconds=body.duration_seconds,
            occurred_at=body.occurred_at,
        ),
        policy=phone_policy(runtime),
    )
    return CtiEventOut(
        status="duplicate" if result.duplicate else "processed",
        call=result.call.id,
        player_id=result.call.player_id,
        ticket_id=result.call.ticket_id,
        callback_id=result.callback_id,
    )
